/**
 * The pipeline's Prometheus metrics, kept in the worker process with prom-client. The hourly
 * workflow reports each hour's outcome through the `pipelineMetrics` sink (no history events);
 * freshness is computed at scrape time from the catalog, so it keeps growing when nothing is
 * published, and the running-backfill count from Temporal visibility. Every series is labelled by table (plus error_type on failures), never by hour:
 * an hour label would add a series per hour forever.
 */
import type { InjectedSinks } from '@temporalio/worker';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { hourStartMs, parseHour } from '../core/hours';
import { newestPublishedHour } from '../lake/publishedHours';
import type { Catalog } from '../lake/ports';
import type { HourReport, PipelineMetricsSinks } from '../core/contracts/hourly';

const HOUR_MS = 3_600_000;
/**
 * The catalog is listed at most this often (a scrape every 15 s would otherwise list every
 * partition of the table each time, a Glue GetPartitions page per 1,000 hours); a publish seen
 * by this worker updates the newest hour at once, and the age is always computed at scrape time.
 */
export const NEWEST_HOUR_TTL_MS = 60_000;

/** How many backfills of the table are running and not paused (Temporal visibility); client/runningBackfills.ts. */
export type CountRunningBackfills = () => Promise<number>;

export interface PipelineMetricsOptions {
  catalog: Catalog;
  /** Without it (no Temporal client, e.g. a bench worker) there is no running-backfills gauge. */
  countRunningBackfills?: CountRunningBackfills;
  database: string;
  table: string;
  /** Where a failed catalog read is reported (the scrape still answers, with the last known value). */
  warn: (message: string, meta: Record<string, unknown>) => void;
  now?: () => number;
}

/** One registry per worker process: the pipeline's series, Node's process metrics and the freshness gauge. */
export class PipelineMetrics {
  readonly registry = new Registry();
  private readonly table: string;
  private readonly now: () => number;
  private newestEndMs: number | undefined;
  private listedAtMs = -Infinity;
  private runningBackfills: number | undefined;
  private countedAtMs = -Infinity;

  private readonly published: Counter<'table'>;
  private readonly failed: Counter<'table' | 'error_type'>;
  private readonly rowsCurated: Counter<'table'>;
  private readonly rowsRejected: Counter<'table'>;
  private readonly rowsDuplicate: Counter<'table'>;
  private readonly rawBytes: Counter<'table'>;
  private readonly engineBytes: Counter<'table'>;
  private readonly querySeconds: Histogram<'table'>;
  private readonly statusCalls: Counter<'table'>;
  private readonly swaps: Counter<'table'>;
  private readonly backfillHours: Counter<'table'>;

  constructor(private readonly opts: PipelineMetricsOptions) {
    this.table = opts.table;
    this.now = opts.now ?? Date.now;
    const registers = [this.registry];
    const counter = (name: string, help: string) => new Counter({ name, help, labelNames: ['table'] as const, registers });
    this.published = counter('clickstream_hours_published_total', 'Hours published (validated and swapped into the curated table).');
    this.failed = new Counter({
      name: 'clickstream_hours_failed_total',
      help: 'Hours whose workflow failed, by the error type at the root of the failure (cancelled hours are not counted).',
      labelNames: ['table', 'error_type'] as const,
      registers,
    });
    this.rowsCurated = counter('clickstream_rows_curated_total', 'Rows written to the curated table by published hours.');
    this.rowsRejected = counter('clickstream_rows_rejected_total', 'Raw lines rejected (malformed or outside the data contract) by published hours.');
    this.rowsDuplicate = counter('clickstream_rows_duplicate_total', 'Raw lines dropped as duplicate events by published hours.');
    this.rawBytes = counter('clickstream_raw_bytes_read_total', 'Size of the raw objects of published hours (the input each hour read).');
    this.engineBytes = counter('clickstream_engine_bytes_scanned_total', 'Bytes the engine scanned for curation and validation (Athena bills by this).');
    this.querySeconds = new Histogram({
      name: 'clickstream_engine_query_seconds',
      help: 'Engine time of each curation and validation query of published hours.',
      labelNames: ['table'] as const,
      // DuckDB hours take tens of milliseconds, Athena's seconds to minutes (Athena's DML limit is 30 min).
      buckets: [0.05, 0.25, 1, 5, 15, 60, 300, 1800],
      registers,
    });
    this.statusCalls = counter('clickstream_engine_status_calls_total', 'Engine status polls made by the queries of published hours.');
    this.swaps = counter('clickstream_publish_swaps_total', 'Catalog writes that pointed an hour at new files (created or replaced; a re-run that found its own swap is not one).');
    this.backfillHours = counter('clickstream_backfill_hours_finished_total', "Backfill children that finished (published or failed): a running backfill's progress.");
    const metrics = this;
    new Gauge({
      name: 'clickstream_backfills_running',
      help: 'Backfills of the table running and not paused, from Temporal visibility at scrape time (at most once a minute).',
      labelNames: ['table'] as const,
      registers,
      async collect() {
        const n = await metrics.countRunning();
        if (n === undefined) this.reset();
        else this.set({ table: metrics.table }, n);
      },
    });
    new Gauge({
      name: 'clickstream_freshness_seconds',
      help: 'Seconds since the end of the newest published hour (absent until an hour is published).',
      labelNames: ['table'] as const,
      registers,
      async collect() {
        const endMs = await metrics.newestPublishedEndMs();
        if (endMs === undefined) this.reset();
        else this.set({ table: metrics.table }, (metrics.now() - endMs) / 1000);
      },
    });
    collectDefaultMetrics({ register: this.registry });
    // Series exist from the start at 0, so rate() and increase() see the first hour.
    for (const c of [this.published, this.rowsCurated, this.rowsRejected, this.rowsDuplicate, this.rawBytes, this.engineBytes, this.statusCalls, this.swaps, this.backfillHours]) {
      c.inc({ table: this.table }, 0);
    }
  }

  hourPublished(report: HourReport, priority: 'live' | 'backfill' = 'live'): void {
    const table = { table: this.table };
    this.published.inc(table);
    if (priority === 'backfill') this.backfillHours.inc(table);
    this.rowsCurated.inc(table, report.counts.curatedRows);
    this.rowsRejected.inc(table, report.counts.rejected);
    this.rowsDuplicate.inc(table, report.counts.duplicates);
    this.rawBytes.inc(table, report.raw.bytes);
    this.engineBytes.inc(table, report.bytesRead.curation + report.bytesRead.validation);
    for (const q of [report.queries.curate, report.queries.validate]) {
      this.querySeconds.observe(table, q.engineMs / 1000);
      this.statusCalls.inc(table, q.statusCalls);
    }
    if (report.publish.outcome !== 'unchanged') this.swaps.inc(table);
    const endMs = hourStartMs(parseHour(report.hour)) + HOUR_MS;
    if (this.newestEndMs === undefined || endMs > this.newestEndMs) this.newestEndMs = endMs;
  }

  hourFailed(errorType: string, priority: 'live' | 'backfill' = 'live'): void {
    this.failed.inc({ table: this.table, error_type: errorType });
    if (priority === 'backfill') this.backfillHours.inc({ table: this.table });
  }

  /** The sink the worker injects; calls made while replaying history are skipped (the default), so nothing counts twice. */
  sinks(): InjectedSinks<PipelineMetricsSinks> {
    return {
      pipelineMetrics: {
        hourPublished: { fn: (_info, report, priority) => this.hourPublished(report, priority) },
        hourFailed: { fn: (_info, errorType, priority) => this.hourFailed(errorType, priority) },
      },
    };
  }

  /** Running, unpaused backfills, from Temporal at most every NEWEST_HOUR_TTL_MS; the last count when Temporal does not answer. */
  private async countRunning(): Promise<number | undefined> {
    const count = this.opts.countRunningBackfills;
    if (!count || this.now() - this.countedAtMs < NEWEST_HOUR_TTL_MS) return this.runningBackfills;
    try {
      this.runningBackfills = await count();
      this.countedAtMs = this.now();
    } catch (err) {
      this.opts.warn('backfills: counting running backfills failed; reporting the last count', {
        table: this.table,
        error: err instanceof Error ? err.message : String(err),
      });
    }
    return this.runningBackfills;
  }

  /** End of the newest published hour, from the catalog at most every NEWEST_HOUR_TTL_MS. */
  private async newestPublishedEndMs(): Promise<number | undefined> {
    if (this.now() - this.listedAtMs < NEWEST_HOUR_TTL_MS) return this.newestEndMs;
    try {
      const newest = await newestPublishedHour(this.opts.catalog, this.opts.database, this.table);
      this.listedAtMs = this.now();
      // The catalog is the truth (a publish writes it before the sink reports it); a removed partition ages the gauge back.
      this.newestEndMs = newest ? hourStartMs(newest) + HOUR_MS : undefined;
    } catch (err) {
      this.opts.warn('freshness: reading the catalog failed; reporting the last known newest hour', {
        table: this.table,
        error: err instanceof Error ? err.message : String(err),
      });
    }
    return this.newestEndMs;
  }
}
