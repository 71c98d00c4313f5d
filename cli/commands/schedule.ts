/**
 * `clickstream schedule create|describe|pause|unpause|trigger|catch-up|delete`: the hourly
 * Schedule for the configured table. `create` is idempotent (it updates an existing schedule).
 * Each command prints the plain `temporal schedule ...` command that does the same.
 */
import type { Command } from 'commander';
import type { ScheduleDescription } from '@temporalio/client';
import {
  catchUpHourlySchedule,
  deleteHourlySchedule,
  describeHourlySchedule,
  ensureHourlySchedule,
  hourForNominalTime,
  hourlyScheduleDefinition,
  MAX_SCHEDULE_CATCH_UP_HOURS,
  pauseHourlySchedule,
  triggerHourlySchedule,
  unpauseHourlySchedule,
} from '../../client/hourlySchedule';
import type { PipelineConfig } from '../../config/config';
import { formatHour, HOUR_FORMAT, previousCompleteHour } from '../../core/hours';
import { hourlyScheduleId } from '../../core/ids';
import { rangeArgs } from '../parseArgs';
import { withTemporalClient } from '../temporalConnection';
import { temporalCommand } from '../temporalEquivalent';
import { formatDuration } from '../backfillView';
import { printEquivalent, printOutcome, type CliIo } from '../cliIo';

/** The describe output as plain JSON: what an operator asks of a schedule, hours included. */
export interface ScheduleView {
  scheduleId: string;
  paused: boolean;
  note?: string;
  intervals: Array<{ everyMs: number; offsetMs: number }>;
  workflowType: string;
  taskQueue: string;
  input: unknown;
  overlap: string;
  catchupWindowMs: number;
  pauseOnFailure: boolean;
  actionsTaken: number;
  missedCatchupWindow: number;
  skippedOverlap: number;
  running: string[];
  recent: Array<{ scheduledAt: string; takenAt: string; hour: string; workflowId: string }>;
  next: Array<{ at: string; hour: string }>;
}

export function scheduleView(d: ScheduleDescription): ScheduleView {
  return {
    scheduleId: d.scheduleId,
    paused: d.state.paused,
    note: d.state.note || undefined,
    intervals: (d.spec.intervals ?? []).map((i) => ({ everyMs: i.every, offsetMs: i.offset })),
    workflowType: d.action.workflowType,
    taskQueue: d.action.taskQueue ?? '',
    input: d.action.args?.[0],
    overlap: d.policies.overlap ?? 'unspecified',
    catchupWindowMs: d.policies.catchupWindow,
    pauseOnFailure: d.policies.pauseOnFailure,
    actionsTaken: d.info.numActionsTaken,
    missedCatchupWindow: d.info.numActionsMissedCatchupWindow,
    skippedOverlap: d.info.numActionsSkippedOverlap,
    running: d.info.runningActions.map((a) => a.workflow.workflowId),
    recent: d.info.recentActions.map((a) => ({
      scheduledAt: a.scheduledAt.toISOString(),
      takenAt: a.takenAt.toISOString(),
      hour: hourForNominalTime(a.scheduledAt),
      workflowId: a.action.workflow.workflowId,
    })),
    next: d.info.nextActionTimes.map((t) => ({ at: t.toISOString(), hour: hourForNominalTime(t) })),
  };
}

export function formatScheduleView(v: ScheduleView): string {
  const fires = v.intervals
    .map((i) => `every ${formatDuration(i.everyMs / 1000)} at :${String(Math.round(i.offsetMs / 60_000) % 60).padStart(2, '0')} UTC`)
    .join(', ');
  const lines = [
    `schedule ${v.scheduleId}: ${v.paused ? `PAUSED${v.note ? ` (${v.note})` : ''}` : 'active'}`,
    `  fires ${fires || '(no intervals)'}; each run processes the hour before its nominal time`,
    `  action: ${v.workflowType} on task queue ${v.taskQueue}, input ${JSON.stringify(v.input)}`,
    `  policies: overlap ${v.overlap}, catch-up window ${formatDuration(v.catchupWindowMs / 1000)}, pause on failure ${v.pauseOnFailure ? 'yes' : 'no'}`,
    `  actions taken ${v.actionsTaken}; missed (outside catch-up window) ${v.missedCatchupWindow}; skipped (overlap) ${v.skippedOverlap}`,
  ];
  if (v.running.length) lines.push(`  running: ${v.running.join(' ')}`);
  for (const r of v.recent) lines.push(`  recent: ${r.scheduledAt} -> hour ${r.hour}  (${r.workflowId})`);
  for (const n of v.next) lines.push(`  next:   ${n.at} -> hour ${n.hour}`);
  return lines.join('\n');
}

/** The `temporal schedule create|update` flags that define the same schedule. */
function scheduleFlags(cfg: PipelineConfig): string[] {
  const def = hourlyScheduleDefinition(cfg);
  return [
    '--schedule-id', def.scheduleId,
    '--interval', `1h/${cfg.schedule.minuteOffset}m`,
    '--type', def.action.workflowType,
    '--task-queue', def.action.taskQueue,
    '--workflow-id', `${def.scheduleId}-workflow`,
    '--input', JSON.stringify(def.action.args[0]),
    '--overlap-policy', 'BufferOne',
    '--catchup-window', `${def.policies.catchupWindow / 3_600_000}h`,
  ];
}

/** Adds the subcommands to `schedule` (created, with its description, by cli/clickstream.ts). */
export function registerScheduleCommands(schedule: Command, config: () => PipelineConfig, io: CliIo): void {  const id = (cfg: PipelineConfig) => hourlyScheduleId(cfg.tables.curated);

  schedule
    .command('create')
    .description('create the hourly schedule, or update it to the current settings (idempotent; paused state is kept)')
    .option('--json', 'print { scheduleId, outcome, minuteOffset, taskQueue } as JSON')
    .action(async (o: { json?: boolean }) => {
      const cfg = config();
      await withTemporalClient(cfg, async (client) => {
        const outcome = await ensureHourlySchedule(client, cfg);
        const offset = String(cfg.schedule.minuteOffset).padStart(2, '0');
        printOutcome(
          io,
          o.json,
          { scheduleId: id(cfg), outcome, minuteOffset: cfg.schedule.minuteOffset, taskQueue: cfg.temporal.taskQueue },
          `schedule ${id(cfg)} ${outcome}: fires every hour at :${offset} UTC and processes the previous hour; overlap BufferOne, catch-up window 24h; task queue ${cfg.temporal.taskQueue}`,
        );
        printEquivalent(io, o.json, temporalCommand(cfg, ['schedule', outcome === 'created' ? 'create' : 'update', ...scheduleFlags(cfg)]));
      });
    });

  schedule
    .command('describe')
    .description('show state, policies, recent runs and the next fire times, each with the hour it processes')
    .option('--json', 'print as JSON')
    .action(async (o: { json?: boolean }) => {
      const cfg = config();
      await withTemporalClient(cfg, async (client) => {
        const view = scheduleView(await describeHourlySchedule(client, cfg));
        io.out(o.json ? JSON.stringify(view, null, 2) : formatScheduleView(view));
        printEquivalent(io, o.json, temporalCommand(cfg, ['schedule', 'describe', '--schedule-id', id(cfg)]));
      });
    });

  for (const [name, verb] of [
    ['pause', 'paused'],
    ['unpause', 'unpaused'],
  ] as const) {
    schedule
      .command(name)
      .description(name === 'pause' ? 'stop regular fires (trigger and catch-up still work); running hours continue' : 'resume regular fires')
      .option('--note <text>', 'why, shown in describe and the Web UI', `${verb} with clickstream schedule ${name}`)
      .option('--json', 'print { scheduleId, paused, note } as JSON')
      .action(async (o: { note: string; json?: boolean }) => {
        const cfg = config();
        await withTemporalClient(cfg, async (client) => {
          await (name === 'pause' ? pauseHourlySchedule : unpauseHourlySchedule)(client, cfg, o.note);
          printOutcome(io, o.json, { scheduleId: id(cfg), paused: name === 'pause', note: o.note }, `schedule ${id(cfg)} ${verb}`);
          printEquivalent(io, o.json, temporalCommand(cfg, ['schedule', 'toggle', '--schedule-id', id(cfg), `--${name}`, '--reason', o.note]));
        });
      });
  }

  schedule
    .command('trigger')
    .description('run the schedule\'s action now: it processes the hour before now (the nominal time is the trigger time)')
    .option('--json', 'print { scheduleId, triggered, hour } as JSON')
    .action(async (o: { json?: boolean }) => {
      const cfg = config();
      await withTemporalClient(cfg, async (client) => {
        await triggerHourlySchedule(client, cfg);
        const hour = formatHour(previousCompleteHour(Date.now()));
        printOutcome(io, o.json, { scheduleId: id(cfg), triggered: true, hour }, `schedule ${id(cfg)} triggered: the run processes hour ${hour} (the hour before its nominal time)`);
        printEquivalent(io, o.json, temporalCommand(cfg, ['schedule', 'trigger', '--schedule-id', id(cfg), '--overlap-policy', 'AllowAll']));
      });
    });

  schedule
    .command('catch-up')
    .description(`replay the schedule for missed hours (at most ${MAX_SCHEDULE_CATCH_UP_HOURS}, one after another); for more use clickstream backfill`)
    .requiredOption('--from <hour>', `first hour to process, ${HOUR_FORMAT}`)
    .requiredOption('--to <hour>', 'last hour to process, inclusive')
    .option('--json', 'print { scheduleId, from, to, runs: [{ nominalTime, hour }] } as JSON')
    .action(async (o: { from?: string; to?: string; json?: boolean }) => {
      const cfg = config();
      const { from, to } = rangeArgs(o.from, o.to, MAX_SCHEDULE_CATCH_UP_HOURS);
      await withTemporalClient(cfg, async (client) => {
        const nominal = await catchUpHourlySchedule(client, cfg, from, to);
        printOutcome(
          io,
          o.json,
          { scheduleId: id(cfg), from: formatHour(from), to: formatHour(to), runs: nominal.map((t) => ({ nominalTime: t.toISOString(), hour: hourForNominalTime(t) })) },
          `schedule ${id(cfg)}: ${nominal.length} catch-up run(s) for hours ${formatHour(from)}..${formatHour(to)}, nominal times ${nominal[0]!.toISOString()}..${nominal.at(-1)!.toISOString()}`,
        );
        printEquivalent(
          io,
          o.json,
          temporalCommand(cfg, [
            'schedule', 'backfill', '--schedule-id', id(cfg),
            '--start-time', new Date(nominal[0]!.getTime() - 1000).toISOString(),
            '--end-time', new Date(nominal.at(-1)!.getTime() + 1000).toISOString(),
            '--overlap-policy', 'BufferAll',
          ]),
        );
      });
    });

  schedule
    .command('delete')
    .description('delete the schedule; hours it already started keep running')
    .option('--json', 'print { scheduleId, deleted } as JSON')
    .action(async (o: { json?: boolean }) => {
      const cfg = config();
      await withTemporalClient(cfg, async (client) => {
        await deleteHourlySchedule(client, cfg);
        printOutcome(io, o.json, { scheduleId: id(cfg), deleted: true }, `schedule ${id(cfg)} deleted`);
        printEquivalent(io, o.json, temporalCommand(cfg, ['schedule', 'delete', '--schedule-id', id(cfg)]));
      });
    });
}

