/**
 * The operator CLI: `npx clickstream <command>`. Every command validates its arguments before
 * any side effect and exits non-zero with a message naming the flag and the accepted form.
 */
import { Command } from 'commander';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { startHour } from '../client/hourlyStarter';
import { PipelineError } from '../core/errors';
import { runWorker } from '../workers/worker';
import { addConfigFlags, configFromFlags, configOverridesFromFlags } from './configFlags';
import { registerBackfillCommands } from './commands/backfill';
import { generateCommand } from './commands/generate';
import { registerPartitionsCommand } from './commands/partitions';
import { queryCommand, type QueryCommandOptions } from './commands/query';
import { registerReconcileCommand } from './commands/reconcile';
import { registerScheduleCommands } from './commands/schedule';
import { doctorCommand } from './doctor';
import { formatReport } from './formatReport';
import { hourArg } from './parseArgs';
import { QUERY_FORMATS, writeStdout } from './queryOutput';

function buildProgram(): Command {
  const program = new Command('clickstream')
    .description('Operate the clickstream-lake pipeline (Temporal + lake + catalog + query engine).')
    .showHelpAfterError()
    .exitOverride();
  addConfigFlags(program);
  const config = () => configFromFlags(program.opts());
  const out = (line: string) => console.log(line);
  const io = { out, err: (line: string) => console.error(line) };

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
    .action(async (o) => generateCommand(config(), o, out));

  program
    .command('run-hour <hour>')
    .description('run the hourly workflow for one hour (YYYY-MM-DDTHH, UTC) and print its report; a worker must be running')
    .option('--json', 'print the report as JSON')
    .option('--no-wait', 'start the workflow and print its id without waiting')
    .action(async (hour: string, o: { json?: boolean; wait: boolean }) => {
      const cfg = config();
      hourArg('hour', hour); // rejected before any connection is made
      const connection = await Connection.connect({ address: cfg.temporal.address });
      try {
        const client = new Client({ connection, namespace: cfg.temporal.namespace });
        const handle = await startHour(client, cfg, hour);
        out(`workflow ${handle.workflowId} (equivalent: temporal workflow start --type hourlyPipelineWorkflow --task-queue ${cfg.temporal.taskQueue} --workflow-id '${handle.workflowId}' --input '{"hour":"${hour}"}')`);
        if (!o.wait) return;
        const report = await handle.result();
        out(o.json ? JSON.stringify(report, null, 2) : formatReport(report));
      } finally {
        await connection.close();
      }
    });

  program
    .command('worker')
    .description('run a pipeline worker (config from env and the global flags); Ctrl-C stops it cleanly')
    .action(async () => runWorker(configOverridesFromFlags(program.opts())));

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
    .command('doctor')
    .description('check config, credentials, bucket and prefixes, catalog tables, workgroup and the Temporal connection; prints a fix for each failure')
    .action(async () => {
      process.exitCode = await doctorCommand(config(), out);
    });

  registerScheduleCommands(program, config, io);
  registerBackfillCommands(program, config, io);
  registerReconcileCommand(program, config, io);
  registerPartitionsCommand(program, config, io);

  return program;
}

async function main(argv: string[]): Promise<void> {
  await buildProgram().parseAsync(argv);
}

main(process.argv).catch((err: unknown) => {
  const e = err as { code?: string; exitCode?: number };
  if (typeof e.code === 'string' && e.code.startsWith('commander.')) process.exit(e.exitCode ?? 2); // commander already printed it
  if (err instanceof PipelineError) {
    console.error(`error (${err.type}): ${err.message}`);
    process.exit(err.type === 'InvalidInput' || err.type === 'ConfigInvalid' ? 2 : 1);
  }
  if (err instanceof WorkflowFailedError) {
    const cause = err.cause as { message?: string; type?: string } | undefined;
    console.error(`workflow failed${cause?.type ? ` (${cause.type})` : ''}: ${cause?.message ?? err.message}`);
    process.exit(1);
  }
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
