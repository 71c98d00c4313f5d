/**
 * A real AWS-API emulator for the integration tests: moto in server mode from the project's
 * .venv (scripts/setup-moto.sh), on a free loopback port, reset between tests. If moto is not
 * installed the tests FAIL with the command to run; they are never skipped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { freePort } from '../../../devserver/freePort';

export const MOTO_BIN = path.resolve(__dirname, '..', '..', '..', '.venv', 'bin', 'moto_server');
const VENV_PYTHON = path.resolve(__dirname, '..', '..', '..', '.venv', 'bin', 'python');
/** moto's server plus no-op Glue column-statistics actions, which Trino calls and moto lacks (see the file). */
const MOTO_LAUNCHER = path.join(__dirname, 'moto_server.py');

/** moto's default account, region and the credentials it accepts (any). */
export const MOTO_REGION = 'us-east-1';
export const MOTO_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };

export interface AthenaResultRow {
  [column: string]: string;
}

export class MotoServer {
  private constructor(
    readonly url: string,
    private readonly child: ChildProcess,
    private readonly output: string[],
  ) {}

  static async start(opts: { timeoutMs?: number } = {}): Promise<MotoServer> {
    if (!existsSync(MOTO_BIN)) {
      throw new Error(`moto is not installed at ${MOTO_BIN}; run \`bash scripts/setup-moto.sh\` (creates .venv/ with moto[server]) and re-run the tests`);
    }
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const output: string[] = [];
    const child = spawn(VENV_PYTHON, [MOTO_LAUNCHER, '-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (b: Buffer) => {
      output.push(b.toString());
      if (output.length > 200) output.shift();
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const server = new MotoServer(url, child, output);
    const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}: ${output.join('').slice(-2000)}`);
      try {
        const res = await fetch(`${url}/moto-api/data.json`);
        if (res.ok) return server;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    await server.stop();
    throw new Error(`moto_server did not answer on ${url} within ${opts.timeoutMs ?? 30_000} ms: ${output.join('').slice(-2000)}`);
  }

  /** Forgets every bucket, table and query (POST /moto-api/reset). State-manager transitions survive; tests set theirs. */
  async reset(): Promise<void> {
    await this.post('/moto-api/reset', undefined);
  }

  /**
   * Athena queries advance one state every `times` GetQueryExecution calls (manual progression),
   * so QUEUED -> RUNNING -> SUCCEEDED is really polled. moto counts the call that reads the state,
   * so with times = 2 the states seen are QUEUED, RUNNING, RUNNING, SUCCEEDED.
   */
  async setAthenaManualProgression(times: number): Promise<void> {
    await this.post('/moto-api/state-manager/set-transition', {
      model_name: 'athena::execution',
      transition: { progression: 'manual', times },
    });
  }

  async unsetAthenaTransition(): Promise<void> {
    await this.post('/moto-api/state-manager/unset-transition', { model_name: 'athena::execution' });
  }

  /**
   * Queues one result set for the next query whose results are asked for (moto executes nothing).
   * The first row repeats the column names, as a real Athena SELECT result does.
   */
  async queueAthenaResult(columns: string[], rows: AthenaResultRow[], types: Record<string, string> = {}): Promise<void> {
    const toRow = (values: string[]) => ({ Data: values.map((v) => ({ VarCharValue: v })) });
    await this.post('/moto-api/static/athena/query-results', {
      region: MOTO_REGION,
      results: [
        {
          rows: [toRow(columns), ...rows.map((r) => toRow(columns.map((c) => r[c] ?? '')))],
          column_info: columns.map((c) => ({ Name: c, Label: c, Type: types[c] ?? 'varchar', CatalogName: 'hive', SchemaName: '', TableName: '', Nullable: 'UNKNOWN', CaseSensitive: true })),
        },
      ],
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }

  private async post(route: string, body: unknown): Promise<void> {
    const res = await fetch(`${this.url}${route}`, {
      method: 'POST',
      headers: body === undefined ? undefined : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`moto ${route} answered ${res.status}: ${await res.text()}`);
  }
}

/**
 * Mocha hooks for a test file: one moto server for the file, reset before each test, with Athena's
 * manual progression set when asked (the reset keeps transitions, so it is unset after the file).
 * Returns a getter, since the server exists only once the `before` hook has run.
 */
export function useMotoServer(opts: { athenaManualProgression?: number } = {}): () => MotoServer {
  let server: MotoServer | undefined;
  before(async () => {
    server = await MotoServer.start();
  });
  after(async () => {
    if (opts.athenaManualProgression !== undefined) await server?.unsetAthenaTransition().catch(() => undefined);
    await server?.stop();
  });
  beforeEach(async () => {
    await server!.reset();
    if (opts.athenaManualProgression !== undefined) await server!.setAthenaManualProgression(opts.athenaManualProgression);
  });
  return () => {
    if (!server) throw new Error('moto server not started: call useMotoServer() inside describe(), and use it in hooks or tests');
    return server;
  };
}
