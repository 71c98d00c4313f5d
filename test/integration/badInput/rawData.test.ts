import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { parseHour } from '../../../core/hours';
import { rawHourPrefix } from '../../../core/locations';
import { queryLakeTables } from '../../../lake/local/lakeTables';
import { curatedPartition, publishedRows } from '../../support/lakeReads';
import { makeRawHour, makeTestLake, type TestLake } from '../../support/testLake';
import { localActivities, runActivity, runHourSteps, stagedRows } from '../local/pipelineSteps';

/**
 * The raw-data rows of docs/bad-input.md that test/integration/local/curation.test.ts does not
 * already cover, through the real activities on the embedded backend.
 */
const HOUR = '2024-03-02T11';

function ev(fields: Record<string, unknown>): string {
  return JSON.stringify({ event_id: 'e1', event_time: '2024-03-02T11:10:00Z', user_id: 'u1', event_type: 'click', properties: { k: 1 }, ...fields });
}

async function notCurated(lake: TestLake): Promise<{ outcome: string; reason: string; length: number }[]> {
  const [rows] = await queryLakeTables(lake.backend, lake.config, [
    `SELECT outcome, reason, length(line) AS length FROM ${lake.config.tables.raw}_rejected ORDER BY source_file, line_no`,
  ]);
  return rows!.map((r) => ({ outcome: String(r.outcome), reason: String(r.reason), length: Number(r.length) }));
}

describe('bad raw data: what happens to each kind (real activities, DuckDB, lake folder)', () => {
  let lake: TestLake;
  const bucket = () => lake.config.lake.bucket;
  const rawKey = (name: string) => `${rawHourPrefix(lake.config.lake, parseHour(HOUR))}${name}`;
  beforeEach(async () => {
    lake = await makeTestLake();
  });
  afterEach(async () => {
    await lake.cleanup();
  });

  it('empty files next to non-empty ones count nothing; the hour is curated from the rest', async () => {
    await lake.backend.store.put(bucket(), rawKey('part-0000.jsonl'), '');
    await lake.backend.store.put(bucket(), rawKey('part-0001.jsonl'), `${ev({ event_id: 'a' })}\n${ev({ event_id: 'b' })}\n`);
    await lake.backend.store.put(bucket(), rawKey('part-0002.jsonl'), '\n\n');
    const { manifest, validation } = await runHourSteps(lake, HOUR, 'run-empty-files');
    assert.equal(manifest.objects, 3, 'empty files are part of the manifest (and its fingerprint)');
    assert.deepEqual(validation.counts, { rawLines: 2, curatedRows: 2, rejected: 0, duplicates: 0 });
    assert.equal((await publishedRows(lake, HOUR)).length, 2);
  });

  it('an hour whose files are all empty is published as an hour with zero events (validated, lineage says 0)', async () => {
    await makeRawHour(lake, { hour: HOUR, files: 2, lines: [] });
    const { validation, published } = await runHourSteps(lake, HOUR, 'run-all-empty');
    assert.deepEqual(validation.counts, { rawLines: 0, curatedRows: 0, rejected: 0, duplicates: 0 });
    assert.equal(published?.outcome, 'created');
    assert.equal((await curatedPartition(lake, HOUR))?.parameters.curated_rows, '0');
    assert.deepEqual(await publishedRows(lake, HOUR), [], 'readers see an empty hour, not an error');
  });

  it('an empty partition (only markers, no .jsonl) is "no raw data": not curated, and a backfill reports it failed with the prefix', async () => {
    await lake.backend.store.put(bucket(), rawKey('_SUCCESS'), '');
    await lake.backend.store.put(bucket(), rawKey('part-0000.jsonl.crc'), 'x');
    const acts = localActivities(lake);
    const manifest = await runActivity(acts.verifyRawPartition, { hour: HOUR });
    assert.equal(manifest.objects, 0);
    const plan = await runActivity(acts.planBackfillHours, { from: HOUR, count: 1, mode: 'missing' });
    assert.deepEqual(plan, {
      run: [],
      skipped: [],
      failed: [{ hour: HOUR, reason: `RawPartitionMissing: no .jsonl objects under s3://${bucket()}/${rawKey('')}` }],
    });
  });

  it('a 1 MB line: a valid event keeps its 1 MB property intact; a 1 MB broken line is rejected and listed whole', async () => {
    const blob = 'x'.repeat(1024 * 1024);
    const broken = `{"event_id": "broken", "user_id": "u1", "note": "${blob}`; // unterminated
    await makeRawHour(lake, { hour: HOUR, files: 1, lines: [ev({ event_id: 'big', properties: { blob } }), broken, ev({ event_id: 'small' })] });
    const { validation, staging } = await runHourSteps(lake, HOUR, 'run-1mb');
    assert.deepEqual(validation.counts, { rawLines: 3, curatedRows: 2, rejected: 1, duplicates: 0 });
    const rows = new Map((await stagedRows(lake, staging.stagingLocation)).map((r) => [r.event_id, r]));
    assert.equal((JSON.parse(String(rows.get('big')!.properties)) as { blob: string }).blob, blob);
    assert.deepEqual(await notCurated(lake), [{ outcome: 'rejected', reason: 'not valid JSON', length: broken.length }]);
  });

  it('invalid UTF-8 in a file fails the whole hour non-retryably, naming the file; nothing is published', async () => {
    // One line with bytes that are not UTF-8 (a Latin-1 export, a truncated multi-byte character).
    const body = Buffer.concat([
      Buffer.from(`${ev({ event_id: 'ok-1' })}\n{"event_id": "latin1", "user_id": "Jos`),
      Buffer.from([0xe9, 0xff, 0xc3]),
      Buffer.from(`", "event_time": "2024-03-02T11:00:00Z"}\n${ev({ event_id: 'ok-2' })}\n`),
    ]);
    await lake.backend.store.put(bucket(), rawKey('part-0000.jsonl'), body);
    const acts = localActivities(lake);
    const manifest = await runActivity(acts.verifyRawPartition, { hour: HOUR });
    const err = await runActivity(acts.curateToStaging, { hour: HOUR, rawPrefix: manifest.prefix, files: manifest.files, runId: 'run-utf8' }).catch((e: unknown) => e);
    assert.ok(err instanceof ApplicationFailure, String(err));
    assert.equal(err.type, 'QueryFailed');
    assert.equal(err.nonRetryable, true, 'a retry would read the same bytes');
    assert.match(err.message, /could not read content of file '.*\/hour=11\/part-0000\.jsonl' as valid UTF-8 encoded text/);
    assert.equal(await curatedPartition(lake, HOUR), undefined);
  });

  it('required fields of the wrong JSON type are coerced to text, not rejected (event_id 123 and "123" are one event)', async () => {
    await makeRawHour(lake, {
      hour: HOUR,
      files: 1,
      lines: [ev({ event_id: 123, user_id: 7 }), ev({ event_id: '123', event_time: '2024-03-02T11:20:00Z' }), ev({ event_id: true }), ev({ event_id: { nested: 1 } })],
    });
    const { validation, staging } = await runHourSteps(lake, HOUR, 'run-types');
    assert.deepEqual(validation.counts, { rawLines: 4, curatedRows: 3, rejected: 0, duplicates: 1 });
    assert.deepEqual(
      (await stagedRows(lake, staging.stagingLocation)).map((r) => [r.event_id, r.user_id]),
      [
        ['123', '7'],
        ['true', 'u1'],
        ['{"nested":1}', 'u1'],
      ],
    );
  });
});
