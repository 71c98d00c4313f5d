/**
 * `clickstream doctor` on the trino backend against the test stack's real Trino 476 over moto:
 * a healthy lake passes the S3/Glue checks it shares with aws and the four Trino checks; a wrong
 * URL, a missing or non-Hive catalog and a Glue database Trino cannot see each fail with a fix
 * naming the setting to change.
 */
import assert from 'node:assert/strict';
import { CreateDatabaseCommand } from '@aws-sdk/client-glue';
import { formatDoctorReport, runDoctor, type DoctorCheck } from '../../../cli/doctor';
import { loadConfig } from '../../../config/config';
import { freePort } from '../../../devserver/freePort';
import { createAwsClients, destroyAwsClients } from '../../../lake/aws/awsClients';
import { MOTO_CREDENTIALS } from '../../support/aws/motoServer';
import { makeTrinoTestLake, testTrinoStack, type TrinoTestLake } from '../../support/trino/trinoStack';

const temporalOk = async () => 'connected';

/** The lake's own environment with some variables changed, parsed as the CLI would. */
function configWith(lake: TrinoTestLake, changes: Record<string, string>) {
  const env = { ...lake.env, ...changes };
  return loadConfig(Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith('CLICKSTREAM_'))));
}

function byName(checks: DoctorCheck[]): Record<string, DoctorCheck> {
  return Object.fromEntries(checks.map((c) => [c.name, c]));
}

describe('clickstream doctor on the trino backend (real Trino over moto S3 + Glue)', function () {
  this.timeout(300_000);
  let lake: TrinoTestLake;

  before(async function () {
    // The first test file to use the stack starts Trino (tens of seconds on a loaded 2-core machine).
    this.timeout(300_000);
    await testTrinoStack();
  });
  beforeEach(async () => {
    lake = await makeTrinoTestLake(await testTrinoStack());
  });
  afterEach(async () => {
    await lake?.close();
  });

  it('passes credentials, bucket, prefixes, Glue database and tables, then the coordinator, user, Hive catalog and schema; no Athena checks', async () => {
    const result = await runDoctor(lake.config, { clients: lake.clients, checkTemporal: temporalOk });
    const text = formatDoctorReport(result);
    assert.equal(result.ok, true, text);
    assert.deepEqual(
      result.checks.map((c) => c.name),
      [
        'config',
        'credentials',
        'bucket',
        'raw prefix',
        'curated prefix',
        'database',
        'table clickstream_events',
        'table clickstream_events_lines',
        'table clickstream_events_curated',
        'trino coordinator',
        'trino user',
        'trino catalog',
        'trino schema',
        'temporal',
      ],
    );
    const c = byName(result.checks);
    const { trino } = await testTrinoStack();
    assert.match(c['trino coordinator']!.detail, new RegExp(`^Trino 476 coordinator at ${trino.url} \\(environment clickstream_test, up `));
    assert.equal(c['trino user']!.detail, 'user clickstream-lake can run queries (SELECT 1)');
    assert.equal(c['trino catalog']!.detail, 'catalog hive is a Hive catalog');
    assert.equal(c['trino schema']!.detail, `catalog hive shows the Glue database ${lake.config.tables.database} as a schema`);
    assert.match(text, /all checks passed$/);
  });

  it('a URL where nothing listens fails the coordinator check with a fix naming CLICKSTREAM_TRINO_URL, and skips the other Trino checks', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const result = await runDoctor(configWith(lake, { CLICKSTREAM_TRINO_URL: url }), { clients: lake.clients, checkTemporal: temporalOk });
    const failed = result.checks.filter((c) => !c.ok);
    assert.deepEqual(failed.map((c) => c.name), ['trino coordinator']);
    assert.match(failed[0]!.detail, new RegExp(`^cannot reach Trino at ${url}: fetch failed \\(.*ECONNREFUSED`));
    assert.match(failed[0]!.fix, /^start Trino or set CLICKSTREAM_TRINO_URL to its coordinator/);
    assert.ok(!result.checks.some((c) => /^trino (user|catalog|schema)$/.test(c.name)), 'nothing after the coordinator is tried');
    const text = formatDoctorReport(result);
    assert.match(text, /^FAIL trino coordinator: cannot reach Trino/m);
    assert.match(text, /^ {5}fix: start Trino or set CLICKSTREAM_TRINO_URL/m);
    assert.doesNotMatch(text, /\n\s+at /, 'no stack trace');
  });

  it('a URL that answers but is not Trino (moto on its port) is named as such, with CLICKSTREAM_TRINO_URL', async () => {
    const { moto } = await testTrinoStack();
    const result = await runDoctor(configWith(lake, { CLICKSTREAM_TRINO_URL: moto.url }), { clients: lake.clients, checkTemporal: temporalOk });
    const c = byName(result.checks)['trino coordinator']!;
    assert.equal(c.ok, false);
    assert.match(c.detail, new RegExp(`^${moto.url} answered GET /v1/info with HTTP \\d+.*, not as a Trino coordinator`));
    assert.match(c.fix, /^set CLICKSTREAM_TRINO_URL to the Trino coordinator's URL/);
  });

  it('a catalog Trino does not have fails with the catalogs it has and a fix naming CLICKSTREAM_TRINO_CATALOG', async () => {
    const result = await runDoctor(configWith(lake, { CLICKSTREAM_TRINO_CATALOG: 'lake_glue' }), { clients: lake.clients, checkTemporal: temporalOk });
    const failed = result.checks.filter((c) => !c.ok);
    assert.deepEqual(failed.map((c) => c.name), ['trino catalog']);
    const { trino } = await testTrinoStack();
    assert.equal(failed[0]!.detail, `Trino at ${trino.url} has no catalog lake_glue (it has: hive, system)`);
    assert.match(failed[0]!.fix, /^set CLICKSTREAM_TRINO_CATALOG to the Hive catalog over Glue, or add etc\/catalog\/lake_glue\.properties with connector\.name=hive and hive\.metastore=glue/);
    assert.ok(!result.checks.some((c) => c.name === 'trino schema'), 'schema not looked for in a missing catalog');
  });

  it('a catalog that is not a Hive catalog (system) fails naming its connector', async () => {
    const result = await runDoctor(configWith(lake, { CLICKSTREAM_TRINO_CATALOG: 'system' }), { clients: lake.clients, checkTemporal: temporalOk });
    const c = byName(result.checks)['trino catalog']!;
    assert.equal(c.ok, false);
    assert.match(c.detail, /^catalog system uses the system connector, not hive/);
    assert.match(c.fix, /CLICKSTREAM_TRINO_CATALOG/);
  });

  it('a Glue database the catalog cannot see: a metastore mismatch when Glue has it, "start the worker" when nobody has it', async () => {
    // Glue in another region has the database; Trino's catalog reads us-east-1's Glue, so it lists no such schema.
    const elsewhere = configWith(lake, { CLICKSTREAM_AWS_REGION: 'eu-west-1', CLICKSTREAM_DATABASE: `${lake.config.tables.database}_eu` });
    const euClients = createAwsClients(elsewhere.aws, { credentials: MOTO_CREDENTIALS });
    try {
      await euClients.glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: elsewhere.tables.database } }));
      const mismatch = byName((await runDoctor(elsewhere, { clients: euClients, checkTemporal: temporalOk })).checks);
      assert.equal(mismatch.database!.ok, true);
      assert.equal(mismatch['trino schema']!.ok, false);
      assert.match(mismatch['trino schema']!.detail, new RegExp(`^Glue database ${elsewhere.tables.database} exists, but catalog hive does not list it \\(it lists: .*\\): its metastore is not the Glue catalog the worker uses`));
      assert.match(mismatch['trino schema']!.fix, /hive\.metastore=glue in the worker's region .*CLICKSTREAM_AWS_ENDPOINT_URL.*or set CLICKSTREAM_TRINO_CATALOG/);
    } finally {
      destroyAwsClients(euClients);
    }

    const missing = byName((await runDoctor(configWith(lake, { CLICKSTREAM_DATABASE: 'no_such_db' }), { clients: lake.clients, checkTemporal: temporalOk })).checks);
    assert.equal(missing.database!.ok, false);
    assert.equal(missing['trino schema']!.ok, false);
    assert.match(missing['trino schema']!.detail, /^catalog hive has no schema no_such_db \(it lists: .*\), and Glue has no database no_such_db$/);
    assert.equal(missing['trino schema']!.fix, 'start the worker once (it creates the database in Glue) or set CLICKSTREAM_DATABASE');
  });
});
