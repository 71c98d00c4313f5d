/**
 * Wires the `trino` backend: the aws backend's S3 object store and Glue catalog, with a Trino
 * engine behind the QueryEngine port. For users who outgrow Athena's quotas and prices and run
 * their own Trino (or Starburst) over the same Glue catalog and bucket. Write-audit-publish is
 * the one described in lake/aws/createAwsBackend.ts: CTAS into a per-run staging folder, one
 * Glue partition swap to publish, superseded folders deleted last.
 */
import type { PipelineConfig } from '../../config/config';
import { createAthenaStatements } from '../aws/athenaStatements';
import { createAwsClients, destroyAwsClients, type AwsClients } from '../aws/awsClients';
import { createS3AndGlue } from '../aws/createAwsBackend';
import type { GlueCatalog } from '../aws/glueCatalog';
import type { S3ObjectStore } from '../aws/s3ObjectStore';
import type { LakeBackend } from '../ports';
import { TrinoQueryEngine } from './trinoEngine';

export interface TrinoLakeBackend extends LakeBackend {
  store: S3ObjectStore;
  catalog: GlueCatalog;
  engine: TrinoQueryEngine;
  clients: AwsClients;
}

export async function createTrinoBackend(config: PipelineConfig, opts: { clients?: AwsClients } = {}): Promise<TrinoLakeBackend> {
  const clients = opts.clients ?? createAwsClients(config.aws);
  const { store, catalog } = createS3AndGlue(clients);
  const engine = new TrinoQueryEngine({
    server: config.trino.url,
    user: config.trino.user,
    catalog: config.trino.catalog,
    // The Glue database is the Trino schema: Athena and Trino see the same tables.
    schema: config.tables.database,
    staging: { store, tableExists: (database, table) => catalog.tableExists(database, table) },
  });
  return {
    store,
    catalog,
    engine,
    statements: createAthenaStatements(config.tables, { dialect: 'trino', catalog: config.trino.catalog }),
    clients,
    close: async () => {
      await engine.close();
      if (!opts.clients) destroyAwsClients(clients);
    },
  };
}
