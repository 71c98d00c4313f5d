/**
 * A real Prometheus server (Debian's package, 2.42) for one test: its own config, data folder and
 * free port, stopped by the caller. Missing binaries fail the test with the command that installs
 * them; the test is never skipped.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from '../../devserver/freePort';
import { waitFor } from './waitFor';

export const RULES_FILE = path.resolve(__dirname, '..', '..', 'ops', 'prometheus', 'rules.yml');
export const RULES_TEST_FILE = path.resolve(__dirname, '..', '..', 'ops', 'prometheus', 'rules.test.yml');
const INSTALL = "bash scripts/provision-test-stack.sh prometheus (as root: installs Debian's prometheus package, server and promtool)";

/** The path of `tool` (prometheus or promtool), or an error that says how to install it. */
export function prometheusTool(tool: 'prometheus' | 'promtool'): string {
  const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
  if (found.status !== 0 || !found.stdout.trim()) throw new Error(`${tool} is not installed; run: ${INSTALL}`);
  return found.stdout.trim();
}

export interface PromSample {
  metric: Record<string, string>;
  /** [unix seconds, value as text], as the HTTP API returns it. */
  value: [number, string];
}

export interface PromAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
  value: string;
}

export interface TestPrometheus {
  url: string;
  /** An instant query through GET /api/v1/query. */
  query(promql: string): Promise<PromSample[]>;
  /** Active alerts (pending and firing) through GET /api/v1/alerts. */
  alerts(): Promise<PromAlert[]>;
  stop(): Promise<void>;
}

/** Starts Prometheus scraping `targets` (host:port) every second and evaluating `ruleFiles` every second. */
export async function startTestPrometheus(opts: { targets: string[]; ruleFiles?: string[] }): Promise<TestPrometheus> {
  const bin = prometheusTool('prometheus');
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'clickstream-prometheus-'));
  const port = await freePort();
  const config = {
    // One-second scrapes and rule evaluations: the test waits for outcomes, and the defaults (1 min) would make it wait minutes.
    global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
    rule_files: opts.ruleFiles ?? [],
    scrape_configs: [{ job_name: 'clickstream-worker', static_configs: [{ targets: opts.targets }] }],
  };
  // JSON is YAML, so no YAML writer is needed.
  await fs.writeFile(path.join(dir, 'prometheus.yml'), JSON.stringify(config, null, 2));
  const log: string[] = [];
  const child: ChildProcess = spawn(
    bin,
    [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  for (const s of [child.stdout!, child.stderr!]) s.on('data', (d: Buffer) => log.push(d.toString()));
  let exited: number | null | undefined;
  child.on('exit', (code) => (exited = code));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (exited === undefined) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await gone;
    }
    await fs.rm(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      async () => {
        if (exited !== undefined) throw new Error(`prometheus exited with ${exited}:\n${log.join('').slice(-3000)}`);
        return fetch(`${url}/-/ready`).then((r) => r.ok, () => false);
      },
      (ready) => ready,
      'prometheus to be ready',
      60_000,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  const api = async <T>(pathAndQuery: string): Promise<T> => {
    const res = await fetch(`${url}${pathAndQuery}`);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`prometheus ${pathAndQuery}: ${body.error ?? res.status}`);
    return body.data;
  };
  return {
    url,
    query: async (promql) => (await api<{ result: PromSample[] }>(`/api/v1/query?query=${encodeURIComponent(promql)}`)).result,
    alerts: async () => (await api<{ alerts: PromAlert[] }>('/api/v1/alerts')).alerts,
    stop,
  };
}
