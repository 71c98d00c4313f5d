import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '../../../config/config';
import { DevServerPortTakenError, startDevServer } from '../../../devserver/devServer';
import { freePort } from '../../../devserver/freePort';
import { userDevServerOptions } from '../../../devserver/userDevServerOptions';
import { holdPort } from '../../support/portSquatter';

describe('dev server start-up: taken ports and a Web UI that is ready (real temporal CLI)', function () {
  this.timeout(90_000);

  // A port the operator fixed cannot be swapped for another; retrying it would only fail again.
  for (const option of ['port', 'uiPort'] as const) {
    it(`a taken ${option} fails at once with DevServerPortTakenError naming it, without retrying`, async () => {
      const taken = await holdPort();
      const said: string[] = [];
      try {
        const err = await startDevServer({ [option]: taken.port, log: (m) => said.push(m) }).then(
          (s) => s.stop().then(() => assert.fail(`the server started although ${option} ${taken.port} was taken`)),
          (e: unknown) => e,
        );
        assert.ok(err instanceof DevServerPortTakenError, `expected DevServerPortTakenError, got ${String(err)}`);
        assert.equal(err.port, taken.port);
        assert.equal(err.option, option);
        assert.match(err.message, new RegExp(`${option} ${taken.port} is already in use`));
        assert.deepEqual(said.filter((m) => m.includes('starting again')), [], 'a fixed port is never retried');
      } finally {
        await taken.release();
      }
    });
  }

  it("with uiPort 'free', the Web UI's API already reaches the server when start-up returns (no 503 while the UI's gRPC backs off)", async () => {
    const server = await startDevServer({ uiPort: 'free' });
    try {
      assert.match(server.uiUrl ?? '', /^http:\/\/127\.0\.0\.1:\d+$/);
      const page = await fetch(server.uiUrl!);
      assert.equal(page.status, 200);
      // Both go through the UI server to the frontend over gRPC.
      const info = await fetch(`${server.uiUrl}/api/v1/cluster-info`);
      assert.equal(info.status, 200, await info.text());
      const namespaces = (await (await fetch(`${server.uiUrl}/api/v1/namespaces`)).json()) as { namespaces: { namespaceInfo: { name: string } }[] };
      assert.ok(namespaces.namespaces.some((n) => n.namespaceInfo.name === 'default'), JSON.stringify(namespaces).slice(0, 300));
    } finally {
      await server.stop();
    }
  });

  it("npm start's options reach the server: its state file runs in WAL mode (the -wal file exists while it runs)", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'devserver-pragmas-'));
    const config = loadConfig({ CLICKSTREAM_LAKE_DIR: dir, TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`, CLICKSTREAM_TEMPORAL_UI_PORT: String(await freePort()) });
    const options = userDevServerOptions(config);
    const server = await startDevServer(options);
    try {
      assert.equal(options.sqlitePragmas?.journal_mode, 'wal');
      assert.ok(existsSync(`${options.dbFile}-wal`), `no ${options.dbFile}-wal: the journal_mode pragma did not reach the server`);
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
