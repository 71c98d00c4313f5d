/**
 * B9 the first ten minutes: what a newcomer waits for, from `git clone` to the line `npm start`
 * prints once the pipeline is up ("worker running": dev server started, demo hours seeded and
 * processed, Schedule created), on a fresh machine: a new, empty HOME (no ~/.cache/clickstream-lake,
 * no ~/.npm, no pip cache) and a clone with no node_modules and no .venv. Then the second
 * `npm start` in the same clone, which finds everything in place. The README's own commands,
 * `npm ci` then `npm start`, each a real process; nothing is simulated.
 *
 * It clones the committed HEAD of this checkout (uncommitted changes are not measured). Quick
 * mode keeps npm's package cache (the registry download is what it skips), so CI exercises the
 * same path in less time; its numbers are not judged.
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from '../devserver/freePort';
import type { Benchmark, BenchContext, BenchOutput } from './lib/benchmark';
import { mdTable } from './lib/results';

const ROOT = path.resolve(__dirname, '..');
/** The target for a fresh machine, clone to "worker running". */
const FIRST_START_TARGET_S = 90;
const READY_LINE = /^worker running/m;
/** A start that takes longer than this is reported as a failure of the harness, not a number. */
const START_TIMEOUT_MS = 15 * 60_000;

export const benchmark: Benchmark = {
  id: 'B9',
  name: 'b9-first-start',
  title: 'First ten minutes: git clone -> npm ci -> npm start "worker running" with empty caches, then the second start',
  run,
};

interface Phase {
  name: string;
  ms: number;
}

async function run(ctx: BenchContext): Promise<BenchOutput> {
  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'clickstream-b9-'));
  try {
    const home = path.join(scratch, 'home');
    const clone = path.join(scratch, 'clickstream-lake');
    await fs.mkdir(home);
    const env = await newcomerEnv(home, ctx.quick);
    const phases: Phase[] = [];
    /** Times fn, or takes the time it reports (a start counts until its ready line, not its shutdown). */
    const timed = async (name: string, fn: () => Promise<number | void>) => {
      const t0 = Date.now();
      const reported = await fn();
      const ms = typeof reported === 'number' ? reported : Date.now() - t0;
      phases.push({ name, ms });
      ctx.log(`${name}: ${(ms / 1000).toFixed(1)} s`);
    };

    await timed('git clone', () => exec('git', ['clone', '--quiet', '--no-hardlinks', ROOT, clone], scratch, env));
    const head = (await capture('git', ['rev-parse', '--short', 'HEAD'], clone, env)).trim();
    await timed('npm ci', () => exec('npm', ['ci', '--no-audit', '--no-fund', ...(ctx.quick ? ['--prefer-offline'] : [])], clone, env));
    await timed('first npm start', () => startUntilReady(clone, env, ctx));
    await timed('second npm start', () => startUntilReady(clone, env, ctx));

    const ms = (n: string) => phases.find((p) => p.name === n)!.ms;
    const firstTotalS = (ms('git clone') + ms('npm ci') + ms('first npm start')) / 1000;
    const rows = phases.map((p) => [p.name, `${(p.ms / 1000).toFixed(1)} s`]);
    rows.push(['clone to "worker running" (first)', `${firstTotalS.toFixed(1)} s`]);
    return {
      params: { commit: head, emptyNpmCache: !ctx.quick, home: 'new and empty' },
      targets: [
        {
          name: 'fresh machine: git clone to npm start\'s "worker running"',
          target: `≤ ${FIRST_START_TARGET_S} s`,
          measured: `${firstTotalS.toFixed(1)} s`,
          met: ctx.quick ? null : firstTotalS <= FIRST_START_TARGET_S,
          note: ctx.quick ? "quick: npm's package cache kept" : undefined,
        },
      ],
      metrics: Object.fromEntries([...phases.map((p) => [p.name, p.ms]), ['first total', Math.round(firstTotalS * 1000)]]),
      markdown: [
        `Commit ${head}, cloned into a temporary folder and set up with the README's commands under a new, empty HOME` +
          (ctx.quick ? " (quick: npm's package cache kept)." : ' and an empty npm cache: every npm package and the Temporal CLI wheel come from their registries.') +
          ' "npm start" counts until it prints "worker running": the Temporal dev server started, 6 demo hours seeded and published, the Schedule created.',
        '',
        mdTable(['phase', 'wall'], rows),
      ].join('\n'),
    };
  } finally {
    await fs.rm(scratch, { recursive: true, force: true }).catch(() => undefined);
  }
}

/**
 * The environment of someone who has just logged in: this machine's PATH and registries, but a
 * new HOME, and none of this process's npm, Temporal or pipeline settings.
 */
async function newcomerEnv(home: string, keepNpmCache: boolean): Promise<Record<string, string>> {
  const inherited = Object.entries(process.env).filter(
    ([k, v]) => v !== undefined && !/^(npm_|CLICKSTREAM_|TEMPORAL_|NODE_OPTIONS$|XDG_|PIP_)/i.test(k),
  ) as [string, string][];
  return {
    ...Object.fromEntries(inherited),
    HOME: home,
    // npm's cache lives under HOME unless kept on purpose (quick mode).
    npm_config_cache: keepNpmCache ? path.join(os.homedir(), '.npm') : path.join(home, '.npm'),
    // Free ports, so neither a server already on 7233 nor the UI's 8233 is reused or fought over.
    TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`,
    CLICKSTREAM_TEMPORAL_UI_PORT: String(await freePort()),
  };
}

/**
 * Runs `npm start` until it prints "worker running", then stops it with Ctrl-C (SIGINT to its
 * process group) and waits for it to exit. Resolves with the milliseconds to the ready line.
 */
function startUntilReady(cwd: string, env: Record<string, string>, ctx: BenchContext): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    let readyMs = 0;
    const child = spawn('npm', ['start'], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let ready = false;
    const stopGroup = (signal: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      stopGroup('SIGKILL');
      reject(new Error(`npm start did not print "worker running" within ${START_TIMEOUT_MS / 60_000} min; its output:\n${out.slice(-4000)}`));
    }, START_TIMEOUT_MS);
    const onData = (d: Buffer) => {
      out += d;
      if (!ready && READY_LINE.test(out)) {
        ready = true;
        readyMs = Date.now() - t0;
        clearTimeout(timer);
        ctx.log('npm start: worker running; stopping it with SIGINT');
        stopGroup('SIGINT');
        // A clean stop stops the dev server too; give it a bound, then make sure.
        setTimeout(() => stopGroup('SIGKILL'), 30_000).unref();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (ready) resolve(readyMs);
      else reject(new Error(`npm start exited ${code} before "worker running"; its output:\n${out.slice(-4000)}`));
    });
  });
}

function exec(cmd: string, args: string[], cwd: string, env: Record<string, string>): Promise<void> {
  return capture(cmd, args, cwd, env).then(() => undefined);
}

function capture(cmd: string, args: string[], cwd: string, env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}:\n${stderr.slice(-4000)}`))));
  });
}
