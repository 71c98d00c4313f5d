/**
 * B5 validation cost: bytes read by the validation step as a fraction of those read by curation,
 * hour by hour, through the real activities (curateToStaging, validateStaging) on the embedded
 * engine. Bytes are what the process really read (/proc/self/io rchar around each activity:
 * DuckDB runs in-process), not what the engine reports: the DuckDB adapter reports its input
 * files' sizes, which would make the ratio 1.0 by construction.
 *
 * Also checks that the curated count comes from Parquet metadata: the footer-only query's reads
 * (on a cold engine) against the Parquet file's size.
 */
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createActivities } from '../activities';
import { parseHour } from '../core/hours';
import { parseS3Uri } from '../core/locations';
import { generateHour } from '../generator/clickstreamGenerator';
import { writeRawHour } from '../generator/writeRawHour';
import type { Benchmark, BenchContext, BenchOutput } from './lib/benchmark';
import { bytesReadSoFar, hourRange, makeBenchLake } from './lib/harness';
import { mdTable } from './lib/results';
import { fmtSpread, round, spread } from './lib/stats';

/** One raw scan, plus a little slack for Parquet footers and DuckDB's own reads. */
const TARGET_EXTRA_RAW_SCANS = 1;
const SLACK = 0.02;

interface HourBytes {
  hour: string;
  rawBytes: number;
  parquetBytes: number;
  curationRead: number;
  validationRead: number;
  footerQueryRead: number;
  engineReported: { curation: number; validation: number };
}

export const benchmark: Benchmark = {
  id: 'B5',
  name: 'b5-validation',
  title: 'Validation cost (bytes read: validation vs curation)',
  run,
};

async function run(ctx: BenchContext): Promise<BenchOutput> {
  const hours = ctx.quick ? 1 : 4;
  // Quick hours still exceed PLAIN_READER_MIN_BYTES (4 MiB): the plain reader's proof is where validation once read raw twice.
  const mbPerHour = ctx.quick ? 6 : 16;
  const lake = await makeBenchLake();
  // A second engine over the same lake: its Parquet metadata cache is cold, so the footer-only
  // query's reads are the footer's real cost (on the first engine validation has just read it).
  const cold = await makeBenchLake({ CLICKSTREAM_LAKE_DIR: lake.config.lake.dir });
  try {
    const activities = createActivities({ backend: lake.backend, layout: lake.config.lake, tables: lake.config.tables, poll: lake.config.engine.poll });
    const env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
    const call = <A, R>(fn: (a: A) => Promise<R>, a: A) => env.run(fn, a) as Promise<R>;
    /** Bytes read while `fn` runs; nothing else in this process reads meanwhile. */
    const reading = async <R>(fn: () => Promise<R>): Promise<[R, number]> => {
      const before = await bytesReadSoFar();
      const r = await fn();
      return [r, (await bytesReadSoFar()) - before];
    };

    const samples: HourBytes[] = [];
    for (const [i, hour] of hourRange('2023-07-01T00', hours).entries()) {
      const g = generateHour({ hour: parseHour(hour), events: Math.round((mbPerHour * 1e6) / 360), seed: 200 + i, malformedRate: 0.01, duplicateRate: 0.01 });
      await writeRawHour(lake.backend.store, lake.config.lake, parseHour(hour), g.lines, { files: 4 });
      const manifest = await call(activities.verifyRawPartition, { hour });
      const runId = randomUUID();
      const [staging, curationRead] = await reading(() => call(activities.curateToStaging, { hour, rawPrefix: manifest.prefix, files: manifest.files, runId }));
      const [validated, validationRead] = await reading(() =>
        call(activities.validateStaging, { hour, rawPrefix: manifest.prefix, files: manifest.files, stagingLocation: staging.stagingLocation, runId }),
      );
      if (validated.counts.rawLines !== g.expected.rawLines || validated.counts.curatedRows !== g.expected.curatedRows) {
        throw new Error(`B5: validation of ${hour} counted ${JSON.stringify(validated.counts)}, generator planted ${JSON.stringify(g.expected)}`);
      }
      const { bucket, key } = parseS3Uri(staging.stagingLocation);
      const parquetFiles = (await lake.backend.store.list(bucket, key)).filter((o) => o.key.endsWith('.parquet'));
      const parquetBytes = parquetFiles.reduce((s, o) => s + o.size, 0);
      const [, footerQueryRead] = await reading(() =>
        cold.backend.engine.runNow(`SELECT coalesce(sum(num_rows), 0) AS n FROM parquet_file_metadata($glob)`, { glob: `${staging.stagingLocation}*.parquet` }),
      );
      samples.push({
        hour,
        rawBytes: manifest.bytes,
        parquetBytes,
        curationRead,
        validationRead,
        footerQueryRead,
        engineReported: { curation: staging.bytesScanned, validation: validated.bytesScanned },
      });
      ctx.log(`${hour}: raw ${round(manifest.bytes / 1e6)} MB, curation read ${round(curationRead / 1e6)} MB, validation read ${round(validationRead / 1e6)} MB`);
    }
    return report(ctx, { hours, mbPerHour, filesPerHour: 4 }, samples);
  } finally {
    await cold.cleanup();
    await lake.cleanup();
  }
}

function report(ctx: BenchContext, params: Record<string, unknown>, samples: HourBytes[]): BenchOutput {
  const ratio = spread(samples.map((s) => s.validationRead / s.curationRead));
  const rawScansByValidation = spread(samples.map((s) => (s.validationRead - s.footerQueryRead) / s.rawBytes));
  const rawScansByCuration = spread(samples.map((s) => s.curationRead / s.rawBytes));
  const footerShare = spread(samples.map((s) => s.footerQueryRead / s.parquetBytes));
  const met = rawScansByValidation.max <= TARGET_EXTRA_RAW_SCANS + SLACK && footerShare.max < 0.5;
  const mb = (n: number) => round(n / 1e6, 2);
  const markdown = [
    `${samples.length} hours of ~${params.mbPerHour} MB raw (4 files each), through the real curateToStaging and validateStaging activities on DuckDB. ` +
      'Bytes read = /proc/self/io rchar around each activity (page cache included; DuckDB runs in this process).',
    '',
    mdTable(
      ['hour', 'raw MB', 'curation read MB', 'validation read MB', 'validation / curation', 'footer query read / Parquet size', 'engine-reported (curation / validation) MB'],
      samples.map((s) => [
        s.hour,
        mb(s.rawBytes),
        mb(s.curationRead),
        mb(s.validationRead),
        round(s.validationRead / s.curationRead, 3),
        `${round(s.footerQueryRead / 1024, 1)} KiB / ${mb(s.parquetBytes)} MB`,
        `${mb(s.engineReported.curation)} / ${mb(s.engineReported.validation)}`,
      ]),
    ),
    '',
    `Raw scans per hour: curation ${fmtSpread(rawScansByCuration, '', 3)}, validation ${fmtSpread(rawScansByValidation, '', 3)} ` +
      `(validation's reads minus its footer reads, over the raw size). The curated count reads ${fmtSpread(spread(samples.map((s) => s.footerQueryRead / 1024)), ' KiB', 1)} ` +
      `of a ${fmtSpread(spread(samples.map((s) => s.parquetBytes / 1e6)), ' MB', 2)} Parquet file: footers only.`,
  ].join('\n');
  return {
    params,
    targets: [
      {
        name: 'extra raw scans by validation per hour (curated counts from Parquet metadata)',
        target: `≤ ${TARGET_EXTRA_RAW_SCANS} raw scan; footers only for the curated side`,
        measured: `${fmtSpread(rawScansByValidation, ' scans', 3)}; validation/curation bytes ${fmtSpread(ratio, '×', 3)}; footer query reads ${fmtSpread(footerShare, '', 4)} of the Parquet bytes`,
        met: ctx.quick ? null : met,
      },
    ],
    metrics: { samples, ratio, rawScansByValidation, rawScansByCuration, footerShare },
    markdown,
  };
}
