import { DefaultLogger, makeTelemetryFilterString, Runtime } from '@temporalio/worker';
import { stopTestTemporal } from './temporalServer';
import { stopTestTrinoStack } from './trino/trinoStack';

// Many tests fail activities on purpose; their WARN logs would bury the test output. Errors still show.
Runtime.install({
  logger: new DefaultLogger('ERROR'),
  telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } },
});

/** Mocha root hooks: shared servers are stopped once, after every file has run. */
export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(30_000);
    // Each stop runs even if another fails: a server left running outlives the test process.
    const stopped = await Promise.allSettled([stopTestTemporal(), stopTestTrinoStack()]);
    for (const r of stopped) if (r.status === 'rejected') throw r.reason;
  },
};
