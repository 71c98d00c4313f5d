/** Small shared pieces of the fault cases: seeding, a reader that runs throughout. */
import { curatedPartition, publishedRows } from '../../support/lakeReads';
import { makeRawHour, type TestLake } from '../../support/testLake';
import type { ExpectedCounts } from './lakeEndState';

/** Tiny generated hours (a bad line and a duplicate each, two files): the accounting is exact and known. */
export async function seedHours(lake: TestLake, hours: string[], rows = 6): Promise<Record<string, ExpectedCounts>> {
  const expected: Record<string, ExpectedCounts> = {};
  for (const [i, hour] of hours.entries()) {
    const g = await makeRawHour(lake, { hour, rows, malformed: 1, duplicates: 1, seed: 100 + i, files: 2 });
    expected[hour] = g.expected;
  }
  return expected;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface ReaderReport {
  reads: number;
  /** Reads that failed because the files of the location they resolved were deleted before they read them. */
  staleLocationRaces: number;
  /** Anything else: a wrong row count, a duplicate, an error with the catalog unchanged. Must stay empty. */
  problems: string[];
}

/**
 * Reads the published hours over and over, as a reader would (catalog location, then its Parquet
 * files), while faults happen, and records every wrong answer. A read that fails because the
 * catalog moved on and the old files were deleted in between is counted separately: it is the
 * time-of-check/time-of-use window of delete-after-swap, and a re-read gives the right answer.
 */
/**
 * The read lost the race with delete-after-swap: its glob found no files any more, or it listed
 * the old location's files and one was deleted before it opened it (the error names that file).
 */
function isStaleLocationError(message: string, before: string | undefined): boolean {
  if (/No files found/i.test(message)) return true;
  const oldFolderKey = before?.replace(/^s3:\/\/[^/]+\//, '');
  return Boolean(oldFolderKey) && /No such file or directory/.test(message) && message.includes(oldFolderKey!);
}

export function readContinuously(lake: TestLake, expected: Record<string, ExpectedCounts>): { stop(): Promise<ReaderReport> } {
  const report: ReaderReport = { reads: 0, staleLocationRaces: 0, problems: [] };
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      for (const [hour, want] of Object.entries(expected)) {
        const before = (await curatedPartition(lake, hour))?.location;
        try {
          const rows = await publishedRows(lake, hour);
          report.reads++;
          const distinct = new Set(rows.map((r) => r.event_id)).size;
          if (rows.length !== want.curatedRows || distinct !== rows.length) {
            report.problems.push(`${hour}: read ${rows.length} rows (${distinct} distinct), expected ${want.curatedRows}`);
          }
        } catch (err) {
          const after = (await curatedPartition(lake, hour))?.location;
          if (after !== before && isStaleLocationError(String((err as Error).message), before)) report.staleLocationRaces++;
          else report.problems.push(`${hour}: read failed with the catalog at ${after}: ${(err as Error).message}`);
        }
      }
      await sleep(50);
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return report;
    },
  };
}
