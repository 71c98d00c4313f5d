/** The benchmark registry. Modules load lazily: the parent process never loads Temporal or DuckDB. */
import type { Benchmark } from './lib/benchmark';

const MODULES: Record<string, () => Promise<{ benchmark: Benchmark }>> = {
  B1: () => import('./b1-overhead'),
  B2: () => import('./b2-backfill'),
  B3: () => import('./b3-polling'),
  B4: () => import('./b4-curation'),
  B5: () => import('./b5-validation'),
  B6: () => import('./b6-aws-calls'),
  B7: () => import('./b7-peers'),
  B8: () => import('./b8-cli-startup'),
  B9: () => import('./b9-first-start'),
  B10: () => import('./b10-trino-vs-duckdb'),
  B11: () => import('./b11-hour-memory'),
};

export const BENCHMARK_IDS = Object.keys(MODULES);

export async function loadBenchmark(id: string): Promise<Benchmark> {
  const load = MODULES[id];
  if (!load) throw new Error(`unknown benchmark ${id}; known: ${BENCHMARK_IDS.join(', ')}`);
  return (await load()).benchmark;
}
