/**
 * `clickstream doctor`: checks that the configured backend is usable before the first hour runs,
 * and prints pass/fail for each check with the fix. For the `aws` backend: credentials (STS
 * GetCallerIdentity), bucket and prefixes (HeadBucket, ListObjectsV2), database and tables
 * (Glue GetDatabase/GetTable), workgroup and its output location (Athena GetWorkGroup); for both
 * backends the Temporal connection.
 */
import { promises as fs } from 'node:fs';
import { GetWorkGroupCommand } from '@aws-sdk/client-athena';
import { GetDatabaseCommand, GetTableCommand } from '@aws-sdk/client-glue';
import { HeadBucketCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { Connection } from '@temporalio/client';
import type { PipelineConfig } from '../config/config';
import { createAwsClients, destroyAwsClients, type AwsClients } from '../lake/aws/awsClients';
import { defaultAwsSettings, type AwsSettings } from '../lake/aws/awsSettings';
import { classifyAwsError, type AwsCallContext } from '../lake/aws/classifyAwsError';
import { rawLinesTableName } from '../lake/aws/glueTables';

export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
  /** What to do when the check fails; empty when it passed. */
  fix: string;
}

export interface DoctorOptions {
  /** Parsed CLICKSTREAM_AWS_* settings; defaults to config.aws, then to the defaults. */
  aws?: AwsSettings;
  /** Pre-built clients (tests, emulators with static credentials). */
  clients?: AwsClients;
  /** Connects to Temporal and returns a description; defaults to a real client connection. */
  checkTemporal?: (address: string, namespace: string) => Promise<string>;
  timeoutMs?: number;
}

export async function runDoctor(
  config: PipelineConfig & { aws?: AwsSettings },
  opts: DoctorOptions = {},
): Promise<{ ok: boolean; checks: DoctorCheck[] }> {
  const checks: DoctorCheck[] = [];
  const add = (name: string, ok: boolean, detail: string, fix = '') => checks.push({ name, ok, detail, fix: ok ? '' : fix });
  add('config', true, `backend ${config.backend}; bucket ${config.lake.bucket}; tables ${config.tables.database}.{${config.tables.raw}, ${config.tables.curated}}`);

  if (config.backend === 'aws') {
    await awsChecks(config, opts, add);
  } else {
    const dir = config.lake.dir;
    const isDir = await fs.stat(dir).then((s) => s.isDirectory(), () => false);
    add('lake folder', isDir, isDir ? dir : `${dir} is missing or not a folder`, `create it (mkdir -p ${dir}) or set CLICKSTREAM_LAKE_DIR`);
  }

  const { address, namespace } = config.temporal;
  try {
    const detail = await withTimeout((opts.checkTemporal ?? connectTemporal)(address, namespace), opts.timeoutMs ?? 5_000, `no answer from ${address}`);
    add('temporal', true, detail);
  } catch (err) {
    add('temporal', false, `cannot reach Temporal at ${address} (namespace ${namespace}): ${(err as Error).message}`, 'start the Temporal server (or `docker compose up temporal`) or set TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE');
  }
  return { ok: checks.every((c) => c.ok), checks };
}

/**
 * `clickstream doctor`, ready to register: runs every check, prints the report line by line, and
 * returns the process exit code, 0 when every check passed and 1 otherwise. Config problems never
 * get this far: loadConfig has already rejected them with one error listing each.
 */
export async function doctorCommand(
  config: PipelineConfig & { aws?: AwsSettings },
  out: (line: string) => void = (line) => console.log(line),
  opts: DoctorOptions = {},
): Promise<number> {
  const result = await runDoctor(config, opts);
  for (const line of formatDoctorReport(result).split('\n')) out(line);
  return result.ok ? 0 : 1;
}

/** The report as the CLI prints it: one PASS/FAIL line per check, the fix under each failure. */
export function formatDoctorReport(result: { ok: boolean; checks: DoctorCheck[] }): string {
  const lines = result.checks.flatMap((c) => (c.ok ? [`PASS ${c.name}: ${c.detail}`] : [`FAIL ${c.name}: ${c.detail}`, `     fix: ${c.fix}`]));
  lines.push(result.ok ? 'all checks passed' : `${result.checks.filter((c) => !c.ok).length} of ${result.checks.length} checks failed`);
  return lines.join('\n');
}

type Add = (name: string, ok: boolean, detail: string, fix?: string) => void;

async function awsChecks(config: PipelineConfig & { aws?: AwsSettings }, opts: DoctorOptions, add: Add): Promise<void> {
  const settings = opts.aws ?? config.aws ?? defaultAwsSettings();
  const clients = opts.clients ?? createAwsClients(settings);
  const { bucket, rawPrefix, curatedPrefix } = config.lake;
  const { database, raw, curated } = config.tables;
  /** Runs one check; a thrown SDK error becomes a failed check with the classifier's message. */
  const probe = async (name: string, ctx: AwsCallContext, fix: string, fn: () => Promise<string>): Promise<boolean> => {
    try {
      add(name, true, await fn());
      return true;
    } catch (err) {
      const e = classifyAwsError(err, ctx);
      add(name, false, e.message, e.type === 'AccessDenied' ? `${fix}; or grant the action (iam/worker-policy.json)` : fix);
      return false;
    }
  };
  try {
    await probe('credentials', { service: 'STS', operation: 'GetCallerIdentity' }, 'configure credentials for the default chain (AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or an instance/task role) and a region (AWS_REGION or CLICKSTREAM_AWS_REGION)', async () => {
      const id = await clients.sts.send(new GetCallerIdentityCommand({}));
      return `account ${id.Account}, ${id.Arn}`;
    });
    const bucketOk = await probe('bucket', { service: 'S3', operation: 'HeadBucket', resource: bucket }, `create bucket ${bucket} or set CLICKSTREAM_BUCKET`, async () => {
      await clients.s3.send(new HeadBucketCommand({ Bucket: bucket }));
      return `s3://${bucket} exists and is reachable`;
    });
    if (bucketOk) {
      for (const [name, prefix, setting] of [
        ['raw prefix', rawPrefix, 'CLICKSTREAM_RAW_PREFIX'],
        ['curated prefix', curatedPrefix, 'CLICKSTREAM_CURATED_PREFIX'],
      ] as const) {
        await probe(name, { service: 'S3', operation: 'ListObjectsV2', resource: `s3://${bucket}/${prefix}/` }, `grant s3:ListBucket on it or set ${setting}`, async () => {
          const res = await clients.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}/`, MaxKeys: 1 }));
          return `s3://${bucket}/${prefix}/ is listable (${(res.KeyCount ?? 0) > 0 ? 'has objects' : 'empty so far'})`;
        });
      }
    }
    const dbOk = await probe('database', { service: 'Glue', operation: 'GetDatabase', resource: database }, `start the worker once (it creates the database and tables) or set CLICKSTREAM_DATABASE`, async () => {
      await clients.glue.send(new GetDatabaseCommand({ Name: database }));
      return `Glue database ${database} exists`;
    });
    if (dbOk) {
      for (const table of [raw, rawLinesTableName(raw), curated]) {
        await probe(`table ${table}`, { service: 'Glue', operation: 'GetTable', resource: `${database}.${table}` }, 'start the worker once (it creates the tables) or check CLICKSTREAM_RAW_TABLE / CLICKSTREAM_CURATED_TABLE', async () => {
          const t = await clients.glue.send(new GetTableCommand({ DatabaseName: database, Name: table }));
          return `${database}.${table} at ${t.Table?.StorageDescriptor?.Location ?? '(no location)'}`;
        });
      }
    }
    const wg = settings.athena.workGroup;
    let workgroupOutput: string | undefined;
    const wgOk = await probe('workgroup', { service: 'Athena', operation: 'GetWorkGroup', resource: wg, setting: 'CLICKSTREAM_AWS_ATHENA_WORKGROUP' }, `create Athena workgroup ${wg} or set CLICKSTREAM_AWS_ATHENA_WORKGROUP`, async () => {
      const res = await clients.athena.send(new GetWorkGroupCommand({ WorkGroup: wg }));
      // Athena answers InvalidRequestException for an unknown workgroup; some emulators answer with no WorkGroup.
      if (!res.WorkGroup) throw Object.assign(new Error(`WorkGroup ${wg} is not found`), { name: 'InvalidRequestException' });
      if (res.WorkGroup?.State && res.WorkGroup.State !== 'ENABLED') throw Object.assign(new Error(`workgroup ${wg} is ${res.WorkGroup.State}`), { name: 'InvalidRequest' });
      workgroupOutput = res.WorkGroup?.Configuration?.ResultConfiguration?.OutputLocation;
      return `Athena workgroup ${wg} is enabled`;
    });
    if (wgOk) {
      const output = settings.athena.outputLocation ?? workgroupOutput;
      add(
        'output location',
        output !== undefined,
        output ? `query results go to ${output}${settings.athena.outputLocation ? '' : " (the workgroup's)"}` : `neither CLICKSTREAM_AWS_ATHENA_OUTPUT_LOCATION nor workgroup ${wg} names a result location`,
        'set CLICKSTREAM_AWS_ATHENA_OUTPUT_LOCATION=s3://bucket/prefix/ or configure the workgroup\'s query result location',
      );
    }
  } finally {
    if (!opts.clients) destroyAwsClients(clients);
  }
}

async function connectTemporal(address: string, namespace: string): Promise<string> {
  const connection = await Connection.connect({ address, connectTimeout: 3_000 });
  try {
    const info = await connection.workflowService.getSystemInfo({});
    await connection.workflowService.describeNamespace({ namespace });
    return `connected to ${address} (server ${info.serverVersion || 'unknown version'}), namespace ${namespace} exists`;
  } finally {
    await connection.close();
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
    }),
  ]);
}
