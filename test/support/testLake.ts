/**
 * A fresh lake folder + catalog per test, with config built the same way production builds it,
 * and the one fixture builder for raw hours (makeRawHour) so cases never drift apart.
 */
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig, type ConfigEnvName, type PipelineConfig } from '../../config/config';
import { formatHour, hoursBetween, parseHour, type Hour } from '../../core/hours';
import { createLocalBackend, ensureTables, type LocalLakeBackend } from '../../lake/createBackend';
import { generateHour, type GeneratedHour } from '../../generator/clickstreamGenerator';
import { writeRawHour } from '../../generator/writeRawHour';

export interface TestLake {
  dir: string;
  config: PipelineConfig;
  backend: LocalLakeBackend;
  cleanup(): Promise<void>;
}

export async function makeTestLake(overrides: Partial<Record<ConfigEnvName, string>> = {}): Promise<TestLake> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'clickstream-test-'));
  const config = loadConfig(
    {},
    {
      CLICKSTREAM_LAKE_DIR: path.join(dir, 'lake'),
      CLICKSTREAM_TASK_QUEUE: `test-${randomUUID()}`,
      CLICKSTREAM_QUERY_POLL_INITIAL_MS: '20',
      CLICKSTREAM_QUERY_POLL_MAX_MS: '200',
      ...overrides,
    },
  );
  const backend = await createLocalBackend(config, { createLakeDir: true });
  await ensureTables(backend, config);
  return {
    dir,
    config,
    backend,
    cleanup: async () => {
      await backend.close();
      if (!process.env.CLICKSTREAM_TEST_KEEP_DIRS) await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

export interface RawHourSpec {
  hour: string;
  /** Valid distinct events to generate. */
  rows?: number;
  malformed?: number;
  duplicates?: number;
  seed?: number;
  files?: number;
  /** Explicit lines instead of generated ones (edge cases); expected counts are then the caller's. */
  lines?: string[];
  lineEnding?: '\n' | '\r\n';
}

/** Writes one raw hour into the test lake and returns what the pipeline must find. */
export async function makeRawHour(lake: TestLake, spec: RawHourSpec): Promise<GeneratedHour & { hour: Hour }> {
  const hour = parseHour(spec.hour);
  const rows = spec.rows ?? 50;
  const generated: GeneratedHour = spec.lines
    ? { lines: spec.lines, expected: { rawLines: -1, curatedRows: -1, rejected: -1, duplicates: -1 } }
    : generateHour({
        hour,
        events: rows,
        seed: spec.seed ?? 7,
        malformedRate: rows ? (spec.malformed ?? 0) / rows : 0,
        duplicateRate: rows ? (spec.duplicates ?? 0) / rows : 0,
      });
  await writeRawHour(lake.backend.store, lake.config.lake, hour, generated.lines, { files: spec.files ?? 2, lineEnding: spec.lineEnding });
  return { ...generated, hour };
}

/** Every hour of an inclusive range, formatted: the hours a test seeds and asserts on. */
export function hourRange(from: string, to: string): string[] {
  return hoursBetween(parseHour(from), parseHour(to)).map(formatHour);
}
