/**
 * `clickstream status`: one screen for the on-call engineer. Is the schedule running and when
 * does it fire next, how fresh is the newest published hour, which hours failed in the last 24 h
 * and what their errors say to do, which backfills are running and how far they are.
 */
import { readPipelineStatus, FAILED_WINDOW_HOURS, type PipelineStatus } from '../../client/pipelineStatus';
import type { PipelineConfig } from '../../config/config';
import { createBackend } from '../../lake/createBackend';
import { formatDuration } from '../backfillView';
import type { CliIo } from '../cliIo';
import { withTemporalClient } from '../temporalConnection';

/** The freshness alert's threshold (ops/prometheus/rules.yml), so the screen and the page agree on "late". */
export const LATE_AFTER_SECONDS = 2 * 3600;

export async function statusCommand(cfg: PipelineConfig, o: { json?: boolean }, io: CliIo): Promise<void> {
  const backend = await createBackend(cfg);
  try {
    const status = await withTemporalClient(cfg, (client) => readPipelineStatus(client, backend.catalog, cfg));
    io.out(o.json ? JSON.stringify(status, null, 2) : formatStatus(status));
  } finally {
    await backend.close();
  }
}

export function formatStatus(s: PipelineStatus): string {
  const lines = [`${s.table} on task queue ${s.taskQueue}, at ${s.at}`];
  const sc = s.schedule;
  if (sc.state === 'missing') lines.push(`schedule   ${sc.scheduleId}: MISSING; create it with: ${sc.fix}`);
  else {
    const next = sc.nextRun ? `; next run ${sc.nextRun.at} -> hour ${sc.nextRun.hour}` : '; no next run';
    lines.push(`schedule   ${sc.scheduleId}: ${sc.state === 'paused' ? `PAUSED${sc.note ? ` (${sc.note})` : ''}` : 'active'}${sc.state === 'paused' ? '' : next}`);
  }
  const p = s.newestPublished;
  if (!p) lines.push('published  nothing published yet');
  else {
    const late = p.freshnessSeconds > LATE_AFTER_SECONDS ? `  LATE (over ${formatDuration(LATE_AFTER_SECONDS)})` : '';
    lines.push(`published  newest hour ${p.hour} (ended ${p.endedAt}), ${formatDuration(p.freshnessSeconds)} ago${late}`);
  }
  if (s.failedHours.length === 0) lines.push(`failed     no failed hours in the last ${FAILED_WINDOW_HOURS} h`);
  else {
    const more = s.failedHoursTruncated ? ' (more than listed: see the Web UI, ClickstreamStatus = "failed")' : '';
    lines.push(`failed     ${s.failedHours.length} hour${s.failedHours.length === 1 ? '' : 's'} in the last ${FAILED_WINDOW_HOURS} h, latest run failed${more}:`);
    for (const f of s.failedHours) {
      lines.push(`  ${f.hour}  ${f.errorType}  at ${f.failedAt}`);
      lines.push(`    ${f.message}`);
    }
    lines.push(`  re-run one with: clickstream run-hour <hour>`);
  }
  if (s.runningBackfills.length === 0) lines.push('backfills  none running');
  else {
    lines.push(`backfills  ${s.runningBackfills.length} running:`);
    for (const b of s.runningBackfills) {
      const pr = b.progress;
      if (!pr) {
        lines.push(`  ${b.workflowId}: progress unavailable (${b.progressError})`);
        continue;
      }
      const done = pr.succeeded + pr.failed + pr.skipped;
      lines.push(
        `  ${b.workflowId}: ${done}/${pr.total} done (${pr.succeeded} ok, ${pr.failed} failed, ${pr.skipped} skipped), ${pr.running} running, ${pr.pending} pending; ` +
          `${pr.paused ? 'PAUSED' : `ETA ${formatDuration(pr.etaSeconds)}`}, concurrency ${pr.concurrency}`,
      );
    }
  }
  return lines.join('\n');
}
