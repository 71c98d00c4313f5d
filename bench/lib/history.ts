/**
 * Reads Temporal event histories as a profile: where an hour's wall time went between the
 * server's own timestamps (activity dispatch, activity execution, workflow tasks), and how many
 * events each run of a continue-as-new chain recorded.
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

const E = temporal.api.enums.v1.EventType;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

function eventMs(e: HistoryEvent): number {
  const t = e.eventTime;
  if (!t) return NaN;
  return Number(t.seconds ?? 0) * 1000 + (t.nanos ?? 0) / 1e6;
}

export interface ActivityTiming {
  type: string;
  /** Scheduled -> started: waiting in the task queue for a worker slot and the poll round trip. */
  dispatchMs: number;
  /** Started -> completed, as the server saw it: the activity body plus the completion round trip. */
  runMs: number;
  /** The server's started and completed times, epoch ms (to line up with what the worker saw). */
  startedAt?: number;
  completedAt?: number;
}

export interface HistoryProfile {
  events: number;
  totalMs: number;
  activities: ActivityTiming[];
  /** Sum over workflow tasks of scheduled -> completed (dispatch plus the worker's workflow code). */
  workflowTaskMs: number;
  workflowTasks: number;
  /** Time between an activity's completion and the next activity's scheduling (the workflow task in between). */
  betweenActivitiesMs: number;
  /** Execution start -> first activity scheduled, and last activity completed -> execution closed. */
  edgesMs: number;
}

/** Splits a finished run's wall time by its history's timestamps. */
export function profileHistory(events: HistoryEvent[]): HistoryProfile {
  const scheduled = new Map<number, { type: string; at: number }>();
  const started = new Map<number, number>();
  const activities: ActivityTiming[] = [];
  const completedAt: number[] = [];
  const scheduledAt: number[] = [];
  let wftScheduled = NaN;
  let workflowTaskMs = 0;
  let workflowTasks = 0;
  for (const e of events) {
    const at = eventMs(e);
    switch (e.eventType) {
      case E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        scheduled.set(Number(e.eventId), { type: e.activityTaskScheduledEventAttributes?.activityType?.name ?? '?', at });
        scheduledAt.push(at);
        break;
      case E.EVENT_TYPE_ACTIVITY_TASK_STARTED:
        started.set(Number(e.activityTaskStartedEventAttributes?.scheduledEventId), at);
        break;
      case E.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: {
        const id = Number(e.activityTaskCompletedEventAttributes?.scheduledEventId);
        const s = scheduled.get(id);
        const st = started.get(id);
        if (s && st !== undefined) activities.push({ type: s.type, dispatchMs: st - s.at, runMs: at - st, startedAt: st, completedAt: at });
        completedAt.push(at);
        break;
      }
      case E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
        wftScheduled = at;
        break;
      case E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
        workflowTaskMs += at - wftScheduled;
        workflowTasks++;
        break;
    }
  }
  const first = eventMs(events[0]!);
  const last = eventMs(events[events.length - 1]!);
  let between = 0;
  for (let i = 0; i + 1 < scheduledAt.length && i < completedAt.length; i++) between += scheduledAt[i + 1]! - completedAt[i]!;
  const edges = (scheduledAt.length ? scheduledAt[0]! - first : 0) + (completedAt.length ? last - completedAt[completedAt.length - 1]! : 0);
  return { events: events.length, totalMs: last - first, activities, workflowTaskMs, workflowTasks, betweenActivitiesMs: between, edgesMs: edges };
}

export async function fetchEvents(client: Client, workflowId: string, runId?: string): Promise<HistoryEvent[]> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  return history.events ?? [];
}

/**
 * Every run of a continue-as-new chain, newest first, with its event count: follows each run's
 * WorkflowExecutionStarted.continuedExecutionRunId back to the first run.
 */
export async function runChain(client: Client, workflowId: string, lastRunId?: string): Promise<{ runId: string; events: number; profile: HistoryProfile }[]> {
  const out: { runId: string; events: number; profile: HistoryProfile }[] = [];
  let runId = lastRunId ?? (await client.workflow.getHandle(workflowId).describe()).runId;
  for (let guard = 0; runId && guard < 10_000; guard++) {
    const events = await fetchEvents(client, workflowId, runId);
    out.push({ runId, events: events.length, profile: profileHistory(events) });
    const previous = events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
    runId = previous ?? '';
  }
  return out;
}
