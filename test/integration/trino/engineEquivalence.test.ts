/**
 * Two engines agree (issue 10): the tricky raw hours of test/fixtures/trickyHours.ts are curated
 * and validated by the real activities twice, on the local backend (lake folder + DuckDB, the
 * sql/duckdb statements) and on the trino backend (moto's S3 and Glue + a real Trino 476
 * executing sql/athena: both views at bootstrap, the curation CTAS, the validation counts), and
 * published. Then, per hour: the same curated rows, every column (event_time as the same instant
 * at the stored precision, properties byte for byte), the same rejected and duplicate lines with
 * the same reasons (local: the rejected table; Trino: the <raw>_rejected view), the same
 * validation counts and schema drift, and all of it as the fixture says. Curated rows are read
 * back through each engine from the published partition: DuckDB cannot read moto's S3 here.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { createActivities } from '../../../activities';
import type { HourCounts, ValidationResult } from '../../../core/contracts/steps';
import type { PipelineConfig } from '../../../config/config';
import { PARTITION_KEYS, parseHour, partitionValues } from '../../../core/hours';
import { rawHourPrefix } from '../../../core/locations';
import { queryLakeTables } from '../../../lake/local/lakeTables';
import type { LakeBackend } from '../../../lake/ports';
import { runToEnd } from '../../../lake/trino/trinoProtocol';
import { DUPLICATE_REASON, fileBody, TRICKY_HOURS, type TrickyHour } from '../../fixtures/trickyHours';
import { runActivity } from '../local/pipelineSteps';
import { makeTestLake, type TestLake } from '../../support/testLake';
import { makeTrinoTestLake, testTrinoStack, type TrinoTestLake } from '../../support/trino/trinoStack';

type Engine = 'duckdb' | 'trino';
const ENGINES: Engine[] = ['duckdb', 'trino'];

/** A curated row as both engines render it: text columns as stored, event_time as UTC text to the microsecond. */
type Row = Record<'event_id' | 'event_time' | 'user_id' | 'session_id' | 'event_type' | 'page_url' | 'referrer' | 'user_agent' | 'properties', string | null>;
/** A line curation did not keep: its file's name (the engines name files differently), outcome, reason, text. */
type NotKept = [file: string, outcome: string, reason: string, line: string];

interface EngineRun {
  validation?: ValidationResult;
  failure?: unknown;
  rows: Row[];
  notKept: NotKept[];
  published: boolean;
}

const COLUMNS = ['event_id', 'event_time', 'user_id', 'session_id', 'event_type', 'page_url', 'referrer', 'user_agent', 'properties'] as const;

function partitionWhere(hour: string): string {
  const v = partitionValues(parseHour(hour));
  // Values from the fixture's own hour strings, formatted by core/hours: digits only.
  return PARTITION_KEYS.map((k) => `${k} = '${v[k]}'`).join(' AND ');
}

/** verify -> register -> curate -> validate -> publish with the real activities, as the workflow sequences them. */
async function runSteps(lake: { backend: LakeBackend; config: PipelineConfig }, hour: string, runId: string) {
  const acts = createActivities({ backend: lake.backend, layout: lake.config.lake, tables: lake.config.tables, poll: lake.config.engine.poll });
  const manifest = await runActivity(acts.verifyRawPartition, { hour });
  await runActivity(acts.registerRawPartition, { hour });
  try {
    const staging = await runActivity(acts.curateToStaging, { hour, rawPrefix: manifest.prefix, files: manifest.files, runId });
    const validation = await runActivity(acts.validateStaging, { hour, rawPrefix: manifest.prefix, files: manifest.files, stagingLocation: staging.stagingLocation, runId });
    await runActivity(acts.publishPartition, {
      hour,
      stagingLocation: staging.stagingLocation,
      lineage: { validated: 'true', manifest_fingerprint: manifest.fingerprint, run_id: runId, curated_rows: String(validation.counts.curatedRows) },
    });
    return { validation };
  } catch (failure) {
    return { failure };
  }
}

async function writeHour(store: LakeBackend['store'], config: PipelineConfig, h: TrickyHour): Promise<void> {
  const prefix = rawHourPrefix(config.lake, parseHour(h.hour));
  for (const f of h.files) await store.put(config.lake.bucket, `${prefix}${f.name}`, fileBody(f));
}

async function runOnDuckdb(lake: TestLake, h: TrickyHour): Promise<EngineRun> {
  const { validation, failure } = await runSteps(lake, h.hour, `duckdb-${h.hour}`);
  const v = partitionValues(parseHour(h.hour));
  const partition = await lake.backend.catalog.getPartition(lake.config.tables.database, lake.config.tables.curated, PARTITION_KEYS.map((k) => v[k]));
  if (failure || !partition) return { failure, rows: [], notKept: [], published: partition !== undefined };
  // Text travels as hex: the DuckDB client decodes VARCHAR with a TextDecoder, which drops a leading U+FEFF.
  const texts = COLUMNS.filter((c) => c !== 'event_time').map((c) => `hex(${c}) AS ${c}`);
  const rows = (
    await lake.backend.engine.runNow(
      `SELECT strftime(event_time, '%Y-%m-%d %H:%M:%S.%f') AS event_time, ${texts.join(', ')} FROM read_parquet($glob, hive_partitioning = false)`,
      { glob: `${partition.location}*.parquet` },
    )
  ).map((r) => Object.fromEntries(COLUMNS.map((c) => [c, c === 'event_time' ? (r[c] as string) : unhex(r[c])])) as Row);
  const range = { from: parseHour(h.hour), to: parseHour(h.hour) };
  const [listed] = await queryLakeTables(lake.backend, lake.config, [`SELECT source_file, outcome, reason, hex(line) AS line FROM ${lake.config.tables.raw}_rejected`], range);
  const notKept = listed!.map((r) => [path.basename(String(r.source_file)), String(r.outcome), String(r.reason), unhex(r.line)!] as NotKept);
  return { validation, rows, notKept, published: true };
}

async function runOnTrino(lake: TrinoTestLake, h: TrickyHour): Promise<EngineRun> {
  const { validation, failure } = await runSteps(lake, h.hour, `trino-${h.hour}`);
  const v = partitionValues(parseHour(h.hour));
  const partition = await lake.backend.catalog.getPartition(lake.config.tables.database, lake.config.tables.curated, PARTITION_KEYS.map((k) => v[k]));
  if (failure || !partition) return { failure, rows: [], notKept: [], published: partition !== undefined };
  const { database, curated, raw } = lake.config.tables;
  const read = async (sql: string) => {
    const { trino } = await testTrinoStack();
    const r = await runToEnd({ server: trino.url, user: 'engine-equivalence', catalog: trino.catalog, schema: database }, sql);
    return r.rows.map((row) => Object.fromEntries(r.columns.map((c, i) => [c.name, row[i] as string | null])));
  };
  // timestamp(3) widened to (6) renders as DuckDB's strftime %f does: 'YYYY-MM-DD HH:MM:SS.ffffff'.
  const rows = (await read(
    `SELECT event_id, CAST(CAST(event_time AS timestamp(6)) AS varchar) AS event_time, user_id, session_id, event_type, page_url, referrer, user_agent, properties
     FROM ${database}.${curated} WHERE ${partitionWhere(h.hour)}`,
  )) as Row[];
  const listed = await read(`SELECT source_file, outcome, reason, line FROM ${database}.${raw}_rejected WHERE ${partitionWhere(h.hour)}`);
  const notKept = listed.map((r) => [path.basename(String(r.source_file)), String(r.outcome), String(r.reason), String(r.line)] as NotKept);
  return { validation, rows, notKept, published: true };
}

const unhex = (v: unknown): string | null => (v === null || v === undefined ? null : Buffer.from(String(v), 'hex').toString('utf8'));
const byEventId = (rows: Row[]) => [...rows].sort((a, b) => (String(a.event_id) < String(b.event_id) ? -1 : String(a.event_id) > String(b.event_id) ? 1 : 0));
const sortedNotKept = (rows: NotKept[]) => [...rows].sort((a, b) => (a.join('\u0000') < b.join('\u0000') ? -1 : 1));

/** What the fixture says curation leaves out: every rejected and duplicate line, its one leading BOM stripped. */
function expectedNotKept(h: TrickyHour): NotKept[] {
  return h.files.flatMap((f) =>
    f.lines.flatMap((l): NotKept[] => {
      const text = l.text.startsWith('\uFEFF') ? l.text.slice(1) : l.text;
      if (l.outcome === 'rejected') return [[f.name, 'rejected', l.reason, text]];
      if (l.outcome === 'duplicate') return [[f.name, 'duplicate', DUPLICATE_REASON, text]];
      return [];
    }),
  );
}

/** A short label for a row or line in assertion messages (1 MB lines are cut). */
const short = (v: unknown) => JSON.stringify(v).slice(0, 300);

describe('two engines agree: the tricky raw hours curated and validated by DuckDB (local) and by a real Trino (trino backend)', function () {
  this.timeout(900_000);
  let local: TestLake;
  let trino: TrinoTestLake;
  const runs = new Map<string, Record<Engine, EngineRun>>();

  before(async () => {
    local = await makeTestLake();
    trino = await makeTrinoTestLake(await testTrinoStack());
    for (const h of TRICKY_HOURS) {
      await writeHour(local.backend.store, local.config, h);
      await writeHour(trino.backend.store, trino.config, h);
      runs.set(h.hour, { duckdb: await runOnDuckdb(local, h), trino: await runOnTrino(trino, h) });
    }
  });
  after(async () => {
    await local?.cleanup();
    await trino?.close();
  });

  for (const h of TRICKY_HOURS) {
    const run = () => runs.get(h.hour)!;

    if ('failure' in h.expected) {
      const failure = h.expected.failure;
      it(`${h.hour} (${h.description}): both engines fail the whole hour, non-retryably, and publish nothing`, () => {
        for (const engine of ENGINES) {
          const r = run()[engine];
          assert.ok(r.failure instanceof ApplicationFailure, `${engine}: expected a failure, got ${short(r.validation?.counts ?? r.failure)}`);
          assert.equal(r.failure.type, 'QueryFailed', `${engine}: ${r.failure.message}`);
          assert.equal(r.failure.nonRetryable, true, `${engine}: a retry reads the same bytes`);
          assert.match(r.failure.message, failure, engine);
          assert.equal(r.published, false, `${engine}: nothing published`);
        }
      });
      continue;
    }
    const expected = h.expected;

    it(`${h.hour} (${h.description}): identical validation results, as the fixture counts them`, () => {
      for (const engine of ENGINES) assert.equal(run()[engine].failure, undefined, `${engine} failed: ${String(run()[engine].failure)}`);
      const d = run().duckdb.validation!;
      const t = run().trino.validation!;
      assert.deepEqual(t.counts, d.counts, 'raw_lines, curated_rows, rejected, duplicates');
      assert.deepEqual(t.unknownFields, d.unknownFields, 'unknown_fields');
      assert.deepEqual(d.counts, expected.counts satisfies HourCounts);
      assert.deepEqual(d.unknownFields, expected.unknownFields);
      assert.equal(d.counts.rawLines, d.counts.curatedRows + d.counts.rejected + d.counts.duplicates);
    });

    it(`${h.hour}: identical curated rows, every column (event_time at the stored millisecond, properties byte for byte)`, () => {
      const d = byEventId(run().duckdb.rows);
      const t = byEventId(run().trino.rows);
      assert.equal(d.length, expected.counts.curatedRows, 'DuckDB rows as the fixture says');
      assert.deepEqual(
        t.map((r) => r.event_id),
        d.map((r) => r.event_id),
        'the same event_ids',
      );
      const parsedOnly = new Set(h.propertiesEqualAsParsed ?? []);
      for (const [i, dr] of d.entries()) {
        const tr = t[i]!;
        for (const c of COLUMNS) {
          if (c === 'properties' && parsedOnly.has(String(dr.event_id))) {
            assert.deepEqual(JSON.parse(String(tr.properties)), JSON.parse(String(dr.properties)), `${dr.event_id}: properties equal as parsed JSON`);
            continue;
          }
          assert.equal(tr[c], dr[c], `${dr.event_id}: column ${c} (DuckDB ${short(dr[c])}, Trino ${short(tr[c])})`);
        }
        // Stored to the millisecond on both: the microseconds are always 000.
        assert.match(String(dr.event_time), /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}000$/, `${dr.event_id}: event_time ${dr.event_time}`);
      }
      const rows = new Map(d.map((r) => [String(r.event_id), r]));
      for (const [id, user] of Object.entries(h.kept ?? {})) assert.equal(rows.get(id)?.user_id, user, `the kept copy of ${id}`);
      for (const [id, time] of Object.entries(h.storedTimes ?? {})) assert.equal(rows.get(id)?.event_time, time, `the stored event_time of ${id}`);
    });

    it(`${h.hour}: identical rejected and duplicate lines with identical reasons, as the fixture lists them`, () => {
      const d = sortedNotKept(run().duckdb.notKept);
      const t = sortedNotKept(run().trino.notKept);
      assert.equal(t.length, d.length, 'as many lines left out');
      for (const [i, dl] of d.entries()) assert.deepEqual(t[i], dl, `line left out: DuckDB ${short(dl)}, Trino ${short(t[i])}`);
      const want = sortedNotKept(expectedNotKept(h));
      assert.equal(d.length, want.length, 'as many lines left out as the fixture says');
      for (const [i, wl] of want.entries()) assert.deepEqual(d[i], wl, `fixture line ${short(wl)}, engines ${short(d[i])}`);
    });
  }
});
