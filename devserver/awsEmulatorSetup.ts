/**
 * One-shot set-up of an AWS-API emulator (moto) for the docker-compose stack: creates the bucket
 * and the Athena workgroup the worker's config names. Refuses to run against real AWS, where
 * buckets and workgroups are an operator's decision, not a script's.
 */
import { CreateWorkGroupCommand, GetWorkGroupCommand } from '@aws-sdk/client-athena';
import { CreateBucketCommand, HeadBucketCommand } from '@aws-sdk/client-s3';
import { loadConfig } from '../config/config';
import { createAwsClients, destroyAwsClients } from '../lake/aws/awsClients';
import { parseAwsSettings } from '../config/awsSettings';

async function main(): Promise<void> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CLICKSTREAM_AWS_')));
  const config = loadConfig(env);
  const parsed = parseAwsSettings(process.env);
  if (!parsed.ok) throw new Error(`Invalid AWS settings:\n  - ${parsed.problems.join('\n  - ')}`);
  const settings = parsed.settings;
  if (!settings.endpoints.s3 || !settings.endpoints.athena) {
    throw new Error('awsEmulatorSetup only runs against an emulator: set CLICKSTREAM_AWS_ENDPOINT_URL (e.g. http://moto:5000)');
  }
  const clients = createAwsClients(settings);
  try {
    const bucket = config.lake.bucket;
    const hasBucket = await clients.s3.send(new HeadBucketCommand({ Bucket: bucket })).then(() => true, () => false);
    if (!hasBucket) await clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const wg = settings.athena.workGroup;
    const existing = await clients.athena.send(new GetWorkGroupCommand({ WorkGroup: wg })).then((r) => r.WorkGroup, () => undefined);
    if (!existing) {
      await clients.athena.send(
        new CreateWorkGroupCommand({
          Name: wg,
          Configuration: settings.athena.outputLocation ? { ResultConfiguration: { OutputLocation: settings.athena.outputLocation } } : {},
        }),
      );
    }
    console.error(`emulator ready: bucket s3://${bucket}, Athena workgroup ${wg}`);
  } finally {
    destroyAwsClients(clients);
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
