/**
 * The newest published hour of the curated table, read through the Catalog port: the source of
 * freshness for the worker's gauge and for `clickstream status`. Only a validated partition is
 * published; an unvalidated one is an interrupted or foreign write.
 */
import { hourFromPartitionValues, hourStartMs, type Hour } from '../core/hours';
import { isPublished } from '../core/lineage';
import type { Catalog } from './ports';

export async function newestPublishedHour(catalog: Catalog, database: string, table: string): Promise<Hour | undefined> {
  let newest: Hour | undefined;
  for (const p of await catalog.listPartitions(database, table)) {
    if (!isPublished(p.parameters)) continue;
    const hour = hourFromPartitionValues(p.values);
    if (!newest || hourStartMs(hour) > hourStartMs(newest)) newest = hour;
  }
  return newest;
}
