/**
 * Finds the Temporal CLI (which contains the dev server and the Web UI), in this order:
 * TEMPORAL_CLI, `temporal` on PATH, the cached build, then `go install` into the cache.
 * v1.5.1 is pinned: it is the newest tag `go install` accepts (later tags carry a `replace`).
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

export const TEMPORAL_CLI_VERSION = 'v1.5.1';
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';
const execFileAsync = promisify(execFile);

export class TemporalCliMissing extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemporalCliMissing';
  }
}

/** Where the pinned build is cached between runs on this machine. */
export function cachedCliDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'clickstream-lake', `temporal-cli-${TEMPORAL_CLI_VERSION}`);
}

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (dir && isExecutable(path.join(dir, name))) return path.join(dir, name);
  }
  return undefined;
}

/** Resolves the binary; with install=true builds it with Go when nothing else is found. */
export async function resolveTemporalCli(opts: { install: boolean; env?: NodeJS.ProcessEnv; log?: (m: string) => void } = { install: true }): Promise<string> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? (() => undefined);
  if (env.TEMPORAL_CLI) {
    if (!isExecutable(env.TEMPORAL_CLI)) {
      throw new TemporalCliMissing(`TEMPORAL_CLI=${env.TEMPORAL_CLI} is not an executable file; fix the path or unset it`);
    }
    return env.TEMPORAL_CLI;
  }
  const fromPath = onPath('temporal', env);
  if (fromPath) return fromPath;
  const cached = path.join(cachedCliDir(env), 'temporal');
  if (isExecutable(cached)) return cached;
  if (!opts.install) {
    throw new TemporalCliMissing(
      `Temporal CLI not found (TEMPORAL_CLI unset, no 'temporal' on PATH, no cached build at ${cached}). ` +
        `Run 'npm run setup:temporal' (needs Go 1.22+), or 'go install ${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}' and set TEMPORAL_CLI`,
    );
  }
  const go = onPath('go', env);
  if (!go) {
    throw new TemporalCliMissing(
      `Temporal CLI not found and Go is not installed to build it. Install Go 1.22+ (https://go.dev/dl) and re-run, ` +
        `or download the Temporal CLI and set TEMPORAL_CLI=/path/to/temporal`,
    );
  }
  mkdirSync(path.dirname(cached), { recursive: true });
  log(`building Temporal CLI ${TEMPORAL_CLI_VERSION} with go install into ${path.dirname(cached)} (first run only, takes a few minutes)...`);
  try {
    await execFileAsync(go, ['install', `${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}`], {
      env: { ...env, GOBIN: path.dirname(cached) },
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (err) {
    throw new TemporalCliMissing(`go install ${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION} failed: ${(err as Error).message}`);
  }
  if (!existsSync(cached)) throw new TemporalCliMissing(`go install finished but ${cached} does not exist`);
  return cached;
}
