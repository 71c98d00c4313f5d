import type { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** The marker the SDK records for a local activity's outcome (and 'core_patch' for patched()). */
export const LOCAL_ACTIVITY_MARKER = 'core_local_activity';

/** Everything in a history that runs work outside the workflow: remote and local activities, child workflows. */
export function sideEffectEvents(events: HistoryEvent[] | null | undefined): HistoryEvent[] {
  return (events ?? []).filter(
    (e) =>
      e.activityTaskScheduledEventAttributes ||
      e.startChildWorkflowExecutionInitiatedEventAttributes ||
      e.markerRecordedEventAttributes?.markerName === LOCAL_ACTIVITY_MARKER,
  );
}

/** Activity types in history order, remote ones from their scheduled events, local ones from their markers. */
export function activityCalls(events: HistoryEvent[] | null | undefined): { remote: string[]; local: string[] } {
  const remote: string[] = [];
  const local: string[] = [];
  for (const e of events ?? []) {
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) remote.push(scheduled.activityType?.name ?? '?');
    const marker = e.markerRecordedEventAttributes;
    if (marker?.markerName === LOCAL_ACTIVITY_MARKER) {
      const data = marker.details?.data?.payloads?.[0]?.data;
      const parsed = data ? (JSON.parse(Buffer.from(data).toString('utf8')) as { activity_type?: string }) : {};
      local.push(parsed.activity_type ?? '?');
    }
  }
  return { remote, local };
}
