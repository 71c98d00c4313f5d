/**
 * Calibration workflows for B1: the smallest workflows with N sequential activities, remote or
 * local, doing nothing. Their wall time is the orchestration floor on this machine and dev server,
 * and the remote/local difference is what moving a step to a local activity would save.
 */
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';

export interface FloorActivities {
  noop(): Promise<void>;
}

const remote = proxyActivities<FloorActivities>({ startToCloseTimeout: '1 minute' });
const local = proxyLocalActivities<FloorActivities>({ startToCloseTimeout: '1 minute' });

/** Runs `local` no-op local activities, then `remote` no-op remote activities, in sequence. */
export async function floorWorkflow(input: { remote: number; local: number }): Promise<void> {
  for (let i = 0; i < input.local; i++) await local.noop();
  for (let i = 0; i < input.remote; i++) await remote.noop();
}
