import { DefaultLogger, Runtime } from '@temporalio/worker';
import { stopTestTemporal } from './temporalServer';

// Worker/SDK chatter at INFO buries test output; warnings and errors still show.
Runtime.install({ logger: new DefaultLogger('WARN') });

/** Mocha root hooks: shared servers are stopped once, after every file has run. */
export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(30_000);
    await stopTestTemporal();
  },
};
