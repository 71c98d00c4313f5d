import assert from 'node:assert/strict';
import { DevServerPortTakenError, earlyExitVerdict, PORT_RACE_ATTEMPTS } from '../../../devserver/devServer';

/** The CLI's own words when a bind fails (as printed by temporal v1.5.1, shortened around them). */
const bindFailed = (port: number) =>
  `level=ERROR msg="failed starting server: ... failed listening for HTTP API on 127.0.0.1:${port}: listen tcp 127.0.0.1:${port}: bind: address already in use"`;

// The retry itself cannot be provoked against the real CLI (no test can make it pick a port we hold),
// so its decision is checked here on the CLI's exact output; the real-CLI cases are in devServerStartup.test.ts.
describe('dev server: what an exit before readiness means', () => {
  it('a port the CLI picked itself and lost is started again, up to PORT_RACE_ATTEMPTS starts', () => {
    assert.deepEqual(earlyExitVerdict({ exitCode: 1, output: bindFailed(34889) }, { port: 7233 }, 1), { lostPort: 34889 });
    assert.deepEqual(earlyExitVerdict({ exitCode: 1, output: bindFailed(34889) }, {}, PORT_RACE_ATTEMPTS - 1), { lostPort: 34889 });
    const last = earlyExitVerdict({ exitCode: 1, output: bindFailed(34889) }, {}, PORT_RACE_ATTEMPTS);
    assert.ok(last instanceof Error && !(last instanceof DevServerPortTakenError));
    assert.match(last.message, new RegExp(`exited with code 1 before it was ready \\(after ${PORT_RACE_ATTEMPTS} attempts, each losing a port race\\)`));
    assert.match(last.message, /127\.0\.0\.1:34889: bind: address already in use/);
  });

  it('a port the caller fixed is never started again: DevServerPortTakenError names it and the option', () => {
    const grpc = earlyExitVerdict({ exitCode: 1, output: `can't set frontend port 7233: listen tcp 127.0.0.1:7233: bind: address already in use` }, { port: 7233 }, 1);
    assert.ok(grpc instanceof DevServerPortTakenError);
    assert.deepEqual([grpc.port, grpc.option], [7233, 'port']);
    const ui = earlyExitVerdict({ exitCode: 1, output: bindFailed(8233) }, { port: 7233, uiPort: 8233 }, 1);
    assert.ok(ui instanceof DevServerPortTakenError);
    assert.deepEqual([ui.port, ui.option], [8233, 'uiPort']);
  });

  it('any other early exit is final on the first attempt, with the exit code and the output tail', () => {
    const other = earlyExitVerdict({ exitCode: 2, output: 'unknown flag: --no-such-flag' }, {}, 1);
    assert.ok(other instanceof Error && !(other instanceof DevServerPortTakenError));
    assert.match(other.message, /exited with code 2 before it was ready:\nunknown flag: --no-such-flag$/);
  });
});
