/**
 * The two ways DuckDB reads raw lines (sql/duckdb/setup_01_raw_lines.sql): 'exact' (read_text,
 * any file, line numbers) and 'plain' (the CSV scanner: parallel and streaming, used only where
 * clickstream_lines_are_plain proves it reads the same lines). Real DuckDB, real files: the
 * tricky hours of test/fixtures/trickyHours.ts, rewritten with LF line ends so the plain reader
 * may read them, must curate and count the same on both readers and as the fixture says.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { parseS3Uri, s3Uri } from '../../../core/locations';
import type { QueryRequest, QueryStatus } from '../../../lake/ports';
import { PLAIN_READER_MIN_BYTES, type DuckDbQueryEngine } from '../../../lake/local/duckdbEngine';
import { duckdbStatements } from '../../../lake/local/duckdbStatements';
import { TRICKY_HOUR, countsOf, fileBody, type TrickyFile, type TrickyHour } from '../../fixtures/trickyHours';
import { makeTestLake, type TestLake } from '../../support/testLake';

/** Bytes this process has read so far (/proc/self/io rchar): DuckDB reads in-process. */
async function bytesReadSoFar(): Promise<number> {
  return Number(/rchar:\s+(\d+)/.exec(await fs.readFile('/proc/self/io', 'utf8'))?.[1]);
}

/** The hour's lines, each ended by LF: what a plain file holds. A file's leading BOM would be eaten by the CSV scanner (and fail the proof), so such a file starts with a blank line. */
function withLfEnds(hour: TrickyHour): TrickyHour {
  const files = hour.files.map((f): TrickyFile => {
    const lines = f.lines.map(({ end: _end, ...line }) => line);
    const leadingBom = lines[0]?.text.startsWith('\uFEFF');
    return { name: f.name, lines: leadingBom ? [{ text: '', note: 'keeps the BOM off the file start', outcome: 'blank' }, ...lines] : lines };
  });
  return { ...hour, files };
}

/** One file of distinct valid events, more than PLAIN_READER_MIN_BYTES, so the engine takes the plain reader (smaller hours are read exactly without the proof). */
function padding(prefix: string): TrickyFile {
  const lines = [];
  for (let i = 0; lines.length * 100 < PLAIN_READER_MIN_BYTES * 1.2; i++) {
    lines.push({ text: `{"event_id":"${prefix}-${String(i).padStart(8, '0')}","user_id":"u${i % 50}","event_time":"2024-03-01T07:00:00Z","page_url":"https://shop.example.com/"}`, note: 'padding', outcome: 'curated' as const });
  }
  return { name: `part-zz-${prefix}.jsonl`, lines };
}

describe('lake/local line readers: plain (parallel CSV scan) and exact (read_text), real DuckDB', () => {
  let lake: TestLake;
  let engine: DuckDbQueryEngine;
  let n = 0;

  beforeEach(async () => {
    lake = await makeTestLake();
    engine = lake.backend.engine;
  });
  afterEach(async () => {
    await lake.cleanup();
  });

  async function writeHour(hour: TrickyHour): Promise<string[]> {
    const prefix = `raw/readers/run-${++n}/`;
    const uris: string[] = [];
    for (const f of hour.files) {
      await lake.backend.store.put(lake.config.lake.bucket, prefix + f.name, fileBody(f));
      uris.push(s3Uri(lake.config.lake.bucket, prefix + f.name));
    }
    return uris;
  }

  const plainProof = async (files: string[]) => (await engine.runNow('SELECT clickstream_lines_are_plain($raw_files) AS plain', { raw_files: files }))[0]?.plain;

  async function curatedRows(files: string[], reader: string) {
    return engine.runNow(`SELECT * FROM clickstream_curated_events($raw_files, $reader) ORDER BY event_time, event_id`, { raw_files: files, reader });
  }

  async function run(request: QueryRequest): Promise<{ status: QueryStatus; rows: Record<string, unknown>[] }> {
    const id = await engine.start(request);
    for (;;) {
      const status = await engine.status(id);
      if (status.state !== 'QUEUED' && status.state !== 'RUNNING') {
        return { status, rows: status.state === 'SUCCEEDED' ? await engine.results(id) : [] };
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  const request = (files: string[], tag: string) => ({
    rawFiles: files,
    stagingLocation: s3Uri(lake.config.lake.bucket, `staging/readers/${tag}-${++n}/`),
    partition: { year: '2024', month: '03', day: '01', hour: '07' },
    idempotencyToken: `line-readers-${tag}-${n}`.padEnd(32, '-'),
  });

  /** The same hour and staging, under the validation step's own token (the engine answers a repeated token with the first query). */
  const validationOf = (input: ReturnType<typeof request>) => ({ ...input, idempotencyToken: input.idempotencyToken.replace('line-readers', 'validation') });

  it('the tricky hour with LF ends is proven plain, and both readers curate and count it as the fixture says', async () => {
    const hour = withLfEnds(TRICKY_HOUR);
    const files = await writeHour(hour);
    assert.equal(await plainProof(files), true);

    const plain = await curatedRows(files, 'plain');
    const exact = await curatedRows(files, 'exact');
    assert.equal(plain.length, countsOf(hour).curatedRows);
    assert.deepEqual(plain, exact);
    // The kept copies the fixture pins (earliest event_time, then the smaller line text).
    for (const [eventId, userId] of Object.entries(TRICKY_HOUR.kept ?? {})) {
      assert.equal(plain.find((r) => r.event_id === eventId)?.user_id, userId, `kept copy of ${eventId}`);
    }

    for (const reader of ['plain', 'exact']) {
      const [counts] = await engine.runNow(
        `SELECT count(*) AS raw, count(*) FILTER (WHERE reject_reason IS NOT NULL) AS rejected FROM clickstream_checked_lines($raw_files, $reader)`,
        { raw_files: files, reader },
      );
      assert.deepEqual({ raw: Number(counts!.raw), rejected: Number(counts!.rejected) }, { raw: countsOf(hour).rawLines, rejected: countsOf(hour).rejected }, reader);
    }
  });

  it('through the engine, curation and validation of a plain hour give the fixture counts and the same Parquet rows as the exact reader', async () => {
    const lf = withLfEnds(TRICKY_HOUR);
    const hour = { ...lf, files: [...lf.files, padding('pad')] };
    const files = await writeHour(hour);
    const input = request(files, 'engine');
    const curated = await run(duckdbStatements.curateHour(input));
    assert.equal(curated.status.state, 'SUCCEEDED', curated.status.reason);
    assert.equal(curated.status.stats.lineReader, 'plain');
    const validated = await run(duckdbStatements.validationCounts(validationOf(input)));
    assert.equal(validated.status.state, 'SUCCEEDED', validated.status.reason);
    assert.equal(validated.status.stats.lineReader, 'plain');
    const [v] = validated.rows;
    const expected = countsOf(hour);
    assert.deepEqual(
      { rawLines: Number(v!.raw_lines), curatedRows: Number(v!.curated_rows), rejected: Number(v!.rejected), duplicates: Number(v!.duplicates) },
      expected,
    );
    if ('counts' in TRICKY_HOUR.expected) assert.deepEqual(v!.unknown_fields, TRICKY_HOUR.expected.unknownFields);
    const parquet = await engine.runNow(`SELECT * FROM read_parquet($f) ORDER BY event_time, event_id`, {
      f: `${input.stagingLocation}part-00000.parquet`,
    });
    const exact = await curatedRows(files, 'exact');
    assert.deepEqual(parquet, exact);
  });

  it("validation reads a plain hour once, reusing its curation's proof of the same files; a file rewritten in place (same size) is proven again", async () => {
    const pad = padding('once');
    const rawLines = pad.lines.length;
    const hour: TrickyHour = {
      hour: TRICKY_HOUR.hour,
      description: 'one plain file over the proof threshold',
      files: [pad],
      expected: { counts: { rawLines, curatedRows: rawLines, rejected: 0, duplicates: 0 }, unknownFields: [] },
    };
    const files = await writeHour(hour);
    const rawBytes = fileBody(hour.files[0]!).length;
    const input = request(files, 'once');
    const curated = await run(duckdbStatements.curateHour(input));
    assert.equal(curated.status.stats.lineReader, 'plain');
    const before = await bytesReadSoFar();
    const validated = await run(duckdbStatements.validationCounts(validationOf(input)));
    const read = (await bytesReadSoFar()) - before;
    assert.equal(validated.status.stats.lineReader, 'plain');
    assert.equal(Number(validated.rows[0]!.raw_lines), countsOf(hour).rawLines);
    // One scan of the raw bytes (plus the Parquet footer); proving the files again was a second one.
    assert.ok(read > rawBytes * 0.9 && read < rawBytes * 1.5, `validation read ${read} bytes of a ${rawBytes}-byte hour`);

    // The same bytes, one LF turned into a lone CR: the exact reader splits there too (same lines),
    // the CSV scanner does not, so the file is no longer plain. Written in place: same path, inode and size.
    const { bucket, key } = parseS3Uri(files[0]!);
    const local = lake.backend.store.pathOf(bucket, key);
    const body = await fs.readFile(local, 'utf8');
    const at = body.indexOf('\n');
    await fs.writeFile(local, `${body.slice(0, at)}\r${body.slice(at + 1)}`);
    const again = await run(duckdbStatements.validationCounts({ ...validationOf(input), idempotencyToken: `revalidate-${n}`.padEnd(32, '-') }));
    assert.equal(again.status.state, 'SUCCEEDED', again.status.reason);
    assert.equal(again.status.stats.lineReader, 'exact');
    assert.equal(Number(again.rows[0]!.raw_lines), countsOf(hour).rawLines);
  });

  it('the original tricky hour (CRLF, lone CR, a BOM at a file start) is not plain: the engine reads it exactly, as it does a small plain hour', async () => {
    const files = await writeHour(TRICKY_HOUR);
    assert.equal(await plainProof(files).catch(() => false), false);
    const input = request(files, 'crlf');
    const curated = await run(duckdbStatements.curateHour(input));
    assert.equal(curated.status.state, 'SUCCEEDED');
    assert.equal(curated.status.stats.lineReader, 'exact');
    const [v] = (await run(duckdbStatements.validationCounts(validationOf(input)))).rows;
    assert.equal(Number(v!.raw_lines), countsOf(TRICKY_HOUR).rawLines);
    assert.equal(Number(v!.curated_rows), countsOf(TRICKY_HOUR).curatedRows);
    // A plain hour under PLAIN_READER_MIN_BYTES is read exactly too, without the proof's extra scan.
    const small = await run(duckdbStatements.curateHour(request(await writeHour(withLfEnds(TRICKY_HOUR)), 'small')));
    assert.equal(small.status.state, 'SUCCEEDED');
    assert.equal(small.status.stats.lineReader, 'exact');
  });

  it('a plain hour holding U+FFFD fails on the plain reader, and the engine reruns it exactly: the failure names the file and line', async () => {
    const files = await writeHour({
      hour: '2024-03-01T07',
      description: 'U+FFFD in plain files',
      files: [{ name: 'part-0000.jsonl', lines: [
        { text: '{"event_id":"a","user_id":"u","event_time":"2024-03-01T07:00:00Z"}', note: 'fine', outcome: 'curated' },
        { text: '{"event_id":"b\uFFFD","user_id":"u","event_time":"2024-03-01T07:00:00Z"}', note: 'the mark of bad bytes', outcome: 'curated' },
      ] }, padding('pad')],
      expected: { failure: /UTF-8/ },
    });
    assert.equal(await plainProof(files), true);
    await assert.rejects(curatedRows(files, 'plain'), /U\+FFFD: read this hour with the exact reader/);
    const { status } = await run(duckdbStatements.curateHour(request(files, 'fffd')));
    assert.equal(status.state, 'FAILED');
    assert.equal(status.stats.lineReader, 'plain, then exact');
    assert.match(status.reason ?? '', /part-0000\.jsonl' as valid UTF-8 encoded text: line 2 holds U\+FFFD/);
  });

  it('under a 128 MiB memory bound, a 48 MB hour curates on the plain reader (streaming, spilling); a 144 MB file that is not plain fails naming the setting to raise', async () => {
    const small = await makeTestLake({ CLICKSTREAM_DUCKDB_MEMORY_MIB: '128' });
    try {
      const lines = Array.from({ length: 600_000 }, (_, i) => `{"event_id":"e${i}","user_id":"u${i % 97}","event_time":"2024-03-01T07:${String(i % 60).padStart(2, '0')}:00Z"}`);
      const { bucket } = small.config.lake;
      const run = async (name: string, eol: string) => {
        await small.backend.store.put(bucket, `raw/bound/${name}/part-0000.jsonl`, lines.join(eol) + eol);
        const input = {
          rawFiles: [s3Uri(bucket, `raw/bound/${name}/part-0000.jsonl`)],
          stagingLocation: s3Uri(bucket, `staging/bound/${name}/`),
          partition: { year: '2024', month: '03', day: '01', hour: '07' },
          idempotencyToken: `bounded-${name}`.padEnd(32, '-'),
        };
        const id = await small.backend.engine.start(duckdbStatements.curateHour(input));
        for (;;) {
          const status = await small.backend.engine.status(id);
          if (status.state !== 'QUEUED' && status.state !== 'RUNNING') return status;
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      const lf = await run('lf', '\n');
      assert.equal(lf.state, 'SUCCEEDED', lf.reason);
      assert.equal(lf.stats.lineReader, 'plain');
      const [rows] = await small.backend.engine.runNow('SELECT count(*) AS n FROM read_parquet($f)', { f: s3Uri(small.config.lake.bucket, 'staging/bound/lf/part-00000.parquet') });
      assert.equal(Number(rows!.n), lines.length);
      // A file that is not plain is read whole (read_text's one value per file): past the bound,
      // the hour fails with DuckDB's error and the setting an operator can raise.
      await small.backend.store.put(bucket, 'raw/bound/big/part-0000.jsonl', Array.from({ length: 3 }, () => lines.join('\r\n')).join('\r\n'));
      const id = await small.backend.engine.start({
        sql: 'SELECT count(*) AS lines FROM clickstream_raw_lines($raw_files)',
        params: { raw_files: [s3Uri(bucket, 'raw/bound/big/part-0000.jsonl')] },
        idempotencyToken: 'bounded-oom'.padEnd(32, '-'),
      });
      let oom = await small.backend.engine.status(id);
      while (oom.state === 'QUEUED' || oom.state === 'RUNNING') {
        await new Promise((r) => setTimeout(r, 20));
        oom = await small.backend.engine.status(id);
      }
      assert.equal(oom.state, 'FAILED');
      assert.match(oom.reason ?? '', /^Out of Memory Error/);
      assert.match(oom.reason ?? '', /CLICKSTREAM_DUCKDB_MEMORY_MIB=128; a raw file that is not plain LF-ended text is read whole/);
    } finally {
      await small.cleanup();
    }
  });

  it('a line reader other than exact or plain fails the query, naming the accepted values', async () => {
    const files = await writeHour(withLfEnds(TRICKY_HOUR));
    await assert.rejects(curatedRows(files, 'fast'), /line reader must be 'exact' or 'plain', got 'fast'/);
  });
});
