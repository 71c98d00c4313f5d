/**
 * B6 API calls per hour on the `aws` backend, against moto with manual Athena progression: every
 * request the real activities send (verify, register, curate, validate, publish) is counted by a
 * middleware on the SDK clients, per service and operation, and each count is asserted against a
 * budget written here. A count over budget fails the run (unlike a missed performance target):
 * the budgets are the design's contract with an AWS bill and with API quotas.
 *
 * moto records Athena statements but executes none: where the CTAS would write Parquet and create
 * the staging table, the benchmark does that itself, with its own uncounted client calls.
 */
import { existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { CreateTableCommand } from '@aws-sdk/client-glue';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createActivities } from '../activities';
import { parseS3Uri } from '../core/locations';
import { stagingTableName } from '../lake/aws/glueTables';
import { makeAwsTestLake, makeRawHourS3, type AwsTestLake } from '../test/support/aws/awsTestLake';
import { MOTO_BIN, MotoServer } from '../test/support/aws/motoServer';
import { BenchNotRunnable, type Benchmark, type BenchContext, type BenchOutput } from './lib/benchmark';
import { hourRange } from './lib/harness';
import { mdTable } from './lib/results';

/** Athena states last this many GetQueryExecution calls each: QUEUED, RUNNING, RUNNING, SUCCEEDED. */
const ATHENA_PROGRESSION = 2;

/**
 * Requests per hour, at most (small hours: one page per listing), itemized from what each step
 * must do. A change that adds a request fails the run until the budget here is raised on purpose.
 * - S3 lists: verify lists the raw hour; curate checks its staging folder for a failed attempt's
 *   leftovers before the CTAS; publish lists the hour's run folders to delete superseded ones.
 * - S3 other: one DeleteObjects batch when a re-run supersedes an earlier run's objects.
 * - Glue, new hour: register reads the raw table (the storage descriptor a partition copies) and
 *   creates the partition (2); publish reads the curated table, creates the partition and drops the
 *   staging table (3). Nothing reads a partition first: CreatePartition is tried, and a partition
 *   is read only when it already exists. The first hour reads the tables; later hours within
 *   GlueCatalog's 60 s table cache skip both GetTable calls (3: a backfill's hours).
 * - Glue, re-run (tables cached by the hours before it): register's CreatePartition meets
 *   AlreadyExists, GetPartition finds it unchanged (2); publish's CreatePartition meets
 *   AlreadyExists, GetPartition returns the location it replaces, UpdatePartition swaps it, and the
 *   staging table is dropped (4). A re-run more than 60 s after its table was read adds the two
 *   GetTable calls (8).
 * - Athena: one StartQueryExecution per query step (2); status calls are set by moto's manual
 *   progression (QUEUED, RUNNING, RUNNING, SUCCEEDED = 2 x progression per query, nothing wasted);
 *   validation reads its one result page (GetQueryResults).
 */
export const BUDGETS: Record<string, number> = {
  's3 lists (ListObjectsV2)': 3,
  's3 other requests': 1,
  'glue requests, new hour': 5,
  'glue requests, re-run': 6,
  'athena starts (StartQueryExecution)': 2,
  'athena status calls (GetQueryExecution)': 2 * (2 * ATHENA_PROGRESSION),
  'athena other requests': 1,
};

type Phase = 'verify' | 'register' | 'curate' | 'validate' | 'publish';
const PHASES: Phase[] = ['verify', 'register', 'curate', 'validate', 'publish'];

export const benchmark: Benchmark = {
  id: 'B6',
  name: 'b6-aws-calls',
  title: 'AWS API calls per hour (aws backend on moto)',
  run,
};

async function run(ctx: BenchContext): Promise<BenchOutput> {
  if (!existsSync(MOTO_BIN)) throw new BenchNotRunnable(`moto is not installed at ${MOTO_BIN}; run \`bash scripts/setup-moto.sh\``);
  const moto = await MotoServer.start();
  let lake: AwsTestLake | undefined;
  try {
    await moto.reset();
    await moto.setAthenaManualProgression(ATHENA_PROGRESSION);
    lake = await makeAwsTestLake(moto);
    const counter = countRequests(lake);
    const activities = createActivities({ backend: lake.backend, layout: lake.config.lake, tables: lake.config.tables, poll: lake.config.engine.poll });
    const env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
    const call = <A, R>(fn: (a: A) => Promise<R>, a: A) => env.run(fn, a) as Promise<R>;

    const hours = hourRange('2024-04-01T00', ctx.quick ? 1 : 3);
    // New hours (the schedule's and a backfill's case), then the first hour again (a re-run: the swap and the cleanup).
    const plan = [...hours.map((h) => ({ hour: h, label: `${h} (new)` })), { hour: hours[0]!, label: `${hours[0]} (re-run)` }];
    const perHour: { label: string; byPhase: Record<Phase, Record<string, number>> }[] = [];
    for (const [i, { hour, label }] of plan.entries()) {
      if (!label.endsWith('(re-run)')) await makeRawHourS3(lake, { hour, rows: 20, malformed: 2, duplicates: 1, files: 2, seed: 300 + i });
      const byPhase = {} as Record<Phase, Record<string, number>>;
      const runId = randomUUID();
      const phase = async <R>(p: Phase, fn: () => Promise<R>): Promise<R> => {
        counter.phase = p;
        try {
          return await fn();
        } finally {
          counter.phase = undefined;
          byPhase[p] = counter.take();
        }
      };
      const manifest = await phase('verify', () => call(activities.verifyRawPartition, { hour }));
      await phase('register', () => call(activities.registerRawPartition, { hour }));
      const staging = await phase('curate', () => call(activities.curateToStaging, { hour, rawPrefix: manifest.prefix, files: manifest.files, runId }));
      await simulateCtas(lake, staging.stagingLocation);
      await moto.queueAthenaResult(
        ['raw_lines', 'curated_rows', 'rejected', 'duplicates', 'unknown_fields'],
        [{ raw_lines: '23', curated_rows: '20', rejected: '2', duplicates: '1', unknown_fields: '[]' }],
        { raw_lines: 'bigint', curated_rows: 'bigint', rejected: 'bigint', duplicates: 'bigint', unknown_fields: 'json' },
      );
      await phase('validate', () =>
        call(activities.validateStaging, { hour, rawPrefix: manifest.prefix, files: manifest.files, stagingLocation: staging.stagingLocation, runId }),
      );
      await phase('publish', () => call(activities.publishPartition, { hour, stagingLocation: staging.stagingLocation, lineage: { validated: 'true', run_id: runId } }));
      perHour.push({ label, byPhase });
      ctx.log(`${label}: ${JSON.stringify(totals(byPhase))}`);
    }
    return report(perHour);
  } finally {
    await lake?.close();
    await moto.stop();
  }
}

/** Counts every HTTP request the backend's SDK clients send (per attempt: retries count too), by phase. */
function countRequests(lake: AwsTestLake) {
  const state = {
    phase: undefined as Phase | undefined,
    current: {} as Record<string, number>,
    take(): Record<string, number> {
      const out = state.current;
      state.current = {};
      return out;
    },
  };
  const clients = { s3: lake.backend.clients.s3, glue: lake.backend.clients.glue, athena: lake.backend.clients.athena, sts: lake.backend.clients.sts };
  for (const [service, client] of Object.entries(clients)) {
    // The deserialize step runs once per attempt, after the retry middleware: one count per request sent.
    (client.middlewareStack as { add: (mw: unknown, opts: unknown) => void }).add(
      (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
        if (state.phase) {
          const key = `${service}:${context.commandName?.replace(/Command$/, '') ?? '?'}`;
          state.current[key] = (state.current[key] ?? 0) + 1;
        }
        return next(args);
      },
      { step: 'deserialize', name: `benchRequestCounter-${service}` },
    );
  }
  return state;
}

/** What Athena's CTAS does on success: Parquet in the staging folder and the staging table in Glue (uncounted). */
async function simulateCtas(lake: AwsTestLake, stagingLocation: string): Promise<void> {
  const { bucket, key } = parseS3Uri(stagingLocation);
  await lake.backend.store.put(bucket, `${key}20240401_000000_00001_bench_0.parquet`, 'PAR1 simulated PAR1');
  await lake.backend.clients.glue.send(
    new CreateTableCommand({
      DatabaseName: lake.config.tables.database,
      TableInput: { Name: stagingTableName(lake.config.tables.curated, stagingLocation), TableType: 'EXTERNAL_TABLE', StorageDescriptor: { Location: stagingLocation } },
    }),
  );
}

function totals(byPhase: Record<Phase, Record<string, number>>): Record<string, number> {
  const all: Record<string, number> = {};
  for (const p of PHASES) for (const [k, v] of Object.entries(byPhase[p] ?? {})) all[k] = (all[k] ?? 0) + v;
  return all;
}

/** Maps operation counts onto the budget lines; Glue onto the line of the hour's kind (the other stays unset). */
function budgetCounts(all: Record<string, number>, rerun: boolean): Record<string, number> {
  const sum = (pred: (k: string) => boolean) => Object.entries(all).filter(([k]) => pred(k)).reduce((s, [, v]) => s + v, 0);
  return {
    's3 lists (ListObjectsV2)': sum((k) => k === 's3:ListObjectsV2'),
    's3 other requests': sum((k) => k.startsWith('s3:') && k !== 's3:ListObjectsV2'),
    [rerun ? 'glue requests, re-run' : 'glue requests, new hour']: sum((k) => k.startsWith('glue:')),
    'athena starts (StartQueryExecution)': sum((k) => k === 'athena:StartQueryExecution'),
    'athena status calls (GetQueryExecution)': sum((k) => k === 'athena:GetQueryExecution'),
    'athena other requests': sum((k) => k.startsWith('athena:') && k !== 'athena:StartQueryExecution' && k !== 'athena:GetQueryExecution'),
  };
}

function report(perHour: { label: string; byPhase: Record<Phase, Record<string, number>> }[]): BenchOutput {
  const budgetRows = perHour.map((h) => ({ label: h.label, counts: budgetCounts(totals(h.byPhase), h.label.endsWith('(re-run)')) }));
  const over: string[] = [];
  for (const h of budgetRows) {
    for (const [line, budget] of Object.entries(BUDGETS)) {
      if (h.counts[line] !== undefined && h.counts[line] > budget) over.push(`${h.label}: ${line} = ${h.counts[line]} > budget ${budget}`);
    }
  }
  const applies = (line: string) => budgetRows.filter((h) => h.counts[line] !== undefined);
  const ops = [...new Set(perHour.flatMap((h) => PHASES.flatMap((p) => Object.keys(h.byPhase[p] ?? {}))))].sort();
  const first = perHour[0]!;
  const rerun = perHour[perHour.length - 1]!;
  const markdown = [
    `Real activities on the aws backend against moto (S3 and Glue real, Athena with manual progression: each state lasts ${ATHENA_PROGRESSION} status calls). ` +
      'Requests counted per attempt by a middleware on the SDK clients; the CTAS output and the staging table are simulated with uncounted calls.',
    '',
    mdTable(['per hour', ...Object.keys(BUDGETS).map((k) => k.replace(/ \(.*\)$/, '')), 'total'], [
      ...(['new hour', 're-run'] as const).map((kind) => {
        const other = kind === 're-run' ? 'glue requests, new hour' : 'glue requests, re-run';
        const lines = Object.entries(BUDGETS).map(([k, v]) => (k === other ? '–' : v));
        return [`**budget, ${kind}**`, ...lines, lines.reduce<number>((a, b) => a + (typeof b === 'number' ? b : 0), 0)];
      }),
      ...budgetRows.map((h) => [h.label, ...Object.keys(BUDGETS).map((k) => h.counts[k] ?? '–'), Object.values(h.counts).reduce((a, b) => a + b, 0)]),
    ]),
    '',
    `Requests by step and operation, ${first.label} | ${rerun.label}:`,
    '',
    mdTable(
      ['operation', ...PHASES],
      ops.map((op) => [op, ...PHASES.map((p) => `${first.byPhase[p]?.[op] ?? 0} | ${rerun.byPhase[p]?.[op] ?? 0}`)]),
    ),
  ].join('\n');
  return {
    params: { athenaProgression: ATHENA_PROGRESSION, budgets: BUDGETS },
    targets: Object.entries(BUDGETS).map(([line, budget]) => ({
      name: `per hour: ${line}`,
      target: `≤ ${budget} (asserted)`,
      measured: applies(line).map((h) => `${h.counts[line]} ${h.label.replace(/^.* \(/, '(')}`).join(', '),
      met: applies(line).every((h) => h.counts[line]! <= budget),
    })),
    metrics: { perHour, budgetRows },
    markdown,
    // Over budget fails the run (after the numbers are written), in --quick too.
    failures: over,
  };
}
