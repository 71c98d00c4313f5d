/**
 * SDK v3 clients built from AwsSettings: the default credential chain and region, an optional
 * endpoint per service (emulators), path-style S3 where asked. One set per worker process.
 */
import { AthenaClient } from '@aws-sdk/client-athena';
import { GlueClient } from '@aws-sdk/client-glue';
import { S3Client } from '@aws-sdk/client-s3';
import { STSClient } from '@aws-sdk/client-sts';
import type { AwsSettings } from '../../config/awsSettings';

export interface AwsClients {
  s3: S3Client;
  glue: GlueClient;
  athena: AthenaClient;
  sts: STSClient;
}

/** Static credentials are for emulators and tests only; production uses the default provider chain. */
export function createAwsClients(
  settings: AwsSettings,
  extra: { credentials?: { accessKeyId: string; secretAccessKey: string } } = {},
): AwsClients {
  const common = {
    ...(settings.region ? { region: settings.region } : {}),
    ...(extra.credentials ? { credentials: extra.credentials } : {}),
    maxAttempts: settings.maxAttempts,
  };
  return {
    s3: new S3Client({ ...common, endpoint: settings.endpoints.s3, forcePathStyle: settings.s3ForcePathStyle }),
    glue: new GlueClient({ ...common, endpoint: settings.endpoints.glue }),
    athena: new AthenaClient({ ...common, endpoint: settings.endpoints.athena }),
    sts: new STSClient({ ...common, endpoint: settings.endpoints.sts }),
  };
}

export function destroyAwsClients(clients: AwsClients): void {
  clients.s3.destroy();
  clients.glue.destroy();
  clients.athena.destroy();
  clients.sts.destroy();
}
