/**
 * Configuration is parsed once, here, at the edge. Inner code receives a typed PipelineConfig
 * and never reads process.env. All problems are reported together in one ConfigInvalid error.
 */
import * as path from 'node:path';
import { z } from 'zod';
import { PipelineError } from '../core/errors';
import { DEFAULT_CURATED_TABLE, DEFAULT_TASK_QUEUE, SQL_IDENTIFIER } from '../core/ids';
import { parseAwsSettings, type AwsSettings } from './awsSettings';
import { parseTrinoSettings, type TrinoSettings } from './trinoSettings';

// Identifiers reach SQL and paths, so they are held to strict patterns; anything else is refused.
const BUCKET_NAME = /^(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const KEY_PREFIX = /^[A-Za-z0-9][A-Za-z0-9_-]*(\/[A-Za-z0-9][A-Za-z0-9_-]*)*$/;

const identifier = (what: string) =>
  z.string().regex(SQL_IDENTIFIER, `${what} must match ${SQL_IDENTIFIER} (lower-case letters, digits, underscore)`);
const intIn = (min: number, max: number) =>
  z.coerce.number().int(`must be a whole number`).min(min, `must be >= ${min}`).max(max, `must be <= ${max}`);

/** Keys are the environment variable names, so every message names exactly what to change. */
const envSchema = z.object({
  CLICKSTREAM_BACKEND: z.enum(['local', 'aws', 'trino'], { error: 'must be one of: local, aws, trino' }).default('local'),
  CLICKSTREAM_LAKE_DIR: z.string().min(1).default('./lake-data'),
  CLICKSTREAM_CATALOG_DIR: z.string().min(1).optional(),
  CLICKSTREAM_BUCKET: z
    .string()
    .regex(BUCKET_NAME, 'must be an S3 bucket name: 3-63 of a-z 0-9 . -, starting and ending alphanumeric')
    .default('clickstream-lake'),
  CLICKSTREAM_RAW_PREFIX: z
    .string()
    .regex(KEY_PREFIX, 'must be a key prefix like raw/clickstream (letters, digits, _ -, / between segments)')
    .default('raw/clickstream'),
  CLICKSTREAM_CURATED_PREFIX: z
    .string()
    .regex(KEY_PREFIX, 'must be a key prefix like curated/clickstream (letters, digits, _ -, / between segments)')
    .default('curated/clickstream'),
  CLICKSTREAM_DATABASE: identifier('database').default('clickstream'),
  CLICKSTREAM_RAW_TABLE: identifier('raw table').default('clickstream_events'),
  CLICKSTREAM_CURATED_TABLE: identifier('curated table').default(DEFAULT_CURATED_TABLE),
  CLICKSTREAM_DUCKDB_THREADS: intIn(1, 256).default(2),
  // DuckDB's memory per worker process in MiB, all its queries together; past it, DuckDB spills to disk.
  CLICKSTREAM_DUCKDB_MEMORY_MIB: intIn(128, 1_048_576).default(768),
  // Engine queries in flight per worker process: live hours have their own slots, so a backfill never starves them.
  CLICKSTREAM_ENGINE_SLOTS_LIVE: intIn(1, 256).default(2),
  CLICKSTREAM_ENGINE_SLOTS_BACKFILL: intIn(1, 256).default(4),
  // Unset means the backend's default (POLL_DEFAULTS below).
  CLICKSTREAM_QUERY_POLL_INITIAL_MS: intIn(10, 60_000).optional(),
  // Capped below the polled-query heartbeat timeout (15 s): a poll is also the heartbeat.
  CLICKSTREAM_QUERY_POLL_MAX_MS: intIn(10, 10_000).optional(),
  CLICKSTREAM_QUERY_POLL_MULTIPLIER: z.coerce.number().min(1, 'must be >= 1').max(10, 'must be <= 10').optional(),
  CLICKSTREAM_RAW_WAIT_SECONDS: intIn(0, 7 * 24 * 3600).default(2 * 3600),
  CLICKSTREAM_RAW_RECHECK_SECONDS: intIn(1, 24 * 3600).default(300),
  CLICKSTREAM_SCHEDULE_MINUTE: intIn(0, 59).default(10),
  TEMPORAL_ADDRESS: z.string().regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'must be host:port').default('localhost:7233'),
  TEMPORAL_NAMESPACE: z.string().regex(/^[A-Za-z0-9._-]{1,255}$/, 'must be a namespace name').default('default'),
  CLICKSTREAM_TASK_QUEUE: z.string().regex(/^[A-Za-z0-9._:-]{1,200}$/, 'must be a task queue name').default(DEFAULT_TASK_QUEUE),
  CLICKSTREAM_TEMPORAL_UI_PORT: intIn(1, 65535).default(8233),
  // Unset: no metrics endpoint (tests and one-off runs bind no extra ports). 0 picks a free port.
  CLICKSTREAM_METRICS_PORT: intIn(0, 65535).optional(),
  // The Temporal SDK's own Prometheus exporter binds its own address; unset leaves it off.
  CLICKSTREAM_SDK_METRICS_PORT: intIn(1, 65535).optional(),
});

export type ConfigEnvName = keyof typeof envSchema.shape;
export const CONFIG_ENV_NAMES = Object.keys(envSchema.shape) as ConfigEnvName[];

export interface PollPolicy {
  initialMs: number;
  maxMs: number;
  multiplier: number;
}

/** The delay before status call number `n` (0-based): initial * multiplier^n, capped. Every poller of engine queries uses it. */
export function pollDelayMs(policy: PollPolicy, n: number): number {
  return Math.min(policy.maxMs, Math.round(policy.initialMs * Math.pow(policy.multiplier, n)));
}

/**
 * Status-poll backoff per backend, because their queries differ by orders of magnitude: an
 * embedded DuckDB hour takes tens of milliseconds, an Athena query seconds to minutes. Chosen
 * with bench B3 (simulated clock): the Athena policy needs 11 status calls for a 60 s query and
 * sees its end 0.8 s late, where a fixed 1 s poll needs 61 and Airflow's fixed 30 s is 15 s late
 * on average. The cap stays under the 15 s heartbeat timeout, since every poll is a heartbeat.
 */
export const POLL_DEFAULTS: Record<PipelineConfig['backend'], PollPolicy> = {
  local: { initialMs: 10, maxMs: 5_000, multiplier: 1.5 },
  aws: { initialMs: 1_000, maxMs: 8_000, multiplier: 1.5 },
  // Each Trino status call is one protocol step, which Trino itself holds open up to ~1 s while
  // nothing changes; polling more often only wastes requests, less often delays the end.
  trino: { initialMs: 100, maxMs: 1_000, multiplier: 1.5 },
};

export interface PipelineConfig {
  backend: 'local' | 'aws' | 'trino';
  lake: { dir: string; catalogDir: string; bucket: string; rawPrefix: string; curatedPrefix: string };
  tables: { database: string; raw: string; curated: string };
  engine: { threads: number; memoryMiB: number; poll: PollPolicy; slots: { live: number; backfill: number } };
  rawWait: { timeoutSeconds: number; recheckSeconds: number };
  temporal: { address: string; namespace: string; taskQueue: string; uiPort: number };
  schedule: { minuteOffset: number };
  /** Prometheus endpoints: the pipeline's /metrics (workers/metricsServer.ts) and the SDK runtime's; undefined = off. */
  metrics: { port?: number; sdkPort?: number };
  /** CLICKSTREAM_AWS_* settings (lake/aws/awsSettings.ts); read by the aws and trino backends (S3, Glue). */
  aws: AwsSettings;
  /** CLICKSTREAM_TRINO_* settings (lake/trino/trinoSettings.ts); read only by the trino backend. */
  trino: TrinoSettings;
}

/**
 * Parses configuration from the environment, with `overrides` (CLI flags, keyed by env name) on top.
 * Unknown CLICKSTREAM_* variables are rejected too: a typo must not silently fall back to a default.
 */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  overrides: Partial<Record<ConfigEnvName, string | number | undefined>> = {},
): PipelineConfig {
  const raw: Record<string, unknown> = {};
  for (const name of CONFIG_ENV_NAMES) {
    const v = overrides[name] ?? env[name];
    if (v !== undefined && v !== '') raw[name] = v;
  }
  const problems: string[] = [];
  for (const name of Object.keys(env)) {
    // CLICKSTREAM_AWS_* and CLICKSTREAM_TRINO_* are checked (unknown ones too) by their own parsers below.
    if (name.startsWith('CLICKSTREAM_') && !name.startsWith('CLICKSTREAM_AWS_') && !name.startsWith('CLICKSTREAM_TRINO_') && !(CONFIG_ENV_NAMES as string[]).includes(name) && !IGNORED_ENV.has(name)) {
      problems.push(`${name}: unknown setting; known ones are ${CONFIG_ENV_NAMES.filter((n) => n.startsWith('CLICKSTREAM_')).join(', ')}`);
    }
  }
  const parsed = envSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0]);
      problems.push(`${name}: ${issue.message} (got ${JSON.stringify(raw[name])})`);
    }
  }
  const poll = parsed.success ? pollPolicy(parsed.data) : undefined;
  if (poll && poll.maxMs < poll.initialMs) {
    problems.push(
      `CLICKSTREAM_QUERY_POLL_MAX_MS: must be >= CLICKSTREAM_QUERY_POLL_INITIAL_MS (got ${poll.maxMs} < ${poll.initialMs}, defaults filled in for the ${parsed.data!.CLICKSTREAM_BACKEND} backend)`,
    );
  }
  const aws = parseAwsSettings(env);
  if (!aws.ok) problems.push(...aws.problems);
  const trino = parseTrinoSettings(env);
  if (!trino.ok) problems.push(...trino.problems);
  if (problems.length > 0 || !parsed.success || !aws.ok || !trino.ok || !poll) {
    throw new PipelineError('ConfigInvalid', `Invalid configuration:\n  - ${problems.join('\n  - ')}`, {
      details: { problems },
    });
  }
  const e = parsed.data;
  const lakeDir = path.resolve(e.CLICKSTREAM_LAKE_DIR);
  return {
    backend: e.CLICKSTREAM_BACKEND,
    lake: {
      dir: lakeDir,
      catalogDir: path.resolve(e.CLICKSTREAM_CATALOG_DIR ?? path.join(lakeDir, '_catalog')),
      bucket: e.CLICKSTREAM_BUCKET,
      rawPrefix: e.CLICKSTREAM_RAW_PREFIX,
      curatedPrefix: e.CLICKSTREAM_CURATED_PREFIX,
    },
    tables: { database: e.CLICKSTREAM_DATABASE, raw: e.CLICKSTREAM_RAW_TABLE, curated: e.CLICKSTREAM_CURATED_TABLE },
    engine: {
      threads: e.CLICKSTREAM_DUCKDB_THREADS,
      memoryMiB: e.CLICKSTREAM_DUCKDB_MEMORY_MIB,
      slots: { live: e.CLICKSTREAM_ENGINE_SLOTS_LIVE, backfill: e.CLICKSTREAM_ENGINE_SLOTS_BACKFILL },
      poll,
    },
    rawWait: { timeoutSeconds: e.CLICKSTREAM_RAW_WAIT_SECONDS, recheckSeconds: e.CLICKSTREAM_RAW_RECHECK_SECONDS },
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.CLICKSTREAM_TASK_QUEUE,
      uiPort: e.CLICKSTREAM_TEMPORAL_UI_PORT,
    },
    schedule: { minuteOffset: e.CLICKSTREAM_SCHEDULE_MINUTE },
    metrics: { port: e.CLICKSTREAM_METRICS_PORT, sdkPort: e.CLICKSTREAM_SDK_METRICS_PORT },
    aws: aws.settings,
    trino: trino.settings,
  };
}

/** Each setting that is unset takes the backend's default, so one override never drags the others along. */
function pollPolicy(e: z.infer<typeof envSchema>): PollPolicy {
  const d = POLL_DEFAULTS[e.CLICKSTREAM_BACKEND];
  return {
    initialMs: e.CLICKSTREAM_QUERY_POLL_INITIAL_MS ?? d.initialMs,
    maxMs: e.CLICKSTREAM_QUERY_POLL_MAX_MS ?? d.maxMs,
    multiplier: e.CLICKSTREAM_QUERY_POLL_MULTIPLIER ?? d.multiplier,
  };
}

/** CLICKSTREAM_* variables that are read elsewhere on purpose (test harness), not pipeline settings. */
const IGNORED_ENV = new Set<string>(['CLICKSTREAM_TEST_KEEP_DIRS']);
