/**
 * Wires the `aws` backend: S3 for objects, the Glue Data Catalog for metadata, Athena for SQL,
 * behind the same ports as the local backend.
 *
 * Write-audit-publish on Athena, and why readers never see duplicates or a gap:
 * 1. curate: CTAS writes the hour into a staging folder unique to the run and creates a staging
 *    table over it. Readers resolve the curated table through its Glue partition, which still
 *    points at the previous run's folder, so nothing they see changes.
 * 2. validate: one raw scan plus count(*) on the staging table (Parquet footers). On a mismatch
 *    nothing is published and the staging folder is kept for inspection.
 * 3. publish: one UpdatePartition (CreatePartition the first time) swaps the partition's location
 *    to the staging folder. It is a single metadata write: a query plans against the old folder
 *    or the new one, never both (no duplicates) and never neither (no gap).
 * 4. the staging table's metadata is dropped (Glue DeleteTable; its folder now *is* the partition),
 *    then the superseded run folders are deleted. A query planned just before the swap may still
 *    read the old folder, so deleting it last is what keeps in-flight readers whole; Athena's
 *    INSERT INTO (append) and delete-then-insert would both open a window of doubled or missing rows.
 */
import { createHash } from 'node:crypto';
import { pollDelayMs, type PipelineConfig, type PollPolicy } from '../../config/config';
import { PipelineError } from '../../core/errors';
import type { LakeBackend } from '../ports';
import { AthenaQueryEngine } from './athenaEngine';
import { athenaViewStatements, createAthenaStatements } from './athenaStatements';
import { createAwsClients, destroyAwsClients, type AwsClients } from './awsClients';
import { defaultAwsSettings, type AwsSettings } from '../../config/awsSettings';
import { GlueCatalog } from './glueCatalog';
import { S3ObjectStore } from './s3ObjectStore';

export interface AwsLakeBackend extends LakeBackend {
  store: S3ObjectStore;
  catalog: GlueCatalog;
  engine: AthenaQueryEngine;
  clients: AwsClients;
  settings: AwsSettings;
}

export interface CreateAwsBackendOptions {
  /** The parsed CLICKSTREAM_AWS_* settings; defaults to config.aws, then to parseAwsSettings({}). */
  aws?: AwsSettings;
  /** Pre-built clients (tests); otherwise built from the settings. They are destroyed by close() only when built here. */
  clients?: AwsClients;
  /** Page sizes for the paginators (tests use small pages to exercise pagination). */
  pageSize?: number;
  /** Receives leftover keys a failed CTAS attempt left behind before they are deleted (logging). */
  onLeftovers?: (location: string, keys: string[]) => void;
}

export async function createAwsBackend(
  config: PipelineConfig & { aws?: AwsSettings },
  opts: CreateAwsBackendOptions = {},
): Promise<AwsLakeBackend> {
  const settings = opts.aws ?? config.aws ?? defaultAwsSettings();
  const clients = opts.clients ?? createAwsClients(settings);
  const { database, raw, curated } = config.tables;
  const { store, catalog } = createS3AndGlue(clients, opts.pageSize);
  const engine = new AthenaQueryEngine(clients.athena, {
    workGroup: settings.athena.workGroup,
    outputLocation: settings.athena.outputLocation,
    database,
    store,
    tableExists: (db, t) => catalog.tableExists(db, t),
    onLeftovers: opts.onLeftovers,
  });
  return {
    store,
    catalog,
    engine,
    statements: createAthenaStatements({ database, raw, curated }),
    clients,
    settings,
    close: async () => {
      if (!opts.clients) destroyAwsClients(clients);
    },
  };
}

/** S3 and Glue as the aws and trino backends both use them. */
export function createS3AndGlue(clients: AwsClients, pageSize?: number): { store: S3ObjectStore; catalog: GlueCatalog } {
  const store = new S3ObjectStore(clients.s3, { pageSize });
  const catalog = new GlueCatalog(clients.glue, { pageSize });
  return { store, catalog };
}

export interface ViewCreated {
  view: string;
  queryId: string;
  statusCalls: number;
}

/**
 * Creates or replaces the Athena views (through Athena, or Trino on the trino backend), in order: the classified-lines view that curation,
 * validation and the rejected-lines view select from, then the rejected-lines view (Glue cannot
 * store a Trino view definition by itself; it takes an Athena statement). Run at every worker
 * start, before the worker takes work, so the views always match the worker's sql/athena files.
 * Outside any activity, so it polls on its own. Each token is a hash of its statement: re-running
 * the same bootstrap reattaches to the same query.
 */
export async function ensureAthenaViews(
  backend: Pick<LakeBackend, 'engine'>,
  tables: { database: string; raw: string; curated: string },
  poll: PollPolicy,
  maxPolls = 200,
): Promise<ViewCreated[]> {
  const created: ViewCreated[] = [];
  for (const { view, sql } of athenaViewStatements(tables)) {
    const queryId = await backend.engine.start({ sql, params: {}, idempotencyToken: createHash('sha256').update(sql).digest('hex') });
    created.push({ view, queryId, statusCalls: await waitForBootstrapQuery(backend, view, queryId, poll, maxPolls) });
  }
  return created;
}

async function waitForBootstrapQuery(
  backend: Pick<LakeBackend, 'engine'>,
  view: string,
  queryId: string,
  poll: PollPolicy,
  maxPolls: number,
): Promise<number> {
  for (let n = 0; n < maxPolls; n++) {
    const status = await backend.engine.status(queryId);
    if (status.state === 'SUCCEEDED') return n + 1;
    if (status.state === 'FAILED' || status.state === 'CANCELLED') {
      throw new PipelineError('QueryFailed', `creating the Athena view ${view} failed (query ${queryId}): ${status.reason ?? status.state}`, {
        details: { queryId, view },
        retryable: status.retryable,
      });
    }
    await new Promise((r) => setTimeout(r, pollDelayMs(poll, n)));
  }
  throw new PipelineError('TransientBackend', `creating the Athena view ${view} did not finish within ${maxPolls} polls (query ${queryId})`);
}
