/** `clickstream generate`: writes deterministic demo/test raw hours into the lake. */
import type { PipelineConfig } from '../../config/config';
import { formatHour, hoursBetween } from '../../core/hours';
import { createBackend } from '../../lake/createBackend';
import { generateHour } from '../../generator/clickstreamGenerator';
import { writeRawHour } from '../../generator/writeRawHour';
import type { CliIo } from '../cliIo';
import { intArg, MAX_GENERATE_HOURS, rangeArgs, rateArg } from '../parseArgs';

export interface GenerateArgs {
  from: unknown;
  to: unknown;
  eventsPerHour: unknown;
  seed: unknown;
  malformedRate?: unknown;
  duplicateRate?: unknown;
  files?: unknown;
  /** Print one JSON document (the hours written and their expected counts) instead of a line per hour. */
  json?: boolean;
}

export async function generateCommand(config: PipelineConfig, args: GenerateArgs, io: CliIo): Promise<void> {
  // Every argument is checked before the first file is written.
  const { from, to } = rangeArgs(args.from, args.to, MAX_GENERATE_HOURS);
  const events = intArg('--events-per-hour', args.eventsPerHour, 0, 10_000_000);
  const seed = intArg('--seed', args.seed, 0, 2 ** 31 - 1);
  const malformedRate = rateArg('--malformed-rate', args.malformedRate);
  const duplicateRate = rateArg('--duplicate-rate', args.duplicateRate);
  const files = intArg('--files', args.files ?? '1', 1, 1000);

  const backend = await createBackend(config, { createLakeDir: true });
  const written: Array<{ hour: string; files: number } & ReturnType<typeof generateHour>['expected']> = [];
  try {
    for (const hour of hoursBetween(from, to)) {
      const g = generateHour({ hour, events, seed, malformedRate, duplicateRate });
      await writeRawHour(backend.store, config.lake, hour, g.lines, { files });
      written.push({ hour: formatHour(hour), files, ...g.expected });
      if (!args.json) {
        io.out(
          `${formatHour(hour)}  ${g.expected.rawLines} lines (${g.expected.curatedRows} events, ${g.expected.rejected} malformed, ${g.expected.duplicates} duplicates) in ${files} file(s)`,
        );
      }
    }
    // Printed once every hour is written: a document on stdout is never a partial one.
    if (args.json) io.out(JSON.stringify({ seed, hours: written }, null, 2));
  } finally {
    await backend.close();
  }
}
