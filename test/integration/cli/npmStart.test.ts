import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from '../../../devserver/freePort';
import { holdPort } from '../../support/portSquatter';

const ROOT = path.resolve(__dirname, '..', '..', '..');

function npmStartOnce(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CLICKSTREAM_') && k !== 'TEMPORAL_ADDRESS'));
    const child = spawn('npm', ['start', '--silent', '--', '--once'], { cwd: ROOT, env: { ...clean, ...env } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

describe('npm start (the main job on the embedded default)', () => {
  let dir: string;
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'clickstream-start-'));
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('starts its own dev server, seeds and publishes recent hours; a second start resumes the same state', async () => {
    const env = {
      CLICKSTREAM_LAKE_DIR: path.join(dir, 'lake'),
      TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`,
      CLICKSTREAM_TEMPORAL_UI_PORT: String(await freePort()),
    };
    const first = await npmStartOnce(env);
    assert.equal(first.code, 0, first.out);
    assert.match(first.out, /no Temporal server at .*: starting a dev server/);
    assert.match(first.out, /seeding 6 demo hours/);
    // 500 events + 1% malformed + 1% duplicates per hour, all six published
    assert.equal((first.out.match(/ published +510 +500 +5 +5\b/g) ?? []).length, 6, first.out);
    assert.match(first.out, /Temporal Web UI: http:\/\/127\.0\.0\.1:\d+/);
    await fs.stat(path.join(dir, 'lake', '_temporal', 'temporal.db'));

    const second = await npmStartOnce(env);
    assert.equal(second.code, 0, second.out);
    assert.doesNotMatch(second.out, /seeding/);
    assert.equal((second.out.match(/published earlier/g) ?? []).length, 6, second.out);
    assert.match(second.out, /hourly schedule clickstream-hourly:clickstream_events_curated: updated/);
  });

  it('stops with an error naming the taken Web UI port and its setting, and seeds no raw data', async () => {
    const held = await holdPort();
    const uiPort = held.port;
    try {
      const lakeDir = path.join(dir, 'taken-ui-port-lake');
      const run = await npmStartOnce({
        CLICKSTREAM_LAKE_DIR: lakeDir,
        TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`,
        CLICKSTREAM_TEMPORAL_UI_PORT: String(uiPort),
      });
      assert.equal(run.code, 1, run.out);
      assert.match(run.out, new RegExp(`uiPort ${uiPort} is already in use by another process.*\\(the port comes from CLICKSTREAM_TEMPORAL_UI_PORT\\)`));
      await assert.rejects(fs.readdir(path.join(lakeDir, 'raw')), { code: 'ENOENT' });
    } finally {
      await held.release();
    }
  });
});
