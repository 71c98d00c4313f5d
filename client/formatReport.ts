/** Human-readable views of hourly reports for the terminal. */
import type { HourReport } from '../core/contracts/hourly';

export function formatReport(r: HourReport): string {
  const c = r.counts;
  const d = r.durationsMs;
  return [
    `hour ${r.hour}: published -> ${r.location}`,
    `  raw: ${r.raw.objects} object(s), ${r.raw.bytes} bytes, fingerprint ${r.raw.fingerprint.slice(0, 12)}…`,
    `  rows: ${c.rawLines} raw lines = ${c.curatedRows} curated + ${c.rejected} rejected + ${c.duplicates} duplicates`,
    `  bytes read: curation ${r.bytesRead.curation}, validation ${r.bytesRead.validation}`,
    `  steps (ms): verify ${d.verify}, register ${d.register}, curate ${d.curate}, validate ${d.validate}, publish ${d.publish}, total ${d.total}`,
    `  publish: ${r.publish.outcome}${r.publish.previousLocation ? ` (replaced ${r.publish.previousLocation})` : ''}, ${r.publish.deletedObjects} superseded object(s) deleted`,
    `  workflow: ${r.workflowId} run ${r.runId}`,
  ].join('\n');
}

export interface HourSummaryRow {
  hour: string;
  status: string;
  raw_lines?: number;
  curated?: number;
  rejected?: number;
  duplicates?: number;
  detail?: string;
}

export function summaryTable(rows: HourSummaryRow[]): string {
  const header = ['hour', 'status', 'raw lines', 'curated', 'rejected', 'duplicates', 'detail'];
  const body = rows.map((r) => [r.hour, r.status, s(r.raw_lines), s(r.curated), s(r.rejected), s(r.duplicates), r.detail ?? '']);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

function s(n: number | undefined): string {
  return n === undefined ? '' : String(n);
}
