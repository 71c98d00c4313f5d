/**
 * `clickstream reconcile --from --to`: re-runs the published hours whose raw manifest fingerprint
 * no longer matches the one recorded on their curated partition (late files, replaced files).
 * It is a backfill in mode 'changed'; unchanged and unpublished hours are skipped with a reason.
 */
import type { Command } from 'commander';
import type { PipelineConfig } from '../../config/config';
import { HOUR_FORMAT } from '../../core/hours';
import { DEFAULT_CONCURRENCY, MAX_BACKFILL_HOURS, MAX_CONCURRENCY } from '../../workflows/backfill';
import { withTemporalClient } from '../temporalConnection';
import { backfillInputFromFlags, intervalMsFrom, startAndAnnounce, watchAndReport, type CliIo } from './backfill';

interface ReconcileFlags {
  from?: string;
  to?: string;
  concurrency?: string;
  dryRun?: boolean;
  allowLargeRange?: boolean;
  wait: boolean;
  interval?: string;
  json?: boolean;
}

export function registerReconcileCommand(program: Command, config: () => PipelineConfig, io: CliIo): void {
  program
    .command('reconcile')
    .description('re-run published hours whose raw files changed since publishing (late or replaced files): a backfill in mode "changed"')
    .requiredOption('--from <hour>', `first hour, ${HOUR_FORMAT}`)
    .requiredOption('--to <hour>', 'last hour, inclusive')
    .option('--concurrency <n>', `hours re-running at once, 1-${MAX_CONCURRENCY}`, String(DEFAULT_CONCURRENCY))
    .option('--dry-run', 'list the hours whose raw changed, re-run nothing')
    .option('--allow-large-range', `allow more than ${MAX_BACKFILL_HOURS} hours (92 days)`)
    .option('--no-wait', 'start it and print its id without waiting')
    .option('--interval <seconds>', 'progress refresh interval while waiting', '2')
    .option('--json', 'print the final status as JSON')
    .action(async (o: ReconcileFlags) => {
      const cfg = config();
      const input = backfillInputFromFlags(cfg, { ...o, mode: 'changed' });
      const intervalMs = intervalMsFrom(o.interval);
      await withTemporalClient(cfg, async (client) => {
        const workflowId = await startAndAnnounce(client, cfg, input, io, o.json);
        if (o.wait) await watchAndReport(client, workflowId, io, o, intervalMs);
      });
    });
}
