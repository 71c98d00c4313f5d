/**
 * A real Trino 476 server for the tests and benchmarks: a single node (a coordinator that
 * schedules on itself) on 127.0.0.1 and a free port, with one Hive catalog whose metastore is
 * moto's Glue and whose file system is moto's S3. Installed by scripts/setup-trino.sh (npm test
 * runs it first); if the install or Java 25 is missing the caller FAILS with the command that
 * gets it, never skips.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from '../../../devserver/freePort';
import { runToEnd, TrinoQueryError } from '../../../lake/trino/trinoProtocol';

export const TRINO_VERSION = '476';

/** Where scripts/setup-trino.sh unpacks the server (same rule as the script: XDG_CACHE_HOME or ~/.cache). */
export function trinoInstallDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'clickstream-lake', `trino-server-${TRINO_VERSION}`);
}

/** Trino 476 needs Java 24+: JAVA25_HOME, then JAVA_HOME if it is new enough, then the machine's Temurin 25. */
export function findJava25(env: NodeJS.ProcessEnv = process.env): string {
  const candidates = [env.JAVA25_HOME, env.JAVA_HOME, '/usr/lib/jvm/temurin-25-jdk-amd64', '/usr/lib/jvm/java-25-openjdk-amd64'];
  for (const home of candidates) {
    if (!home) continue;
    const release = path.join(home, 'release');
    if (!existsSync(path.join(home, 'bin', 'java')) || !existsSync(release)) continue;
    const text = require('node:fs').readFileSync(release, 'utf8') as string;
    const major = Number(/JAVA_VERSION="(\d+)/.exec(text)?.[1] ?? 0);
    if (major >= 24) return home;
  }
  throw new Error(
    `Trino ${TRINO_VERSION} needs a Java 24+ JDK and none was found (looked at JAVA25_HOME, JAVA_HOME, /usr/lib/jvm/temurin-25-jdk-amd64). ` +
      `Install Eclipse Temurin 25 (https://adoptium.net) or 'apt-get install openjdk-25-jdk-headless', then set JAVA25_HOME to it`,
  );
}

export interface TrinoServerOptions {
  /** moto's URL: the Hive catalog's Glue metastore and S3 file system both point at it. */
  motoUrl: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** The catalog's name; `hive` unless a test says otherwise. */
  catalog?: string;
  timeoutMs?: number;
}

export class TrinoServer {
  private constructor(
    readonly url: string,
    readonly catalog: string,
    private readonly child: ChildProcess,
    private readonly workDir: string,
    private readonly output: string[],
  ) {}

  /** Process id, for RSS measurements in the benchmarks. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  static async start(opts: TrinoServerOptions): Promise<TrinoServer> {
    const home = trinoInstallDir();
    if (!existsSync(path.join(home, '.installed'))) {
      throw new Error(`Trino ${TRINO_VERSION} is not installed at ${home}; run \`bash scripts/setup-trino.sh\` (npm test does) and re-run`);
    }
    const javaHome = findJava25();
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const catalog = opts.catalog ?? 'hive';
    const workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'clickstream-trino-'));
    await writeEtc(path.join(workDir, 'etc'), { port, dataDir: path.join(workDir, 'data'), catalog, ...opts });

    const output: string[] = [];
    const child = spawn(path.join(home, 'bin', 'launcher'), ['run', `--etc-dir=${path.join(workDir, 'etc')}`, `--data-dir=${path.join(workDir, 'data')}`], {
      env: { ...process.env, JAVA_HOME: javaHome, PATH: `${path.join(javaHome, 'bin')}${path.delimiter}${process.env.PATH ?? ''}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (b: Buffer) => {
      output.push(b.toString());
      if (output.length > 400) output.shift();
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const server = new TrinoServer(url, catalog, child, workDir, output);

    const timeoutMs = opts.timeoutMs ?? 180_000;
    const deadline = Date.now() + timeoutMs;
    let lastProblem = '';
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`trino exited with ${child.exitCode} before it was ready:\n${server.tail()}`);
      try {
        const res = await fetch(`${url}/v1/info`);
        // Started is not yet schedulable: until the coordinator's node is listed for the Hive catalog,
        // queries that read or write its tables fail with NO_NODES_AVAILABLE (fresh-clone CI hit it
        // in bench B10 and in the first aws test). So ready means a Hive write and read went through.
        if (res.ok && (await res.json() as { starting?: boolean }).starting === false && (await hiveRoundTrip(url, catalog, opts.motoUrl, port))) return server;
      } catch (err) {
        lastProblem = (err as Error).message; // not listening yet, or not answering queries yet
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    await server.stop();
    throw new Error(`trino did not finish starting on ${url} within ${timeoutMs} ms (last: ${lastProblem || 'no answer'}):\n${server.tail()}`);
  }

  /** The last lines the server printed (its log goes to stdout with `launcher run`). */
  tail(chars = 4000): string {
    return this.output.join('').slice(-chars);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    if (!process.env.CLICKSTREAM_TEST_KEEP_DIRS) await fs.rm(this.workDir, { recursive: true, force: true });
  }
}

async function writeEtc(
  etc: string,
  o: TrinoServerOptions & { port: number; dataDir: string; catalog: string },
): Promise<void> {
  await fs.mkdir(path.join(etc, 'catalog'), { recursive: true });
  const props = (entries: Record<string, string | number | boolean>) =>
    Object.entries(entries)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n') + '\n';
  await fs.writeFile(
    path.join(etc, 'node.properties'),
    props({ 'node.environment': 'clickstream_test', 'node.id': `clickstream-test-${o.port}`, 'node.data-dir': o.dataDir, 'node.internal-address': '127.0.0.1' }),
  );
  await fs.writeFile(
    path.join(etc, 'config.properties'),
    props({
      coordinator: true,
      'node-scheduler.include-coordinator': true,
      'http-server.http.port': o.port,
      'discovery.uri': `http://127.0.0.1:${o.port}`,
      // One machine with 2 cores: keep the engine within the heap and the tests' memory budget.
      'query.max-memory': '1GB',
      'query.max-memory-per-node': '1GB',
      // Finished queries stay listed in system.runtime.queries long enough for a retried attempt to
      // find its own by token (the default keeps only the last 100, which a test run outgrows).
      'query.min-expire-age': '30m',
      'query.max-history': 20000,
    }),
  );
  await fs.writeFile(
    path.join(etc, 'jvm.config'),
    [
      '-server',
      '-Xmx2G',
      '-XX:+UseG1GC',
      '-XX:+ExplicitGCInvokesConcurrent',
      '-XX:+ExitOnOutOfMemoryError',
      '-XX:ReservedCodeCacheSize=256M',
      '-Djdk.attach.allowAttachSelf=true',
      // Zone-less timestamps must mean UTC whatever the machine's zone, as on Athena.
      '-Duser.timezone=UTC',
      '-Dfile.encoding=UTF-8',
    ].join('\n') + '\n',
  );
  await fs.writeFile(path.join(etc, 'log.properties'), 'io.trino=WARN\nio.trino.server.TrinoServer=INFO\n');
  await fs.writeFile(
    path.join(etc, 'catalog', `${o.catalog}.properties`),
    props({
      'connector.name': 'hive',
      'hive.metastore': 'glue',
      'hive.metastore.glue.region': o.region,
      'hive.metastore.glue.endpoint-url': o.motoUrl,
      'hive.metastore.glue.aws-access-key': o.credentials.accessKeyId,
      'hive.metastore.glue.aws-secret-key': o.credentials.secretAccessKey,
      'fs.native-s3.enabled': true,
      's3.endpoint': o.motoUrl,
      's3.region': o.region,
      's3.path-style-access': true,
      's3.aws-access-key': o.credentials.accessKeyId,
      's3.aws-secret-key': o.credentials.secretAccessKey,
      // The pipeline's tables are EXTERNAL (Glue tables over our own S3 prefixes), as on Athena.
      'hive.non-managed-table-writes-enabled': true,
      'hive.non-managed-table-creates-enabled': true,
    }),
  );
}

/**
 * One CTAS into the Hive catalog and a scan of it, in a bucket and schema of their own (removed
 * again): true once both run, false while the scheduler has no node for the catalog yet.
 */
async function hiveRoundTrip(url: string, catalog: string, motoUrl: string, port: number): Promise<boolean> {
  const name = `trino_readiness_${port}`;
  const bucket = name.replace(/_/g, '-');
  const run = (sql: string) => runToEnd({ server: url, user: 'readiness', catalog, schema: 'default' }, sql);
  try {
    await fetch(`${motoUrl}/${bucket}`, { method: 'PUT' });
    await run(`CREATE SCHEMA IF NOT EXISTS ${catalog}.${name} WITH (location = 's3://${bucket}/')`);
    await run(`DROP TABLE IF EXISTS ${catalog}.${name}.probe`);
    await run(`CREATE TABLE ${catalog}.${name}.probe AS SELECT 1 AS x`);
    const { rows } = await run(`SELECT count(*) FROM ${catalog}.${name}.probe`);
    await run(`DROP TABLE ${catalog}.${name}.probe`);
    await run(`DROP SCHEMA ${catalog}.${name}`);
    return Number(rows[0]?.[0]) === 1;
  } catch (err) {
    if (err instanceof TrinoQueryError && err.error.errorName === 'NO_NODES_AVAILABLE') return false;
    throw err;
  }
}
