/**
 * The Athena stand-in's one translation rule (test/support/aws/athenaStandIn.ts athenaTextToTrino):
 * Athena's text of every sql/athena statement becomes exactly the trino backend's text of it, by
 * ENGINE_DIALECTS alone, and only inside a CTAS's table property list, so Athena text that is
 * wrong outside that list (as a placeholder filled into a comment once was) reaches Trino as it
 * would reach Athena and fails there. No server needed.
 */
import assert from 'node:assert/strict';
import { athenaViewStatements, createAthenaStatements } from '../../../lake/aws/athenaStatements';
import { ENGINE_DIALECTS } from '../../../lake/aws/athenaSql';
import { athenaTextToTrino } from '../../support/aws/athenaStandIn';

const TABLES = { database: 'clickstream', raw: 'clickstream_events', curated: 'clickstream_events_curated' };
const HOUR_REQUEST = {
  rawFiles: ['s3://lake/raw/clickstream/year=2024/month=03/day=01/hour=07/part-0000.jsonl'],
  stagingLocation: 's3://lake/curated/clickstream/year=2024/month=03/day=01/hour=07/run=r1/',
  idempotencyToken: 'a'.repeat(64),
  partition: { year: '2024', month: '03', day: '01', hour: '07' },
};

describe("Athena stand-in: Athena's SQL text to Trino's by ENGINE_DIALECTS", () => {
  const athena = createAthenaStatements(TABLES);
  const trino = createAthenaStatements(TABLES, { dialect: 'trino', catalog: 'hive' });

  it("the curation CTAS becomes the trino backend's statement, with its session properties", () => {
    const athenaCtas = athena.curateHour(HOUR_REQUEST);
    const trinoCtas = trino.curateHour(HOUR_REQUEST);
    assert.ok(athenaCtas.sql.includes("write_compression = 'SNAPPY'"));
    assert.deepEqual(athenaTextToTrino(athenaCtas.sql, 'hive'), { statement: trinoCtas.sql, sessionProperties: trinoCtas.sessionProperties });
    assert.deepEqual(trinoCtas.sessionProperties, { 'hive.compression_codec': 'SNAPPY' });
  });

  it('validation and the views carry no dialect text and pass unchanged', () => {
    const statements = [athena.validationCounts(HOUR_REQUEST).sql, ...athenaViewStatements(TABLES).map((v) => v.sql)];
    for (const sql of statements) assert.deepEqual(athenaTextToTrino(sql, 'hive'), { statement: sql, sessionProperties: {} });
    assert.equal(trino.validationCounts(HOUR_REQUEST).sql, athena.validationCounts(HOUR_REQUEST).sql);
  });

  it("Athena's text outside the CTAS property list is left for Trino to refuse", () => {
    const text = ENGINE_DIALECTS.athena.text.dialect_ctas_properties;
    const sql = `-- a comment naming the placeholder:${text} after it\n${athena.curateHour(HOUR_REQUEST).sql}`;
    const { statement } = athenaTextToTrino(sql, 'hive');
    assert.equal(statement.split(text).length - 1, 1, 'the stray copy stays; the property is translated');
    assert.ok(statement.startsWith(`-- a comment naming the placeholder:${text}`));
  });
});
