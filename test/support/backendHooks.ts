/**
 * Test-only wrappers around a real backend: the real adapters do the work, and a hook runs
 * first. Used to stop a run at an exact point (between curate and publish) or to swap in a
 * deliberately wrong curation statement; Temporal itself is never mocked.
 */
import { parseHour, partitionValues } from '../../core/hours';
import type { Catalog, LakeBackend, PartitionDef, StatementBuilder } from '../../lake/ports';

export function withCatalogHook(
  base: LakeBackend,
  beforeUpsert: (table: string, partition: PartitionDef) => Promise<void>,
): LakeBackend {
  const catalog: Catalog = {
    ensureTable: (d) => base.catalog.ensureTable(d),
    getTable: (db, t) => base.catalog.getTable(db, t),
    getPartition: (db, t, v) => base.catalog.getPartition(db, t, v),
    listPartitions: (db, t) => base.catalog.listPartitions(db, t),
    upsertPartition: async (db, t, p, opts) => {
      await beforeUpsert(t, p);
      return base.catalog.upsertPartition(db, t, p, opts);
    },
    ...(base.catalog.dropTable ? { dropTable: (db: string, t: string) => base.catalog.dropTable!(db, t) } : {}),
  };
  return { ...base, catalog, close: () => base.close() };
}

/**
 * Holds one hour's publish of `table` just before its partition write, so a test can look at the
 * world while that hour is running: `reached` resolves when the hour gets there, `release()` lets
 * it go on. `once`: only the first publish of the hour is held; later ones pass at once.
 */
export function holdPublish(
  base: LakeBackend,
  table: string,
  hour: string,
  opts: { once?: boolean } = {},
): { backend: LakeBackend; reached: Promise<void>; release(): void } {
  const gate = deferred();
  const reached = deferred();
  const held = Object.values(partitionValues(parseHour(hour))).join();
  let holds = 0;
  const backend = withCatalogHook(base, async (t, p) => {
    if (t === table && p.values.join() === held && !(opts.once && holds > 0)) {
      holds++;
      reached.resolve();
      await gate.promise;
    }
  });
  return { backend, reached: reached.promise, release: () => gate.resolve() };
}

/** The real store, with `beforeDelete` run first whenever publish deletes superseded output. */
export function withDeleteHook(base: LakeBackend, beforeDelete: (keys: string[]) => Promise<void>): LakeBackend {
  return {
    ...base,
    store: {
      list: (b, p) => base.store.list(b, p),
      put: (b, k, body) => base.store.put(b, k, body),
      deleteKeys: async (b, keys) => {
        await beforeDelete(keys);
        return base.store.deleteKeys(b, keys);
      },
    },
    close: () => base.close(),
  };
}

export function withStatements(base: LakeBackend, statements: StatementBuilder): LakeBackend {
  return { ...base, statements, close: () => base.close() };
}

/** A promise plus its resolvers, for gating a hook from the test body. */
export function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
