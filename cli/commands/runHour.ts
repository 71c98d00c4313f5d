/**
 * `clickstream run-hour <hour>`: starts the hourly workflow for one hour and prints its report.
 * Under --json stdout holds only the JSON document; the equivalent `temporal` command goes to stderr.
 */
import type { PipelineConfig } from '../../config/config';
import { formatHour, parseHour } from '../../core/hours';
import { WORKFLOW_TYPES } from '../../core/ids';
import { startHour } from '../../client/hourlyStarter';
import { formatReport } from '../../client/formatReport';
import { hourArg } from '../parseArgs';
import { withTemporalClient } from '../temporalConnection';
import { temporalCommand } from '../temporalEquivalent';
import { printEquivalent, printHint, type CliIo } from '../cliIo';

export interface RunHourFlags {
  json?: boolean;
  wait: boolean;
}

export async function runHourCommand(cfg: PipelineConfig, hour: string, o: RunHourFlags, io: CliIo): Promise<void> {
  hourArg('hour', hour); // rejected before any connection is made
  await withTemporalClient(cfg, async (client) => {
    const handle = await startHour(client, cfg, hour);
    // A start that joined a running hour (conflict policy UseExisting) is that run.
    const runId = (handle as { firstExecutionRunId?: string }).firstExecutionRunId ?? '';
    printHint(io, o.json, `workflow ${handle.workflowId} run ${runId}`);
    printEquivalent(
      io,
      o.json,
      temporalCommand(cfg, [
        'workflow', 'start', '--type', WORKFLOW_TYPES.hourly, '--task-queue', cfg.temporal.taskQueue,
        '--workflow-id', handle.workflowId, '--id-conflict-policy', 'UseExisting', '--id-reuse-policy', 'AllowDuplicate',
        '--input', JSON.stringify({ hour: formatHour(parseHour(hour)), rawWait: cfg.rawWait }),
      ]),
    );
    if (!o.wait) {
      // Without waiting there is no report: the document names the run, so a script can follow it.
      if (o.json) io.out(JSON.stringify({ workflowId: handle.workflowId, runId }, null, 2));
      return;
    }
    const report = await handle.result();
    io.out(o.json ? JSON.stringify(report, null, 2) : formatReport(report));
  });
}
