/**
 * `clickstream reconcile --from --to`: re-runs the published hours whose raw manifest fingerprint
 * no longer matches the one recorded on their curated partition (late files, replaced files).
 * It is a backfill in mode 'changed'; unchanged and unpublished hours are skipped with a reason.
 */
import type { Command } from 'commander';
import type { PipelineConfig } from '../../config/config';
import { HOUR_FORMAT } from '../../core/hours';
import { DEFAULT_CONCURRENCY, MAX_BACKFILL_HOURS, MAX_CONCURRENCY } from '../../core/contracts/backfill';
import { withTemporalClient } from '../temporalConnection';
import { printHint, type CliIo } from '../cliIo';
import { backfillInputFromFlags, intervalMsFrom, startAndAnnounce, watchAndReport } from './backfill';

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

/** Adds the options and action to `reconcile` (created, with its description, by cli/clickstream.ts). */
export function registerReconcileCommand(reconcile: Command, config: () => PipelineConfig, io: CliIo): void {
  reconcile
    .requiredOption('--from <hour>', `first hour, ${HOUR_FORMAT}`)
    .requiredOption('--to <hour>', 'last hour, inclusive')
    .option('--concurrency <n>', `hours re-running at once, 1-${MAX_CONCURRENCY}`, String(DEFAULT_CONCURRENCY))
    .option('--dry-run', 'list the hours whose raw changed, re-run nothing')
    .option('--allow-large-range', `allow more than ${MAX_BACKFILL_HOURS} hours (92 days)`)
    .option('--no-wait', 'start it and print its id without waiting')
    .option('--interval <seconds>', 'progress refresh interval while waiting', '2')
    .option('--json', 'print JSON: the final status, or { workflowId, runId, input } with --no-wait')
    .action(async (o: ReconcileFlags) => {
      const cfg = config();
      const input = backfillInputFromFlags(cfg, { ...o, mode: 'changed' });
      const intervalMs = intervalMsFrom(o.interval);
      await withTemporalClient(cfg, async (client) => {
        const started = await startAndAnnounce(client, cfg, input, io, o.json);
        if (o.wait) return watchAndReport(client, started.workflowId, io, o, intervalMs);
        if (o.json) io.out(JSON.stringify({ ...started, input }, null, 2));
        printHint(io, o.json, `watch it: clickstream backfill status --id '${started.workflowId}' --watch`);
      });
    });
}
