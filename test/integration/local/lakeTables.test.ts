/**
 * lake/local/lakeTables.ts, the tables `clickstream query` loads: before anything is published the
 * curated table is rendered from lake/tableDefinitions.ts, and it must be the table readers get
 * once hours are published (same columns, same types, same order), only empty.
 */
import assert from 'node:assert/strict';
import { queryLakeTables } from '../../../lake/local/lakeTables';
import { parseHour } from '../../../core/hours';
import { curatedTableDef } from '../../../lake/tableDefinitions';
import { makeRawHour, makeTestLake, type TestLake } from '../../support/testLake';
import { runHourSteps } from './pipelineSteps';

const HOUR = '2024-03-01T07';

describe('lake/local/lakeTables: the curated table with nothing published', () => {
  let lake: TestLake;
  beforeEach(async () => {
    lake = await makeTestLake();
  });
  afterEach(async () => {
    await lake.cleanup();
  });

  it('has the columns and types of the published table, and no rows', async () => {
    const { curated } = lake.config.tables;
    const describe = `DESCRIBE SELECT * FROM ${curated}`;
    const columns = (rows: Record<string, unknown>[]) => rows.map((r) => [r.column_name, r.column_type]);
    const [emptyBefore, countBefore] = await queryLakeTables(lake.backend, lake.config, [describe, `SELECT count(*) AS n FROM ${curated}`]);
    assert.deepEqual(countBefore, [{ n: 0n }]);

    await makeRawHour(lake, { hour: HOUR, rows: 5 });
    await runHourSteps(lake, HOUR, 'run-1');
    const [published] = await queryLakeTables(lake.backend, lake.config, [describe]);
    // A range with no published hour takes the empty path again, now beside a published partition.
    const [emptyAfter] = await queryLakeTables(lake.backend, lake.config, [describe], { from: parseHour('2024-03-02T00') });
    // Same columns with the same types. The partition columns' order differs, as it did when the empty
    // table was a sql/ file: DuckDB's Hive reader orders them by name; kept, so `SELECT *` output is unchanged.
    const byName = (rows: Record<string, unknown>[]) => Object.fromEntries(columns(rows));
    assert.deepEqual(byName(emptyBefore!), byName(published!));
    assert.deepEqual(columns(emptyAfter!), columns(emptyBefore!));
    const { columns: defined } = curatedTableDef(lake.config.lake, lake.config.tables.database, curated);
    const eventColumns = (rows: Record<string, unknown>[]) => columns(rows).slice(0, defined.length);
    assert.deepEqual(eventColumns(emptyBefore!), eventColumns(published!), 'the event columns in the same order');
  });
});
