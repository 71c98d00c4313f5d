/**
 * `clickstream doctor`: checks that the configured backend is usable before the first hour runs,
 * and prints pass/fail for each check with the fix. For the `aws` and `trino` backends:
 * credentials (STS GetCallerIdentity), bucket and prefixes (HeadBucket, ListObjectsV2), database
 * and tables (Glue GetDatabase/GetTable). Then on `aws` the workgroup and its output location
 * (Athena GetWorkGroup); on `trino` the coordinator (GET /v1/info), the user (`SELECT 1`), the
 * catalog (system.metadata.catalogs: exists, Hive connector) and the Glue database as its schema
 * (SHOW SCHEMAS). For every backend the Temporal connection.
 */
import { promises as fs } from 'node:fs';
import { GetWorkGroupCommand } from '@aws-sdk/client-athena';
import { GetDatabaseCommand, GetTableCommand } from '@aws-sdk/client-glue';
import { HeadBucketCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { Connection } from '@temporalio/client';
import type { PipelineConfig } from '../config/config';
import { createAwsClients, destroyAwsClients, type AwsClients } from '../lake/aws/awsClients';
import { defaultAwsSettings, type AwsSettings } from '../config/awsSettings';
import { classifyAwsError, type AwsCallContext } from '../lake/aws/classifyAwsError';
import { rawLinesTableName } from '../lake/aws/glueTables';
import { runToEnd, TrinoHttpError, TrinoQueryError, type TrinoSession } from '../lake/trino/trinoProtocol';

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
  /** Deadline of the Temporal check and of Trino's GET /v1/info (default 5 s). */
  timeoutMs?: number;
  /** Deadline of each Trino query check (default 30 s: a cold coordinator plans its first query slowly). */
  trinoQueryTimeoutMs?: number;
}

export async function runDoctor(
  config: PipelineConfig & { aws?: AwsSettings },
  opts: DoctorOptions = {},
): Promise<{ ok: boolean; checks: DoctorCheck[] }> {
  const checks: DoctorCheck[] = [];
  const add = (name: string, ok: boolean, detail: string, fix = '') => checks.push({ name, ok, detail, fix: ok ? '' : fix });
  add('config', true, `backend ${config.backend}; bucket ${config.lake.bucket}; tables ${config.tables.database}.{${config.tables.raw}, ${config.tables.curated}}`);

  if (config.backend === 'aws' || config.backend === 'trino') {
    // The trino backend keeps the aws backend's S3 object store and Glue catalog; only the engine differs.
    await withAwsClients(config, opts, async (settings, clients) => {
      const glue = await s3AndGlueChecks(config, clients, add);
      if (config.backend === 'aws') await athenaChecks(settings, clients, add);
      else await trinoChecks(config, opts, add, glue);
    });
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

/** Settings and clients for the S3, Glue and Athena checks; clients the caller did not pass are destroyed after. */
async function withAwsClients(
  config: PipelineConfig & { aws?: AwsSettings },
  opts: DoctorOptions,
  fn: (settings: AwsSettings, clients: AwsClients) => Promise<void>,
): Promise<void> {
  const settings = opts.aws ?? config.aws ?? defaultAwsSettings();
  const clients = opts.clients ?? createAwsClients(settings);
  try {
    await fn(settings, clients);
  } finally {
    if (!opts.clients) destroyAwsClients(clients);
  }
}

type Probe = (name: string, ctx: AwsCallContext, fix: string, fn: () => Promise<string>) => Promise<boolean>;

/** Runs one AWS check; a thrown SDK error becomes a failed check with the classifier's message. */
function awsProbe(add: Add): Probe {
  return async (name, ctx, fix, fn) => {
    try {
      add(name, true, await fn());
      return true;
    } catch (err) {
      const e = classifyAwsError(err, ctx);
      add(name, false, e.message, e.type === 'AccessDenied' ? `${fix}; or grant the action (iam/worker-policy.json)` : fix);
      return false;
    }
  };
}

/** Credentials, bucket, prefixes, Glue database and tables: what the aws and trino backends share. */
async function s3AndGlueChecks(config: PipelineConfig, clients: AwsClients, add: Add): Promise<{ databaseOk: boolean }> {
  const probe = awsProbe(add);
  const { bucket, rawPrefix, curatedPrefix } = config.lake;
  const { database, raw, curated } = config.tables;
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
  const databaseOk = await probe('database', { service: 'Glue', operation: 'GetDatabase', resource: database }, `start the worker once (it creates the database and tables) or set CLICKSTREAM_DATABASE`, async () => {
    await clients.glue.send(new GetDatabaseCommand({ Name: database }));
    return `Glue database ${database} exists`;
  });
  if (databaseOk) {
    for (const table of [raw, rawLinesTableName(raw), curated]) {
      await probe(`table ${table}`, { service: 'Glue', operation: 'GetTable', resource: `${database}.${table}` }, 'start the worker once (it creates the tables) or check CLICKSTREAM_RAW_TABLE / CLICKSTREAM_CURATED_TABLE', async () => {
        const t = await clients.glue.send(new GetTableCommand({ DatabaseName: database, Name: table }));
        return `${database}.${table} at ${t.Table?.StorageDescriptor?.Location ?? '(no location)'}`;
      });
    }
  }
  return { databaseOk };
}

/** The Athena workgroup and where its query results go (aws backend only). */
async function athenaChecks(settings: AwsSettings, clients: AwsClients, add: Add): Promise<void> {
  const probe = awsProbe(add);
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
}

/** A check's failure: what went wrong, and the fix that names the setting to change. */
class TrinoCheckFailed extends Error {
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
    this.name = 'TrinoCheckFailed';
  }
}

const HIVE_CATALOG_FIX = 'hive.metastore=glue (docker/trino/catalog/hive.properties is a working example)';

/**
 * The Trino engine, in the order a query needs it: the coordinator answers, the user may run a
 * query, the catalog exists and is a Hive catalog, and its metastore shows the Glue database as a
 * schema. A failed step skips the ones after it, whose failures would only repeat it.
 */
async function trinoChecks(config: PipelineConfig, opts: DoctorOptions, add: Add, glue: { databaseOk: boolean }): Promise<void> {
  const { url, catalog, user } = config.trino;
  const { database } = config.tables;
  const queryTimeoutMs = opts.trinoQueryTimeoutMs ?? 30_000;
  // Control queries run in the system catalog, which every Trino has, so a wrong catalog shows up in its own check.
  const session: TrinoSession = { server: url, user, catalog: 'system', schema: 'runtime', source: 'clickstream-lake:doctor' };
  const query = (sql: string) => withTimeout(runToEnd(session, sql), queryTimeoutMs, `no answer from Trino at ${url} to ${sql}`);
  const probe = async (name: string, defaultFix: string, fn: () => Promise<string>): Promise<boolean> => {
    try {
      add(name, true, await fn());
      return true;
    } catch (err) {
      if (err instanceof TrinoCheckFailed) add(name, false, err.message, err.fix);
      else add(name, false, describeTrinoError(err, url), defaultFix);
      return false;
    }
  };
  const urlFix = `start Trino or set CLICKSTREAM_TRINO_URL to its coordinator (http(s)://host:port)`;

  const coordinatorOk = await probe('trino coordinator', urlFix, async () => {
    const res = await fetch(`${url}/v1/info`, { headers: { 'X-Trino-User': user }, signal: AbortSignal.timeout(opts.timeoutMs ?? 5_000) });
    const text = await res.text();
    let info: { nodeVersion?: { version?: string }; coordinator?: boolean; starting?: boolean; environment?: string; uptime?: string } | undefined;
    try {
      info = JSON.parse(text) as typeof info;
    } catch {
      info = undefined;
    }
    if (!res.ok || typeof info?.nodeVersion?.version !== 'string') {
      throw new TrinoCheckFailed(
        `${url} answered GET /v1/info with HTTP ${res.status}${info ? '' : ' and no JSON'}, not as a Trino coordinator (another service on that port?)`,
        `set CLICKSTREAM_TRINO_URL to the Trino coordinator's URL (docker compose: http://trino:8080 inside the stack, http://localhost:8081 from the host)`,
      );
    }
    if (info.coordinator === false) {
      throw new TrinoCheckFailed(`${url} is a Trino worker, not the coordinator`, 'set CLICKSTREAM_TRINO_URL to the coordinator (the node with coordinator=true)');
    }
    if (info.starting) {
      throw new TrinoCheckFailed(`Trino ${info.nodeVersion.version} at ${url} is still starting`, 'wait until GET /v1/info shows "starting": false, then re-run doctor');
    }
    return `Trino ${info.nodeVersion.version} coordinator at ${url} (environment ${info.environment ?? '?'}, up ${info.uptime ?? '?'})`;
  });
  if (!coordinatorOk) return;

  const userOk = await probe('trino user', `set CLICKSTREAM_TRINO_USER to a user Trino lets run queries (this client sends the user header only, no password)`, async () => {
    await query('SELECT 1');
    return `user ${user} can run queries (SELECT 1)`;
  });
  if (!userOk) return;

  const catalogOk = await probe('trino catalog', `check CLICKSTREAM_TRINO_CATALOG`, async () => {
    const { rows } = await query('SELECT catalog_name, connector_name FROM system.metadata.catalogs ORDER BY catalog_name');
    const catalogs = rows.map(([name, connector]) => ({ name: String(name), connector: String(connector) }));
    const found = catalogs.find((c) => c.name === catalog);
    if (!found) {
      throw new TrinoCheckFailed(
        `Trino at ${url} has no catalog ${catalog} (it has: ${listSome(catalogs.map((c) => c.name))})`,
        `set CLICKSTREAM_TRINO_CATALOG to the Hive catalog over Glue, or add etc/catalog/${catalog}.properties with connector.name=hive and ${HIVE_CATALOG_FIX}`,
      );
    }
    if (found.connector !== 'hive') {
      throw new TrinoCheckFailed(
        `catalog ${catalog} uses the ${found.connector} connector, not hive: the pipeline's tables are Hive tables in Glue`,
        `set CLICKSTREAM_TRINO_CATALOG to a catalog with connector.name=hive and ${HIVE_CATALOG_FIX}`,
      );
    }
    return `catalog ${catalog} is a Hive catalog`;
  });
  if (!catalogOk) return;

  await probe('trino schema', `check CLICKSTREAM_TRINO_CATALOG and CLICKSTREAM_DATABASE`, async () => {
    // The catalog name is an identifier from validated config (lower-case letters, digits, underscore).
    const { rows } = await query(`SHOW SCHEMAS FROM "${catalog}"`);
    const schemas = rows.map(([name]) => String(name));
    if (!schemas.includes(database)) {
      throw new TrinoCheckFailed(
        glue.databaseOk
          ? `Glue database ${database} exists, but catalog ${catalog} does not list it (it lists: ${listSome(schemas)}): its metastore is not the Glue catalog the worker uses`
          : `catalog ${catalog} has no schema ${database} (it lists: ${listSome(schemas)}), and Glue has no database ${database}`,
        glue.databaseOk
          ? `configure catalog ${catalog} with hive.metastore=glue in the worker's region and account (hive.metastore.glue.region, and hive.metastore.glue.endpoint-url matching CLICKSTREAM_AWS_ENDPOINT_URL / CLICKSTREAM_AWS_GLUE_ENDPOINT_URL for an emulator), or set CLICKSTREAM_TRINO_CATALOG to the catalog that has it`
          : `start the worker once (it creates the database in Glue) or set CLICKSTREAM_DATABASE`,
      );
    }
    return `catalog ${catalog} shows the Glue database ${database} as a schema`;
  });
}

/** A Trino call's failure as one line: the query error, the HTTP status, or the network cause; never a stack. */
function describeTrinoError(err: unknown, url: string): string {
  if (err instanceof TrinoQueryError) return `${err.error.errorName}: ${err.error.message}`;
  if (err instanceof TrinoHttpError) return err.message;
  const e = err as Error & { cause?: { message?: string; code?: string } };
  if (e.name === 'TimeoutError') return e.message.startsWith('no answer') ? e.message : `no answer from Trino at ${url}: ${e.message}`;
  const cause = e.cause?.message ?? e.cause?.code;
  return `cannot reach Trino at ${url}: ${e.message}${cause ? ` (${cause})` : ''}`;
}

/** At most ten names, for messages. */
function listSome(names: string[]): string {
  if (names.length === 0) return 'none';
  return names.length > 10 ? `${names.slice(0, 10).join(', ')}, … (${names.length} in all)` : names.join(', ');
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
      timer = setTimeout(() => reject(Object.assign(new Error(`${what} within ${ms} ms`), { name: 'TimeoutError' })), ms);
    }),
  ]);
}
