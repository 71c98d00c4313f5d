/** `clickstream doctor` against moto: a healthy stack passes each check; a missing piece fails with its fix. */
import assert from 'node:assert/strict';
import { createAwsClients, destroyAwsClients } from '../../../lake/aws/awsClients';
import { doctorCommand, formatDoctorReport, runDoctor } from '../../../cli/doctor';
import { MOTO_CREDENTIALS, useMotoServer } from '../../support/aws/motoServer';
import { awsSettingsFor, makeAwsTestLake } from '../../support/aws/awsTestLake';
import { loadConfig } from '../../../config/config';

describe('clickstream doctor on moto', function () {
  this.timeout(60_000);
  const moto = useMotoServer();

  it('passes credentials, bucket, prefixes, database, tables, workgroup and output location; reports Temporal unreachable with the fix', async () => {
    const lake = await makeAwsTestLake(moto());
    try {
      const result = await runDoctor(lake.config, {
        aws: lake.settings,
        clients: lake.backend.clients,
        checkTemporal: async (address) => {
          throw new Error(`connect ECONNREFUSED ${address}`);
        },
      });
      const byName = Object.fromEntries(result.checks.map((c) => [c.name, c]));
      assert.deepEqual(Object.keys(byName), [
        'config',
        'credentials',
        'bucket',
        'raw prefix',
        'curated prefix',
        'database',
        'table clickstream_events',
        'table clickstream_events_lines',
        'table clickstream_events_curated',
        'workgroup',
        'output location',
        'temporal',
      ]);
      assert.equal(result.ok, false);
      assert.deepEqual(
        result.checks.filter((c) => !c.ok).map((c) => c.name),
        ['temporal'],
      );
      assert.match(byName.credentials!.detail, /^account 123456789012, arn:aws:sts::123456789012:/);
      assert.match(byName['output location']!.detail, /s3:\/\/clickstream-test-lake\/athena-results\//);
      assert.match(byName.temporal!.fix, /TEMPORAL_ADDRESS/);
      const text = formatDoctorReport(result);
      assert.match(text, /^PASS bucket: s3:\/\/clickstream-test-lake exists/m);
      assert.match(text, /^FAIL temporal: cannot reach Temporal at localhost:7233/m);
      assert.match(text, /^ {5}fix: start the Temporal server/m);
      assert.match(text, /1 of 12 checks failed$/);
    } finally {
      await lake.close();
    }
  });

  it('a missing bucket, database and workgroup each fail with a fix naming the setting; no stack traces', async () => {
    const config = loadConfig({}, { CLICKSTREAM_BACKEND: 'aws', CLICKSTREAM_BUCKET: 'missing-bucket' });
    const settings = awsSettingsFor(moto(), { CLICKSTREAM_AWS_ATHENA_WORKGROUP: 'missing-wg', CLICKSTREAM_AWS_ATHENA_OUTPUT_LOCATION: '' });
    const clients = createAwsClients(settings, { credentials: MOTO_CREDENTIALS });
    try {
      const result = await runDoctor(config, { aws: settings, clients, checkTemporal: async () => 'ok' });
      const failed = Object.fromEntries(result.checks.filter((c) => !c.ok).map((c) => [c.name, c]));
      assert.deepEqual(Object.keys(failed), ['bucket', 'database', 'workgroup']);
      assert.match(failed.bucket!.fix, /create bucket missing-bucket or set CLICKSTREAM_BUCKET/);
      assert.match(failed.database!.fix, /CLICKSTREAM_DATABASE/);
      assert.match(failed.workgroup!.detail, /missing-wg/);
      assert.match(failed.workgroup!.fix, /CLICKSTREAM_AWS_ATHENA_WORKGROUP/);
      for (const c of Object.values(failed)) assert.doesNotMatch(c.detail, /\n\s+at /, 'no stack trace');
    } finally {
      destroyAwsClients(clients);
    }
  });
  it('doctorCommand prints the report and returns the exit code: 0 when every check passes, 1 otherwise', async () => {
    const lake = await makeAwsTestLake(moto());
    try {
      const lines: string[] = [];
      const healthy = await doctorCommand(lake.config, (l) => lines.push(l), { aws: lake.settings, clients: lake.backend.clients, checkTemporal: async () => 'connected' });
      assert.equal(healthy, 0);
      assert.equal(lines.length, 13, lines.join('\n'));
      assert.ok(lines.slice(0, 12).every((l) => l.startsWith('PASS ')), lines.join('\n'));
      assert.equal(lines[12], 'all checks passed');

      lines.length = 0;
      const down = await doctorCommand(lake.config, (l) => lines.push(l), {
        aws: lake.settings,
        clients: lake.backend.clients,
        checkTemporal: async () => {
          throw new Error('connect ECONNREFUSED');
        },
      });
      assert.equal(down, 1);
      assert.ok(lines.includes('FAIL temporal: cannot reach Temporal at localhost:7233 (namespace default): connect ECONNREFUSED'), lines.join('\n'));
      assert.equal(lines.at(-1), '1 of 12 checks failed');
    } finally {
      await lake.close();
    }
  });
});
