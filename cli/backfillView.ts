/** Terminal views of a backfill: the status summary and the live progress bar of `--watch`. */
import { Presets, SingleBar } from 'cli-progress';
import type { Client } from '@temporalio/client';
import { readBackfillStatus, type BackfillStatus } from '../client/backfillControl';
import type { BackfillProgress } from '../core/contracts/backfill';

export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function countsLine(p: BackfillProgress): string {
  return `${p.total} total | ${p.succeeded} succeeded, ${p.failed} failed, ${p.skipped} skipped, ${p.running} running, ${p.pending} pending`;
}

/** A multi-line summary of a backfill's state, progress and failed hours. */
export function formatBackfillStatus(s: BackfillStatus): string {
  const lines = [`backfill ${s.workflowId}: ${s.state}${s.failure && s.failure !== s.state ? ` (${s.failure})` : ''} (run ${s.runId})`];
  const p = s.progress;
  if (!p) return lines.join('\n');
  lines.push(`  range ${p.from}..${p.to}, mode ${p.mode}${p.dryRun ? ' (dry run)' : ''}, concurrency ${p.concurrency}, ${p.paused ? 'PAUSED' : 'not paused'}`);
  lines.push(`  hours: ${countsLine(p)}`);
  if (s.state === 'running') {
    lines.push(`  throughput ${p.throughputPerMinute} hours/min, ETA ${formatDuration(p.etaSeconds)}, continued as new ${p.continuedAsNew}x`);
  } else if (s.result) {
    lines.push(`  took ${formatDuration(s.result.durationMs / 1000)}, continued as new ${p.continuedAsNew}x`);
  }
  if (p.runningHours.length) lines.push(`  running: ${p.runningHours.join(' ')}`);
  if (p.failedHours.length) {
    lines.push('  failed hours:');
    for (const f of p.failedHours) lines.push(`    ${f.hour}  ${f.reason}`);
  }
  if (s.result?.wouldRun) {
    const more = s.result.wouldRun.length < p.pending ? ` (first ${s.result.wouldRun.length})` : '';
    lines.push(`  would run${more}: ${s.result.wouldRun.join(' ') || '(nothing)'}`);
  }
  return lines.join('\n');
}

export interface WatchOptions {
  intervalMs: number;
  /** Where the bar is drawn (stderr, so stdout stays clean for the summary and --json). */
  stream: NodeJS.WriteStream;
  /** Called when the operator presses Ctrl-C: the backfill keeps running, only watching stops. */
  onInterrupt: () => void;
}

/**
 * Redraws a progress bar from the `progress` query until the backfill closes, then returns its
 * final status. Without a terminal (CI, pipes) cli-progress prints one bar line per interval.
 */
export async function watchBackfill(client: Client, workflowId: string, opts: WatchOptions): Promise<BackfillStatus> {
  const bar = new SingleBar(
    {
      format: '[{bar}] {percentage}% | {value}/{total} hours | ok {succeeded} failed {failed} skipped {skipped} running {running} | conc {concurrency}{paused} | {rate}/min | ETA {etaText}',
      stream: opts.stream,
      barsize: 30,
      hideCursor: true,
      noTTYOutput: true,
      notTTYSchedule: opts.intervalMs,
      gracefulExit: false,
    },
    Presets.legacy,
  );
  let started = false;
  const interrupt = () => {
    bar.stop();
    opts.onInterrupt();
  };
  process.once('SIGINT', interrupt);
  try {
    for (;;) {
      const s = await readBackfillStatus(client, workflowId);
      const p = s.progress;
      if (p) {
        // Finished = neither pending nor running (in a dry run that includes the hours planned to run).
        const done = Math.max(0, p.total - p.pending - p.running);
        const payload = {
          succeeded: p.succeeded,
          failed: p.failed,
          skipped: p.skipped,
          running: p.running,
          concurrency: p.concurrency,
          paused: p.paused ? ' PAUSED' : '',
          rate: p.throughputPerMinute,
          etaText: s.state === 'running' ? formatDuration(p.etaSeconds) : 'done',
        };
        if (!started) {
          bar.start(Math.max(1, p.total), done, payload);
          started = true;
        } else {
          bar.setTotal(Math.max(1, p.total));
          bar.update(done, payload);
        }
      }
      if (s.state !== 'running') {
        bar.stop();
        return s;
      }
      await new Promise((r) => setTimeout(r, opts.intervalMs));
    }
  } finally {
    process.removeListener('SIGINT', interrupt);
    bar.stop();
  }
}
