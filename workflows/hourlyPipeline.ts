/**
 * The hourly pipeline: verify -> register -> curate (to staging) -> validate -> publish.
 * Deterministic orchestration only: no I/O, no Node builtins. The clock used is the workflow's
 * own (Temporal replaces Date in the workflow sandbox, so replays see the same times).
 */
import {
  ActivityFailure,
  ApplicationFailure,
  isCancellation,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  proxySinks,
  sleep,
  TemporalFailure,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { PipelineActivities } from '../activities';
import { HourFormatError, parsePastHour } from '../core/hours';
import { lineageParameters } from '../core/lineage';
import { engineTaskQueue, type EnginePriority } from '../core/ids';
import { SA_HOUR, SA_KIND, SA_STATUS } from '../core/searchAttributes';
import { NEVER_RETRY, polledQuery, quickLakeCall, quickLocalLakeCall, validationQuery } from './activityProfiles';
import { failureType } from '../core/failureType';
import type { HourlyPipelineInput, HourReport, PipelineMetricsSinks, RawWaitSettings } from '../core/contracts/hourly';

const remoteLake = proxyActivities<PipelineActivities>(quickLakeCall);
const localLake = proxyLocalActivities<PipelineActivities>(quickLocalLakeCall);
const { pipelineMetrics } = proxySinks<PipelineMetricsSinks>();

type QuickStep = 'verifyRawPartition' | 'registerRawPartition' | 'publishPartition';
type QuickSteps = Pick<PipelineActivities, QuickStep>;

/**
 * Runs from before this patch ran every quick step as a remote activity; their histories must
 * replay as they were recorded (test/workflows/histories/*-v1-remote-steps.json).
 */
export const LOCAL_QUICK_STEPS_PATCH = 'local-quick-steps';

/**
 * Verify, register and publish: one local attempt, then, only if it failed with a retryable
 * error, the remote activity with the full retry policy. All three are idempotent, so running a
 * step again after a failed or timed-out local attempt is safe.
 */
function quickSteps(): QuickSteps {
  if (!patched(LOCAL_QUICK_STEPS_PATCH)) return remoteLake;
  const localFirst =
    <I, O>(step: QuickStep, local: (input: I) => Promise<O>, remote: (input: I) => Promise<O>) =>
    async (input: I): Promise<O> => {
      try {
        return await local(input);
      } catch (err) {
        if (!(err instanceof TemporalFailure) || isCancellation(err) || isFinal(err)) throw err;
        log.warn('local attempt failed; retrying as a remote activity', { step, error: rootFailure(err).message });
        return await remote(input);
      }
    };
  return {
    verifyRawPartition: localFirst('verifyRawPartition', localLake.verifyRawPartition, remoteLake.verifyRawPartition),
    registerRawPartition: localFirst('registerRawPartition', localLake.registerRawPartition, remoteLake.registerRawPartition),
    publishPartition: localFirst('publishPartition', localLake.publishPartition, remoteLake.publishPartition),
  };
}

/** A remote activity's failure wraps the activity's error in an ActivityFailure; a local one's arrives as it is. */
function rootFailure(err: TemporalFailure): Error {
  return err instanceof ActivityFailure && err.cause ? err.cause : err;
}

/** A failure retrying cannot fix (the same rule quickLakeCall's retry policy applies). */
function isFinal(err: TemporalFailure): boolean {
  const cause = rootFailure(err);
  return cause instanceof ApplicationFailure && (cause.nonRetryable || NEVER_RETRY.includes(cause.type ?? ''));
}

/** Engine steps go to the slot-limited task queue of the hour's priority (live or backfill). */
function engineActivities(priority: EnginePriority) {
  const taskQueue = engineTaskQueue(workflowInfo().taskQueue, priority);
  return {
    curation: proxyActivities<PipelineActivities>({ ...polledQuery, taskQueue }),
    validation: proxyActivities<PipelineActivities>({ ...validationQuery, taskQueue }),
  };
}

export const DEFAULT_RAW_WAIT: RawWaitSettings = { timeoutSeconds: 2 * 3600, recheckSeconds: 300 };

/** Processes one raw hour into a published, validated curated partition and returns its report. */
export async function hourlyPipelineWorkflow(input: HourlyPipelineInput): Promise<HourReport> {
  const { hour, rawWait, priority } = validateInput(input);
  // Findable in the UI list by hour and outcome (registered by client/searchAttributes.ts).
  upsertSearchAttributes([
    { key: SA_KIND, value: 'hour' },
    { key: SA_HOUR, value: hour },
    { key: SA_STATUS, value: 'running' },
  ]);
  try {
    const report = await runHour(hour, rawWait, priority);
    upsertSearchAttributes([{ key: SA_STATUS, value: 'published' }]);
    pipelineMetrics.hourPublished(report, priority);
    return report;
  } catch (err) {
    const cancelled = isCancellation(err);
    upsertSearchAttributes([{ key: SA_STATUS, value: cancelled ? 'cancelled' : 'failed' }]);
    // A cancelled hour was stopped by an operator, not failed by the data: no failure to alert on.
    if (!cancelled) pipelineMetrics.hourFailed(failureType(err), priority);
    throw err;
  }
}

async function runHour(hour: string, rawWait: RawWaitSettings, priority: EnginePriority): Promise<HourReport> {
  const lake = quickSteps();
  const { curation, validation } = engineActivities(priority);
  const { workflowId, runId } = workflowInfo();
  const startedAt = Date.now();
  const timed = async <T>(fn: () => Promise<T>): Promise<[T, number]> => {
    const t0 = Date.now();
    const result = await fn();
    return [result, Date.now() - t0];
  };

  const [{ manifest, checks }, verifyMs] = await timed(() => waitForRawHour(lake, hour, rawWait));
  const [, registerMs] = await timed(() => lake.registerRawPartition({ hour }));
  const [staging, curateMs] = await timed(() =>
    curation.curateToStaging({ hour, rawPrefix: manifest.prefix, files: manifest.files, runId }),
  );
  const [validated, validateMs] = await timed(() =>
    validation.validateStaging({ hour, rawPrefix: manifest.prefix, files: manifest.files, stagingLocation: staging.stagingLocation, runId }),
  );

  const { rawLines, curatedRows, rejected, duplicates } = validated.counts;
  if (validated.unknownFields.length > 0) {
    // Schema drift is not an error (the data contract allows extra fields), but it is never silent.
    log.warn('raw events carry fields outside the data contract', { hour, unknownFields: validated.unknownFields });
  }
  const accounted = curatedRows + rejected + duplicates;
  if (rawLines !== accounted) {
    throw ApplicationFailure.nonRetryable(
      `row counts do not add up for hour ${hour}: ${rawLines} non-blank raw lines, but curated ${curatedRows} + rejected ${rejected} + duplicates ${duplicates} = ${accounted}. ` +
        `Nothing was published; the previous curated data is unchanged. Staging output kept for inspection at ${staging.stagingLocation}.`,
      'RowCountMismatch',
      { hour, expected: rawLines, actual: accounted, counts: validated.counts, stagingLocation: staging.stagingLocation },
    );
  }

  const [published, publishMs] = await timed(() =>
    lake.publishPartition({
      hour,
      stagingLocation: staging.stagingLocation,
      lineage: lineageParameters({
        manifestFingerprint: manifest.fingerprint,
        rawObjects: manifest.objects,
        rawBytes: manifest.bytes,
        counts: { rawLines, curatedRows, rejected, duplicates },
        unknownFields: validated.unknownFields,
        curateQueryId: staging.queryId,
        validateQueryId: validated.queryId,
        workflowId,
        runId,
        publishedAt: new Date(Date.now()).toISOString(),
      }),
    }),
  );

  const { files: _files, ...rawSummary } = manifest;
  const { stagingLocation, ...curateQuery } = staging;
  const { counts, unknownFields, ...validateQuery } = validated;
  return {
    hour,
    workflowId,
    runId,
    status: 'published',
    raw: { ...rawSummary, rawWaitChecks: checks },
    counts,
    schemaDrift: { unknownFields },
    location: stagingLocation,
    publish: published,
    queries: { curate: curateQuery, validate: validateQuery },
    bytesRead: { curation: staging.bytesScanned, validation: validated.bytesScanned },
    durationsMs: { verify: verifyMs, register: registerMs, curate: curateMs, validate: validateMs, publish: publishMs, total: Date.now() - startedAt },
  };
}

/** Re-checks a missing or empty raw hour on durable timers (no sleeping activity holds a slot) until the deadline. */
async function waitForRawHour(lake: QuickSteps, hour: string, wait: RawWaitSettings) {
  const deadline = Date.now() + wait.timeoutSeconds * 1000;
  for (let checks = 1; ; checks++) {
    const manifest = await lake.verifyRawPartition({ hour });
    if (manifest.objects > 0) return { manifest, checks };
    const remainingMs = deadline - Date.now();
    if (remainingMs <= 0) {
      throw ApplicationFailure.nonRetryable(
        `raw partition ${manifest.prefix} has no .jsonl objects after ${checks} checks over ${wait.timeoutSeconds}s; ` +
          `check that the producer delivered hour ${hour}, then re-run the hour (or raise CLICKSTREAM_RAW_WAIT_SECONDS)`,
        'RawPartitionMissing',
        { hour, prefix: manifest.prefix, checks, waitedSeconds: wait.timeoutSeconds },
      );
    }
    await sleep(Math.min(wait.recheckSeconds * 1000, remainingMs));
  }
}

/** Rejects bad input before any activity runs, naming the field and the accepted form. */
function validateInput(input: HourlyPipelineInput): { hour: string; rawWait: RawWaitSettings; priority: EnginePriority } {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw ApplicationFailure.nonRetryable(
      `workflow input must be a JSON object like {"hour": "2024-03-01T07"}; got ${JSON.stringify(input)}`,
      'InvalidInput',
    );
  }
  try {
    parsePastHour(input.hour, Date.now(), 'input.hour');
  } catch (err) {
    if (err instanceof HourFormatError) throw ApplicationFailure.nonRetryable(err.message, 'InvalidInput', { field: 'hour' });
    throw err;
  }
  const rawWait = input.rawWait ?? DEFAULT_RAW_WAIT;
  for (const key of ['timeoutSeconds', 'recheckSeconds'] as const) {
    const v = rawWait[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || (key === 'recheckSeconds' && v < 1)) {
      throw ApplicationFailure.nonRetryable(
        `input.rawWait.${key} must be a whole number of seconds (${key === 'recheckSeconds' ? '>= 1' : '>= 0'}); got ${JSON.stringify(v)}`,
        'InvalidInput',
        { field: `rawWait.${key}` },
      );
    }
  }
  const priority = input.priority ?? 'live';
  if (priority !== 'live' && priority !== 'backfill') {
    throw ApplicationFailure.nonRetryable(`input.priority must be "live" or "backfill"; got ${JSON.stringify(input.priority)}`, 'InvalidInput', {
      field: 'priority',
    });
  }
  return { hour: input.hour, rawWait, priority };
}
