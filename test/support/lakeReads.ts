/** Reads what readers would see: the catalog's published partition and its Parquet rows. */
import { PARTITION_KEYS, parseHour, partitionValues } from '../../core/hours';
import type { PartitionDef } from '../../lake/ports';
import type { TestLake } from './testLake';

export async function curatedPartition(lake: TestLake, hour: string): Promise<PartitionDef | undefined> {
  const v = partitionValues(parseHour(hour));
  return lake.backend.catalog.getPartition(lake.config.tables.database, lake.config.tables.curated, PARTITION_KEYS.map((k) => v[k]));
}

export async function rawPartition(lake: TestLake, hour: string): Promise<PartitionDef | undefined> {
  const v = partitionValues(parseHour(hour));
  return lake.backend.catalog.getPartition(lake.config.tables.database, lake.config.tables.raw, PARTITION_KEYS.map((k) => v[k]));
}

/** Rows of the published curated partition of `hour`, via its catalog location (as a reader resolves it). */
export async function publishedRows(lake: TestLake, hour: string): Promise<Record<string, unknown>[]> {
  const p = await curatedPartition(lake, hour);
  if (!p) return [];
  return lake.backend.engine.runNow(`SELECT * FROM read_parquet($glob) ORDER BY event_id`, { glob: `${p.location}*.parquet` });
}

export async function publishedSchema(lake: TestLake, hour: string): Promise<Record<string, string>> {
  const p = await curatedPartition(lake, hour);
  if (!p) throw new Error(`hour ${hour} has no published curated partition`);
  const rows = await lake.backend.engine.runNow(`DESCRIBE SELECT * FROM read_parquet($glob)`, { glob: `${p.location}*.parquet` });
  return Object.fromEntries(rows.map((r) => [String(r.column_name), String(r.column_type)]));
}
