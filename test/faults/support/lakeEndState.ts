/**
 * The end state every fault case must reach, read the way readers read the lake (through the
 * catalog): each hour published and validated with the generator's accounting, or failed with a
 * reason; no duplicate event_id anywhere; no unpublished run folder left behind.
 */
import assert from 'node:assert/strict';
import { parseHour } from '../../../core/hours';
import { curatedHourPrefix, parseS3Uri } from '../../../core/locations';
import { queryLakeTables } from '../../../lake/local/lakeTables';
import type { BackfillResult } from '../../../core/contracts/backfill';
import { curatedPartition, publishedRows } from '../../support/lakeReads';
import type { TestLake } from '../../support/testLake';

export interface ExpectedCounts {
  rawLines: number;
  curatedRows: number;
  rejected: number;
  duplicates: number;
}

export async function assertLakeEndState(
  lake: TestLake,
  expected: Record<string, ExpectedCounts>,
  opts: { failed?: Record<string, RegExp>; result?: BackfillResult } = {},
): Promise<void> {
  const failed = opts.failed ?? {};
  let totalCurated = 0;
  for (const [hour, want] of Object.entries(expected)) {
    if (failed[hour]) {
      // A failed hour publishes nothing; what an earlier run published stays (the caller checks which).
      totalCurated += (await publishedRows(lake, hour)).length;
      continue;
    }
    const p = await curatedPartition(lake, hour);
    assert.equal(p?.parameters.validated, 'true', `${hour} is published and validated`);
    assert.deepEqual(
      { rawLines: Number(p!.parameters.raw_lines), curatedRows: Number(p!.parameters.curated_rows), rejected: Number(p!.parameters.rejected), duplicates: Number(p!.parameters.duplicates) },
      want,
      `${hour}: the catalog's lineage has the generator's accounting`,
    );
    const rows = await publishedRows(lake, hour);
    assert.equal(rows.length, want.curatedRows, `${hour}: readers see exactly the curated rows`);
    assert.equal(new Set(rows.map((r) => r.event_id)).size, rows.length, `${hour}: no duplicate event_id`);
    assert.ok(rows.every((r) => String(r.event_id).startsWith(`${hour}-`)), `${hour}: only this hour's events`);
    totalCurated += rows.length;

    // Garbage collected: the only run folder left under the hour is the published one.
    const { bucket, key } = parseS3Uri(p!.location);
    const objects = await lake.backend.store.list(bucket, curatedHourPrefix(lake.config.lake, parseHour(hour)));
    const stray = objects.filter((o) => !o.key.startsWith(key)).map((o) => o.key);
    assert.deepEqual(stray, [], `${hour}: no superseded or orphaned output left`);
  }

  const [dupes, [count]] = (await queryLakeTables(lake.backend, lake.config, [
    `SELECT event_id, count(*) AS n FROM ${lake.config.tables.curated} GROUP BY event_id HAVING count(*) > 1 LIMIT 10`,
    `SELECT count(*) AS n FROM ${lake.config.tables.curated}`,
  ])) as [Record<string, unknown>[], Record<string, unknown>[]];
  assert.deepEqual(dupes, [], 'no event_id appears twice in the curated table');
  assert.equal(Number(count!.n), totalCurated, 'the curated table holds exactly the published hours');

  if (opts.result) {
    const r = opts.result;
    const failedHours = Object.fromEntries(r.failedHours.map((f) => [f.hour, f.reason]));
    assert.deepEqual(Object.keys(failedHours).sort(), Object.keys(failed).sort(), `failed hours: ${JSON.stringify(r.failedHours)}`);
    for (const [hour, reason] of Object.entries(failed)) assert.match(failedHours[hour]!, reason, `${hour} failed with its reason`);
    assert.equal(r.succeeded + r.failed + r.skipped, r.total, 'every hour is accounted for');
  }
}
