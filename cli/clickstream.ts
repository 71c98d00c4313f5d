/**
 * The operator CLI: `npx clickstream <command>`. Every command validates its arguments before
 * any side effect and exits non-zero with a message naming the flag and the accepted form.
 *
 * Exit codes: 0 ok; 1 failed (a workflow, a query, a check, an unreachable server); 2 bad input
 * (arguments, flags, settings), always before any side effect.
 *
 * Start-up cost: this module imports only commander and light local modules. Temporal's client
 * and worker, DuckDB and the AWS SDK are imported inside the actions that use them, and the
 * commands whose modules import them at load (schedule, backfill, reconcile, partitions) are
 * registered in full only when invoked, so `clickstream --help` loads none of them.
 */
import * as path from 'node:path';
import { Command } from 'commander';
import { PipelineError } from '../core/errors';
import type { CliIo } from './cliIo';
import type { QueryCommandOptions } from './commands/query';
import { addConfigFlags, configFromFlags, configOverridesFromFlags, invokedCommand } from './configFlags';
import type { PipelineConfig } from '../config/config';
import { QUERY_FORMATS, writeStdout } from './queryOutput';

/**
 * A module loaded when a command runs, not at start-up. require(), not import(): tsc keeps it as
 * is, and when the CLI runs its sources through tsx (bin/clickstream.js on a stale build) tsx's
 * CommonJS hook compiles what it loads, where an import() would bypass it.
 */
function lazy<T>(id: string): T {
  return require(id) as T;
}

type Register = (cmd: Command, config: () => PipelineConfig, io: CliIo) => void;

/** Commands whose modules load Temporal's client at import: name, the line `--help` shows, and the module. */
const LAZY_COMMANDS: Array<{ name: string; description: string; load: () => Register }> = [
  {
    name: 'schedule',
    description: 'the hourly Temporal Schedule (one per curated table); each command prints its plain temporal equivalent',
    load: () => lazy<typeof import('./commands/schedule')>('./commands/schedule').registerScheduleCommands,
  },
  {
    name: 'backfill',
    description: 'start and steer backfills over hour ranges (backfillWorkflow); each command prints its plain temporal equivalent',
    load: () => lazy<typeof import('./commands/backfill')>('./commands/backfill').registerBackfillCommands,
  },
  {
    name: 'reconcile',
    description: 're-run published hours whose raw files changed since publishing (late or replaced files): a backfill in mode "changed"',
    load: () => lazy<typeof import('./commands/reconcile')>('./commands/reconcile').registerReconcileCommand,
  },
  {
    name: 'partitions',
    description: 'per-hour status grid (days x 24 hours): published, changed, failed, running, missing raw, never run',
    load: () => lazy<typeof import('./commands/partitions')>('./commands/partitions').registerPartitionsCommand,
  },
];

function buildProgram(args: string[]): Command {
  const program = new Command('clickstream')
    .description('Operate the clickstream-lake pipeline (Temporal + lake + catalog + query engine). Exit codes: 0 ok, 1 failed, 2 bad input.')
    .showHelpAfterError()
    .exitOverride();
  addConfigFlags(program);
  const config = () => configFromFlags(program.opts());
  const out = (line: string) => console.log(line);
  const io: CliIo = { out, err: (line: string) => console.error(line) };

  program
    .command('generate')
    .description('write deterministic demo raw JSONL hours into the lake (never overwrites raw data)')
    .requiredOption('--from <hour>', 'first hour, YYYY-MM-DDTHH (UTC)')
    .requiredOption('--to <hour>', 'last hour, inclusive')
    .requiredOption('--events-per-hour <n>', 'valid distinct events per hour')
    .option('--seed <n>', 'random seed; same seed, same data', '42')
    .option('--malformed-rate <r>', 'extra malformed lines as a fraction of events (0-1)')
    .option('--duplicate-rate <r>', 'extra duplicate lines as a fraction of events (0-1)')
    .option('--files <n>', 'JSONL files per hour', '1')
    .option('--json', 'print what was written as JSON (one record per hour)')
    .action(async (o) => lazy<typeof import('./commands/generate')>('./commands/generate').generateCommand(config(), o, io));

  program
    .command('run-hour <hour>')
    .description('run the hourly workflow for one hour (YYYY-MM-DDTHH, UTC) and print its report; a worker must be running')
    .option('--json', 'print the report as JSON (stdout then holds only JSON; hints go to stderr)')
    .option('--no-wait', 'start the workflow and print its id without waiting')
    .action(async (hour: string, o: { json?: boolean; wait: boolean }) => lazy<typeof import('./commands/runHour')>('./commands/runHour').runHourCommand(config(), hour, o, io));

  program
    .command('status')
    .description('one screen for on-call: schedule state and next run, newest published hour and freshness, hours failed in the last 24 h with their errors, running backfills')
    .option('--json', 'print the status as JSON (stdout then holds only JSON)')
    .action(async (o: { json?: boolean }) => lazy<typeof import('./commands/status')>('./commands/status').statusCommand(config(), o, io));

  program
    .command('worker')
    .description('run a pipeline worker (config from env and the global flags); Ctrl-C stops it cleanly')
    .action(async () => {
      config(); // bad settings are bad input (exit 2), found before the worker's modules load
      await loadWorker().runWorker(configOverridesFromFlags(program.opts()));
    });

  program
    .command('query <sql>')
    .description(
      "run SQL through the backend's engine (local: DuckDB over the lake folder, aws: Athena, trino: Trino) and print the rows as they arrive. " +
        'Tables: clickstream_events (raw), clickstream_events_curated (published partitions only), clickstream_events_rejected (lines curation did not keep, with reason). ' +
        'On aws and trino a query over clickstream_events_rejected must filter year, month, day and hour (its lines table is partition-projected).',
    )
    .option('--from <hour>', 'local backend only: load partitions from this hour (YYYY-MM-DDTHH); on aws/trino filter year/month/day/hour in the SQL')
    .option('--to <hour>', 'local backend only: load partitions up to this hour, inclusive')
    .option('--format <format>', `output: ${QUERY_FORMATS.join(', ')} (json: one array; ndjson: one object per line)`)
    .option('--json', 'print rows as JSON lines, same as --format ndjson (stdout then holds only JSON; hints go to stderr)')
    .action(async (sql: string, o: QueryCommandOptions) => {
      const { queryCommand } = lazy<typeof import('./commands/query')>('./commands/query');
      // Ctrl-C or SIGTERM stops the engine's query before the CLI exits.
      const stop = new AbortController();
      const abort = () => stop.abort();
      process.once('SIGINT', abort).once('SIGTERM', abort);
      // A reader that went away (`| head`) surfaces as EPIPE from write: end quietly; the query is stopped on the way out.
      process.stdout.on('error', () => {});
      try {
        await queryCommand(config(), sql, o, { write: writeStdout, err: io.err, signal: stop.signal });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EPIPE') throw err;
      } finally {
        process.off('SIGINT', abort).off('SIGTERM', abort);
      }
    });

  program
    .command('ddl')
    .description('print the Hive DDL of the database and tables the worker creates through Glue (aws, trino), for a manual bootstrap in the Athena console')
    .action(() => lazy<typeof import('./commands/ddl')>('./commands/ddl').ddlCommand(config(), io));

  program
    .command('doctor')
    .description('check config, credentials, bucket and prefixes, catalog tables, workgroup and the Temporal connection; prints a fix for each failure (exit 1 if any check failed)')
    .option('--json', 'print { ok, checks: [{ name, ok, detail, fix }] } as JSON')
    .action(async (o: { json?: boolean }) => {
      const { doctorCommand, runDoctor } = lazy<typeof import('./doctor')>('./doctor');
      const cfg = config();
      if (!o.json) {
        process.exitCode = await doctorCommand(cfg, out);
        return;
      }
      const result = await runDoctor(cfg);
      out(JSON.stringify(result, null, 2));
      process.exitCode = result.ok ? 0 : 1;
    });

  const invoked = invokedCommand(args);
  for (const c of LAZY_COMMANDS) {
    const cmd = program.command(c.name).description(c.description);
    if (c.name === invoked) c.load()(cmd, config, io);
  }
  return program;
}

/**
 * The worker bundles workflows/*.ts from their sources (workers/createPipelineWorker.ts resolves
 * them next to its own file), so it is loaded from the TypeScript sources through tsx even when
 * this CLI runs compiled from dist/.
 */
function loadWorker(): typeof import('../workers/worker') {
  if (__filename.endsWith('.ts')) return lazy<typeof import('../workers/worker')>('../workers/worker');
  // tsx registered for the whole process, as the CLI ran before it was compiled (tsx's scoped
  // require, tsx/cjs/api, would also see webpack's loader requests and break the bundling).
  require('tsx/cjs');
  return require(path.resolve(__dirname, '..', '..', 'workers', 'worker.ts')) as typeof import('../workers/worker');
}

/** Exit code 2 for bad input, 1 for everything that failed after the input was accepted. */
function exitCodeFor(err: unknown): number {
  const e = err as { code?: string; exitCode?: number };
  if (typeof e.code === 'string' && e.code.startsWith('commander.')) {
    // commander has printed it: help and --version end 0, every usage error (unknown command or
    // option, missing argument or required option) is bad input.
    return e.exitCode === 0 ? 0 : 2;
  }
  // By name too: the worker's modules are loaded from the sources (loadWorker), with a PipelineError class of their own.
  if (err instanceof PipelineError || (err instanceof Error && err.name === 'PipelineError')) {
    const { type } = err as PipelineError;
    console.error(`error (${type}): ${err.message}`);
    return type === 'InvalidInput' || type === 'ConfigInvalid' ? 2 : 1;
  }
  // Only a run that got as far as a workflow can fail with one: Temporal's client is loaded by then.
  const { WorkflowFailedError } = lazy<typeof import('@temporalio/client')>('@temporalio/client');
  if (err instanceof WorkflowFailedError) {
    const { type, message } = err.cause ? lazy<typeof import('../core/failureType')>('../core/failureType').rootFailure(err.cause) : { type: '', message: err.message };
    console.error(`workflow failed${type ? ` (${type})` : ''}: ${message}`);
    return 1;
  }
  console.error(err instanceof Error ? err.message : err);
  return 1;
}

async function main(argv: string[]): Promise<void> {
  await buildProgram(argv.slice(2)).parseAsync(argv);
}

main(process.argv).catch((err: unknown) => {
  process.exit(exitCodeFor(err));
});
