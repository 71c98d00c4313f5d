/** Workflow inputs and the hourly report: plain JSON shared by starters, the CLI and the UI. */
import type { Sinks } from '@temporalio/workflow';
import type { HourCounts, PublishResult, QueryOutcome, RawManifest } from './steps';

export interface RawWaitSettings {
  /** How long to keep re-checking a missing or empty raw hour before failing it. */
  timeoutSeconds: number;
  /** Durable timer between checks. */
  recheckSeconds: number;
}

export interface HourlyPipelineInput {
  /** 'YYYY-MM-DDTHH', UTC. */
  hour: string;
  /** Defaults to 2h / 5 min; starters pass the configured values. */
  rawWait?: RawWaitSettings;
  /** Which engine slots the hour's queries use: 'live' (default) or 'backfill'. */
  priority?: 'live' | 'backfill';
}

export interface ScheduledHourInput {
  /** The curated table name, which keys the per-hour workflow IDs. */
  table: string;
  rawWait?: RawWaitSettings;
}

export interface HourReport {
  hour: string;
  workflowId: string;
  runId: string;
  status: 'published';
  raw: Omit<RawManifest, 'files'> & { rawWaitChecks: number };
  counts: HourCounts;
  /** Top-level raw fields outside the data contract seen this hour (schema drift), sorted. */
  schemaDrift: { unknownFields: string[] };
  location: string;
  publish: PublishResult;
  queries: { curate: QueryOutcome; validate: QueryOutcome };
  bytesRead: { curation: number; validation: number };
  durationsMs: { verify: number; register: number; curate: number; validate: number; publish: number; total: number };
}

/**
 * What the hourly workflow tells the worker process about an hour's outcome. Sink calls leave
 * no history events and are skipped on replay: the worker turns them into Prometheus metrics
 * (workers/pipelineMetrics.ts), so metrics cost the workflow nothing.
 */
export interface PipelineMetricsSinks extends Sinks {
  pipelineMetrics: {
    /** `priority`: 'backfill' for a backfill's child, so the worker can tell a backfill that moves from one that stalls. */
    hourPublished(report: HourReport, priority: 'live' | 'backfill'): void;
    /** `errorType`: the ApplicationFailure type at the root of the failure (e.g. RowCountMismatch), or 'Timeout'. */
    hourFailed(errorType: string, priority: 'live' | 'backfill'): void;
  };
}
