/**
 * Drives the real activities (createActivities over the local backend) through
 * MockActivityEnvironment, step by step, without a Temporal server: the same code a worker runs,
 * with the workflow's sequencing done by hand so each step's outcome can be inspected.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createActivities, type PipelineActivities } from '../../../activities';
import type { PublishResult, RawManifest, StagingResult, ValidationResult } from '../../../core/contracts/steps';
import type { TestLake } from '../../support/testLake';

// Activities log each step at INFO and the SDK warns on every expected failure; keep errors only.
const QUIET = new DefaultLogger('ERROR');

export function localActivities(lake: TestLake): PipelineActivities {
  return createActivities({ backend: lake.backend, layout: lake.config.lake, tables: lake.config.tables, poll: lake.config.engine.poll });
}

/** Runs one activity in a fresh mock activity context (first attempt, no heartbeat details). */
export function runActivity<I, O>(fn: (input: I) => Promise<O>, input: I): Promise<O> {
  return new MockActivityEnvironment(undefined, { logger: QUIET }).run<[I], O, (input: I) => Promise<O>>(fn, input);
}

export interface StepResults {
  manifest: RawManifest;
  staging: StagingResult;
  validation: ValidationResult;
  published?: PublishResult;
}

/** verify -> register -> curate -> validate [-> publish], as the workflow sequences them. */
export async function runHourSteps(lake: TestLake, hour: string, runId: string, opts: { publish?: boolean } = {}): Promise<StepResults> {
  const acts = localActivities(lake);
  const manifest = await runActivity(acts.verifyRawPartition, { hour });
  await runActivity(acts.registerRawPartition, { hour });
  const staging = await runActivity(acts.curateToStaging, { hour, rawPrefix: manifest.prefix, files: manifest.files, runId });
  const validation = await runActivity(acts.validateStaging, {
    hour,
    rawPrefix: manifest.prefix,
    files: manifest.files,
    stagingLocation: staging.stagingLocation,
    runId,
  });
  if (opts.publish === false) return { manifest, staging, validation };
  const published = await runActivity(acts.publishPartition, {
    hour,
    stagingLocation: staging.stagingLocation,
    lineage: { validated: 'true', manifest_fingerprint: manifest.fingerprint, run_id: runId, curated_rows: String(validation.counts.curatedRows) },
  });
  return { manifest, staging, validation, published };
}

/** The curated rows in a staging (or published) folder, event_time as UTC text for exact comparison. */
export async function stagedRows(lake: TestLake, location: string): Promise<Record<string, unknown>[]> {
  return lake.backend.engine.runNow(
    `SELECT event_id, strftime(event_time, '%Y-%m-%d %H:%M:%S.%f') AS event_time, user_id, session_id, event_type, page_url, referrer, user_agent, properties
     FROM read_parquet($glob, hive_partitioning = false) ORDER BY event_id`,
    { glob: `${location}*.parquet` },
  );
}
