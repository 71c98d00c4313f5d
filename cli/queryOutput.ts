/**
 * Prints `clickstream query` rows as they arrive, one page at a time: a box table for people, or
 * csv, a JSON array, or JSON lines for programs. Every writer holds one page at most, so a result
 * of any size streams through. Values are made printable the same way for every backend.
 */
import { PipelineError } from '../core/errors';

export const QUERY_FORMATS = ['table', 'csv', 'json', 'ndjson'] as const;
export type QueryFormat = (typeof QUERY_FORMATS)[number];

export type Row = Record<string, unknown>;

export interface RowWriter {
  /** Prints one page; resolves once it was handed to the output (backpressure for a slow reader). */
  page(rows: Row[]): Promise<void>;
  /** Prints what closes the output (the table's bottom line, the array's bracket). */
  end(): Promise<void>;
  /** True when the table cut a value to its column's width (csv and JSON never cut). */
  readonly truncated: boolean;
}

/** `--format` and the older `--json` (JSON lines), checked before anything runs. */
export function queryFormatArg(format: string | undefined, json: boolean | undefined): QueryFormat {
  if (format !== undefined && !(QUERY_FORMATS as readonly string[]).includes(format)) {
    throw new PipelineError('InvalidInput', `--format must be one of ${QUERY_FORMATS.join(', ')}; got '${format}'`, { details: { field: '--format' } });
  }
  if (json && format !== undefined && format !== 'ndjson') {
    throw new PipelineError('InvalidInput', `--json means --format ndjson; drop one of --json and --format ${format}`, { details: { field: '--json' } });
  }
  return json ? 'ndjson' : ((format as QueryFormat | undefined) ?? 'table');
}

/**
 * A value as JSON can carry it: DuckDB's BIGINT arrives as a bigint (a number when it is exact,
 * else its digits), timestamps as Dates (ISO text), blobs as bytes (\x hex); nested values recurse.
 */
export function plainValue(v: unknown): unknown {
  if (v === undefined || v === null) return null;
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? String(v) : v.toISOString();
  if (v instanceof Uint8Array) return `\\x${Buffer.from(v).toString('hex')}`;
  if (Array.isArray(v)) return v.map(plainValue);
  if (typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plainValue(x)]));
  return v;
}

/** A value as one line of text: null as NULL (table) or empty (csv), nested values as JSON. */
function cellText(v: unknown, nullText: string): string {
  const p = plainValue(v);
  if (p === null) return nullText;
  if (typeof p === 'object') return JSON.stringify(p);
  return String(p);
}

/** Writes to stdout and resolves once it took the text, so the query command fetches its next page only then. */
export function writeStdout(text: string): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(text, (err) => (err ? reject(err) : resolve())));
}

export function createRowWriter(format: QueryFormat, write: (text: string) => Promise<void>, opts: { maxColumnWidth?: number } = {}): RowWriter {
  switch (format) {
    case 'ndjson':
      return simpleWriter(write, (rows) => rows.map((r) => `${JSON.stringify(plainValue(r))}\n`).join(''));
    case 'json':
      return jsonArrayWriter(write);
    case 'csv':
      return csvWriter(write);
    case 'table':
      return new BoxTableWriter(write, opts.maxColumnWidth ?? 60);
  }
}

function simpleWriter(write: (text: string) => Promise<void>, render: (rows: Row[]) => string): RowWriter {
  return { truncated: false, page: async (rows) => write(render(rows)), end: async () => {} };
}

/** One JSON array, streamed: `[`, the rows separated by commas as they come, `]`. */
function jsonArrayWriter(write: (text: string) => Promise<void>): RowWriter {
  let started = false;
  return {
    truncated: false,
    async page(rows) {
      if (rows.length === 0) return;
      const body = rows.map((r) => `  ${JSON.stringify(plainValue(r))}`).join(',\n');
      await write(`${started ? ',\n' : '[\n'}${body}`);
      started = true;
    },
    end: () => write(started ? '\n]\n' : '[]\n'),
  };
}

/** RFC 4180 csv: a header from the first row's columns; a field with a comma, quote, line break or edge space is quoted. */
function csvWriter(write: (text: string) => Promise<void>): RowWriter {
  let columns: string[] | undefined;
  const field = (s: string) => (/[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  return {
    truncated: false,
    async page(rows) {
      if (rows.length === 0) return;
      let text = '';
      if (!columns) {
        columns = Object.keys(rows[0]!);
        text += `${columns.map(field).join(',')}\n`;
      }
      for (const r of rows) text += `${columns.map((c) => field(cellText(r[c], ''))).join(',')}\n`;
      await write(text);
    },
    end: async () => {},
  };
}

/**
 * A box-drawn table printed page by page. Column widths are fixed by the header and the first
 * page (at most maxWidth), since earlier lines are already out when later pages arrive; a longer
 * value is cut with '…' (and `truncated` says so). Numbers are right-aligned.
 */
class BoxTableWriter implements RowWriter {
  truncated = false;
  private columns: string[] | undefined;
  private widths: number[] = [];
  private numeric: boolean[] = [];
  private rows = 0;

  constructor(
    private readonly write: (text: string) => Promise<void>,
    private readonly maxWidth: number,
  ) {}

  async page(rows: Row[]): Promise<void> {
    if (rows.length === 0) return;
    const cells = (r: Row, cols: string[]) => cols.map((c) => oneLine(cellText(r[c], 'NULL')));
    let text = '';
    if (!this.columns) {
      const cols = Object.keys(rows[0]!);
      this.columns = cols;
      const texts = rows.map((r) => cells(r, cols));
      this.widths = cols.map((c, i) => Math.max(1, Math.min(this.maxWidth, Math.max(width(c), ...texts.map((t) => width(t[i]!))))));
      this.numeric = cols.map((c) => rows.every((r) => r[c] === null || r[c] === undefined || typeof r[c] === 'number' || typeof r[c] === 'bigint'));
      text += this.rule('┌', '┬', '┐') + this.line(cols.map(oneLine), false) + this.rule('├', '┼', '┤');
    }
    for (const r of rows) text += this.line(cells(r, this.columns), true);
    this.rows += rows.length;
    await this.write(text);
  }

  async end(): Promise<void> {
    const n = `(${this.rows} row${this.rows === 1 ? '' : 's'})\n`;
    await this.write(this.columns ? this.rule('└', '┴', '┘') + n : n);
  }

  private rule(left: string, mid: string, right: string): string {
    return `${left}${this.widths.map((w) => '─'.repeat(w + 2)).join(mid)}${right}\n`;
  }

  private line(texts: string[], alignNumbers: boolean): string {
    const padded = texts.map((t, i) => {
      const w = this.widths[i]!;
      let s = t;
      if (width(s) > w) {
        s = `${[...s].slice(0, w - 1).join('')}…`;
        this.truncated = true;
      }
      const pad = ' '.repeat(w - width(s));
      return alignNumbers && this.numeric[i] ? pad + s : s + pad;
    });
    return `│ ${padded.join(' │ ')} │\n`;
  }
}

/** Code points, not UTF-16 units (an emoji is one); wide East Asian characters still count as one. */
function width(s: string): number {
  return [...s].length;
}

/** Line breaks and tabs would break the box: shown escaped, as JSON writes them. */
function oneLine(s: string): string {
  return s.replace(/\r/g, '\\r').replace(/\n/g, '\\n').replace(/\t/g, '\\t');
}
