import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from '../support/pipelineWorker';

/** Replays recorded histories against today's workflow code: a non-deterministic change fails here, not in production. */
describe('workflow determinism: recorded histories replay against the current code', () => {
  const dir = path.join(__dirname, 'histories');
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

  it('has recorded histories to replay: hourly (success and timer-driven failure, today\'s and from before the local-quick-steps patch) and backfill (steered, deferred, retried, dry run; recorded before the state-reducer split)', () => {
    assert.deepEqual(files.sort(), [
      'backfill-deferred-0.json',
      'backfill-dryrun-0.json',
      'backfill-retry-0.json',
      'backfill-steer-0.json',
      'backfill-steer-1.json',
      'hourly-published-v1-remote-steps.json',
      'hourly-published.json',
      'hourly-raw-missing-v1-remote-steps.json',
      'hourly-raw-missing.json',
    ]);
  });

  for (const file of files) {
    it(`replays ${file}`, async () => {
      const history = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
      assert.ok(history.events.length > 10, 'a real history, not an empty stub');
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, file);
    });
  }
});
