/**
 * `clickstream backfill start|status|pause|resume|set-concurrency|retry-failed|skip|cancel`.
 * Every argument is validated before a connection is opened; every command prints the plain
 * `temporal` command that does the same, so operators can work from either.
 */
import type { Command } from 'commander';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import {
  cancelBackfill,
  pauseBackfill,
  readBackfillStatus,
  resumeBackfill,
  retryFailedHours,
  setBackfillConcurrency,
  skipBackfillHours,
  type BackfillStatus,
} from '../../client/backfillControl';
import { startBackfill } from '../../client/backfillStarter';
import type { PipelineConfig } from '../../config/config';
import { PipelineError } from '../../core/errors';
import { formatHour, HOUR_FORMAT, hourCount, parseHour } from '../../core/hours';
import { backfillWorkflowId, WORKFLOW_TYPES } from '../../core/ids';
import { BACKFILL_MODES, DEFAULT_CONCURRENCY, HARD_MAX_BACKFILL_HOURS, isBackfillMode, MAX_BACKFILL_HOURS, MAX_CONCURRENCY } from '../../core/contracts/backfill';
import type { BackfillInput } from '../../core/contracts/backfill';
import { formatBackfillStatus, watchBackfill } from '../backfillView';
import { printEquivalent, printHint, printOutcome, type CliIo } from '../cliIo';
import { hourArg, intArg, rangeArgs } from '../parseArgs';
import { withTemporalClient } from '../temporalConnection';
import { temporalCommand } from '../temporalEquivalent';

export interface BackfillStartFlags {
  from?: string;
  to?: string;
  concurrency?: string;
  mode?: string;
  dryRun?: boolean;
  allowLargeRange?: boolean;
}

/** The workflow input from flags; every problem is named by its flag, before anything is sent. */
export function backfillInputFromFlags(config: PipelineConfig, o: BackfillStartFlags, nowMs = Date.now()): BackfillInput {
  const { from, to } = rangeArgs(o.from, o.to, HARD_MAX_BACKFILL_HOURS, nowMs);
  const hours = hourCount(from, to);
  if (hours > MAX_BACKFILL_HOURS && !o.allowLargeRange) {
    throw new PipelineError(
      'InvalidInput',
      `--from/--to span ${hours} hours, over the ${MAX_BACKFILL_HOURS}-hour (92-day) sanity cap; add --allow-large-range if you mean it`,
    );
  }
  const concurrency = o.concurrency === undefined ? DEFAULT_CONCURRENCY : intArg('--concurrency', o.concurrency, 1, MAX_CONCURRENCY);
  const mode = o.mode ?? 'missing';
  if (!isBackfillMode(mode)) {
    throw new PipelineError('InvalidInput', `--mode must be one of ${BACKFILL_MODES.join(', ')}; got '${mode}'`, { details: { field: '--mode' } });
  }
  const input: BackfillInput = { from: formatHour(from), to: formatHour(to), concurrency, mode, table: config.tables.curated };
  if (o.dryRun) input.dryRun = true;
  if (o.allowLargeRange) input.allowLargeRange = true;
  return input;
}

interface IdFlags {
  id?: string;
  from?: string;
  to?: string;
}

/** Which backfill a steering command means: --id, or the --from/--to it was started with. */
export function backfillIdFromFlags(config: PipelineConfig, o: IdFlags): string {
  if (o.id !== undefined && (o.from !== undefined || o.to !== undefined)) {
    throw new PipelineError('InvalidInput', 'give either --id <workflow id> or --from/--to, not both');
  }
  if (o.id !== undefined) {
    if (!/^\S{1,1000}$/.test(o.id)) throw new PipelineError('InvalidInput', `--id must be a workflow id without spaces; got '${o.id}'`);
    return o.id;
  }
  if (o.from === undefined || o.to === undefined) {
    throw new PipelineError(
      'InvalidInput',
      `name the backfill with --from and --to (the range it was started with, ${HOUR_FORMAT}) or with --id <workflow id>`,
    );
  }
  return backfillWorkflowId(config.tables.curated, hourArg('--from', o.from), hourArg('--to', o.to));
}

function addIdFlags(cmd: Command): Command {
  return cmd
    .option('--from <hour>', 'first hour of the backfill, as it was started')
    .option('--to <hour>', 'last hour of the backfill, as it was started')
    .option('--id <workflowId>', 'the backfill workflow id instead of --from/--to (e.g. one started from the Web UI)');
}

export function webUiLink(config: PipelineConfig, workflowId: string): string {
  const host = config.temporal.address.split(':')[0];
  return `http://${host}:${config.temporal.uiPort}/namespaces/${encodeURIComponent(config.temporal.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

/** `status --watch` and `start --watch`: bar until done; exit 1 unless it completed with no failed hour. */
export async function watchAndReport(client: Client, workflowId: string, io: CliIo, o: { interval?: string; json?: boolean }, intervalMs: number): Promise<void> {
  const status = await watchBackfill(client, workflowId, {
    intervalMs,
    stream: process.stderr,
    onInterrupt: () => {
      io.err(`stopped watching; the backfill keeps running. Resume watching with: clickstream backfill status --id '${workflowId}' --watch`);
      process.exit(130);
    },
  });
  reportStatus(status, io, o.json);
  if (status.state !== 'completed' || (status.progress?.failed ?? 0) > 0) process.exitCode = 1;
}

function reportStatus(status: BackfillStatus, io: CliIo, json: boolean | undefined): void {
  io.out(json ? JSON.stringify(status, null, 2) : formatBackfillStatus(status));
}

export function intervalMsFrom(value: string | undefined): number {
  return value === undefined ? 2_000 : intArg('--interval', value, 1, 300) * 1000;
}

/** Starts the backfill and prints its id, the equivalent temporal command and the Web UI link. */
export async function startAndAnnounce(client: Client, cfg: PipelineConfig, input: BackfillInput, io: CliIo, json?: boolean): Promise<{ workflowId: string; runId: string }> {
  const workflowId = backfillWorkflowId(cfg.tables.curated, parseHour(input.from), parseHour(input.to));
  let handle;
  try {
    handle = await startBackfill(client, cfg, input);
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      // Not bad input (exit 1, not 2): the same range is being worked on right now.
      throw new Error(
        `a backfill of ${input.from}..${input.to} is already running (${workflowId}); watch it with: clickstream backfill status --from ${input.from} --to ${input.to} --watch`,
        { cause: err },
      );
    }
    throw err;
  }
  const runId = (handle as { firstExecutionRunId?: string }).firstExecutionRunId ?? '';
  printHint(
    io,
    json,
    `started backfill ${handle.workflowId} (run ${runId}): ${input.from}..${input.to}, mode ${input.mode}, concurrency ${input.concurrency}${input.dryRun ? ', dry run' : ''}`,
  );
  printEquivalent(
    io,
    json,
    temporalCommand(cfg, [
      'workflow', 'start', '--type', WORKFLOW_TYPES.backfill, '--task-queue', cfg.temporal.taskQueue, '--workflow-id', handle.workflowId,
      '--id-conflict-policy', 'Fail', '--id-reuse-policy', 'AllowDuplicate', '--input', JSON.stringify(input),
    ]),
  );
  printHint(io, json, `web UI: ${webUiLink(cfg, handle.workflowId)}`);
  return { workflowId: handle.workflowId, runId };
}

/** Adds the subcommands to `backfill` (created, with its description, by cli/clickstream.ts). */
export function registerBackfillCommands(backfill: Command, config: () => PipelineConfig, io: CliIo): void {
  backfill
    .command('start')
    .description('start a backfill of [--from, --to] (inclusive hours); a worker must be running')
    .requiredOption('--from <hour>', `first hour, ${HOUR_FORMAT}`)
    .requiredOption('--to <hour>', 'last hour, inclusive')
    .option('--concurrency <n>', `hours running at once, 1-${MAX_CONCURRENCY}`, String(DEFAULT_CONCURRENCY))
    .option('--mode <mode>', `missing (not yet published), failed (last run failed), all, or changed (raw changed since publish)`, 'missing')
    .option('--dry-run', 'plan only: report what would run, start no hour')
    .option('--allow-large-range', `allow more than ${MAX_BACKFILL_HOURS} hours (92 days)`)
    .option('--watch', 'draw a live progress bar until the backfill is done')
    .option('--interval <seconds>', 'refresh interval for --watch', '2')
    .option('--json', 'print JSON: the final status with --watch, else { workflowId, runId, input }')
    .action(async (o: BackfillStartFlags & { watch?: boolean; interval?: string; json?: boolean }) => {
      const cfg = config();
      const input = backfillInputFromFlags(cfg, o);
      const intervalMs = intervalMsFrom(o.interval);
      await withTemporalClient(cfg, async (client) => {
        const started = await startAndAnnounce(client, cfg, input, io, o.json);
        if (o.watch) return watchAndReport(client, started.workflowId, io, o, intervalMs);
        if (o.json) io.out(JSON.stringify({ ...started, input }, null, 2));
        printHint(io, o.json, `watch it: clickstream backfill status --from ${input.from} --to ${input.to} --watch`);
      });
    });

  addIdFlags(backfill.command('status'))
    .description('show a backfill\'s progress (counts, failed hours with reasons, concurrency, paused, ETA)')
    .option('--watch', 'draw a live progress bar until the backfill is done (exit 1 unless every hour succeeded)')
    .option('--interval <seconds>', 'refresh interval for --watch', '2')
    .option('--json', 'print the status as JSON')
    .action(async (o: IdFlags & { watch?: boolean; interval?: string; json?: boolean }) => {
      const cfg = config();
      const workflowId = backfillIdFromFlags(cfg, o);
      const intervalMs = intervalMsFrom(o.interval);
      await withTemporalClient(cfg, async (client) => {
        printEquivalent(io, o.json, temporalCommand(cfg, ['workflow', 'query', '--workflow-id', workflowId, '--type', 'progress']));
        if (o.watch) await watchAndReport(client, workflowId, io, o, intervalMs);
        else reportStatus(await readBackfillStatus(client, workflowId), io, o.json);
      });
    });

  const signalCommand = (name: string, signal: string, description: string, send: (c: Client, id: string) => Promise<void>, done: string) =>
    addIdFlags(backfill.command(name))
      .description(description)
      .option('--json', 'print { workflowId, signal } as JSON')
      .action(async (o: IdFlags & { json?: boolean }) => {
        const cfg = config();
        const workflowId = backfillIdFromFlags(cfg, o);
        await withTemporalClient(cfg, async (client) => {
          await send(client, workflowId);
          printOutcome(io, o.json, { workflowId, signal }, `${workflowId}: ${done}`);
          printEquivalent(io, o.json, temporalCommand(cfg, ['workflow', 'signal', '--workflow-id', workflowId, '--name', signal]));
        });
      });
  signalCommand('pause', 'pause', 'stop starting new hours; running hours finish', pauseBackfill, 'paused (running hours finish, no new ones start)');
  signalCommand('resume', 'resume', 'start hours again after a pause', resumeBackfill, 'resumed');
  signalCommand('retry-failed', 'retryFailed', 're-queue the hours that failed so far (only those)', retryFailedHours, 'failed hours re-queued');

  addIdFlags(backfill.command('set-concurrency <n>'))
    .description(`change how many hours run at once (1-${MAX_CONCURRENCY}), effective immediately`)
    .option('--json', 'print { workflowId, previous, concurrency } as JSON')
    .action(async (n: string, o: IdFlags & { json?: boolean }) => {
      const cfg = config();
      const concurrency = intArg('set-concurrency <n>', n, 1, MAX_CONCURRENCY);
      const workflowId = backfillIdFromFlags(cfg, o);
      await withTemporalClient(cfg, async (client) => {
        const previous = await setBackfillConcurrency(client, workflowId, concurrency);
        printOutcome(io, o.json, { workflowId, previous, concurrency }, `${workflowId}: concurrency ${previous} -> ${concurrency}`);
        printEquivalent(io, o.json, temporalCommand(cfg, ['workflow', 'update', 'execute', '--workflow-id', workflowId, '--name', 'setConcurrency', '--input', String(concurrency)]));
      });
    });

  addIdFlags(backfill.command('skip <hours...>'))
    .description('leave these hours out of the backfill (queued ones at once, later ones when reached)')
    .option('--json', 'print { workflowId, skipped, removedFromQueue } as JSON')
    .action(async (hours: string[], o: IdFlags & { json?: boolean }) => {
      const cfg = config();
      const list = hours.map((h) => formatHour(hourArg('hour to skip', h)));
      const workflowId = backfillIdFromFlags(cfg, o);
      await withTemporalClient(cfg, async (client) => {
        const removed = await skipBackfillHours(client, workflowId, list);
        printOutcome(io, o.json, { workflowId, skipped: list, removedFromQueue: removed }, `${workflowId}: skipping ${list.length} hour(s); ${removed} removed from the queue now`);
        printEquivalent(io, o.json, temporalCommand(cfg, ['workflow', 'update', 'execute', '--workflow-id', workflowId, '--name', 'skip', '--input', JSON.stringify(list)]));
      });
    });

  addIdFlags(backfill.command('cancel'))
    .description('cancel the backfill; running hours are cancelled and their engine queries stopped')
    .option('--json', 'print { workflowId, cancellationRequested } as JSON')
    .action(async (o: IdFlags & { json?: boolean }) => {
      const cfg = config();
      const workflowId = backfillIdFromFlags(cfg, o);
      await withTemporalClient(cfg, async (client) => {
        await cancelBackfill(client, workflowId);
        printOutcome(io, o.json, { workflowId, cancellationRequested: true }, `${workflowId}: cancellation requested`);
        printEquivalent(io, o.json, temporalCommand(cfg, ['workflow', 'cancel', '--workflow-id', workflowId]));
      });
    });
}

