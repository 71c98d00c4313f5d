import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { temporal } from '@temporalio/proto';
import { startBackfill } from '../../client/backfillStarter';
import { backfillWorkflowId, hourWorkflowId } from '../../core/ids';
import { parseHour } from '../../core/hours';
import { runCli } from '../support/runCli';
import { testTemporal } from '../support/temporalServer';
import { makeRawHour, makeTestLake, type TestLake } from '../support/testLake';
import { configEnv, startFaultWorker, type FaultWorker } from './support/faultWorkerProcess';

/**
 * Secrets in the environment never leave it: with sentinel values in the usual credential
 * variables, the production worker and CLI run good and failing hours and a backfill, and the
 * sentinels are then searched for (as raw bytes and base64) in every log line, CLI output,
 * workflow history (inputs, results, failures, memos, search attributes), describe() answer and
 * file the pipeline wrote.
 */
const SECRET_VARS = ['AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'TEMPORAL_API_KEY', 'TEMPORAL_TLS_CLIENT_KEY_DATA'] as const;

describe('fault: secrets in the environment never reach logs, histories, memos, search attributes or the lake', () => {
  let lake: TestLake;
  let worker: FaultWorker | undefined;
  const saved: Record<string, string | undefined> = {};
  afterEach(async () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await worker?.kill9();
    await lake.cleanup();
  });

  it('sentinel values are found nowhere, while the searches do see the pipeline data', async function () {
    this.timeout(4 * 60_000);
    const { client, server } = await testTemporal();
    lake = await makeTestLake({ CLICKSTREAM_RAW_WAIT_SECONDS: '0' });
    const sentinels = Object.fromEntries(SECRET_VARS.map((name) => [name, `sentinel${name.toLowerCase().replace(/_/g, '')}${randomBytes(12).toString('hex')}`]));
    // The test process too: starters and config parsing here must not pick them up either.
    for (const [k, v] of Object.entries(sentinels)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }

    const [good, missing, backfillGood, backfillMissing] = ['2024-04-08T01', '2024-04-08T02', '2024-04-08T03', '2024-04-08T04'];
    await makeRawHour(lake, { hour: good!, rows: 20, malformed: 2, duplicates: 1 });
    await makeRawHour(lake, { hour: backfillGood!, rows: 10, malformed: 1 });

    worker = startFaultWorker({ config: lake.config, address: server.address, entry: 'cli', env: sentinels });
    await worker.ready;
    const cliEnv = { ...configEnv(lake.config), TEMPORAL_ADDRESS: server.address, CLICKSTREAM_RAW_WAIT_SECONDS: '0', ...sentinels };
    const ran = await runCli(['run-hour', good!, '--json'], cliEnv);
    assert.equal(ran.code, 0, ran.stderr);
    const failed = await runCli(['run-hour', missing!], cliEnv);
    assert.notEqual(failed.code, 0);
    assert.match(failed.stderr + failed.stdout, /RawPartitionMissing|no \.jsonl objects/);
    const badConfig = await runCli(['run-hour', good!], { ...cliEnv, CLICKSTREAM_DUCKDB_THREADS: 'many' });
    assert.equal(badConfig.code, 2);
    const backfill = await (await startBackfill(client, lake.config, { from: backfillGood!, to: backfillMissing! })).result();
    assert.equal(backfill.succeeded, 1);
    assert.equal(backfill.failed, 1);
    await worker.stop();

    // Everything the pipeline and its operators can see.
    const sources: Array<[string, Buffer]> = [
      ['worker log', Buffer.from(worker.output())],
      ...[ran, failed, badConfig].flatMap((r, i): Array<[string, Buffer]> => [
        [`cli run ${i} stdout`, Buffer.from(r.stdout)],
        [`cli run ${i} stderr`, Buffer.from(r.stderr)],
      ]),
    ];
    // (The backfill's hour without raw data is failed by its planner, without a workflow of its own.)
    const ids = new Set([good, missing, backfillGood].map((h) => hourWorkflowId(lake.config.tables.curated, parseHour(h!))));
    ids.add(backfillWorkflowId(lake.config.tables.curated, parseHour(backfillGood!), parseHour(backfillMissing!)));
    for await (const w of client.workflow.list({ query: `TaskQueue = '${lake.config.temporal.taskQueue}'` })) ids.add(w.workflowId);
    for (const id of ids) {
      const handle = client.workflow.getHandle(id);
      sources.push([`history of ${id}`, Buffer.from(temporal.api.history.v1.History.encode(await handle.fetchHistory()).finish())]);
      const d = await handle.describe();
      sources.push([`describe of ${id}`, Buffer.from(temporal.api.workflowservice.v1.DescribeWorkflowExecutionResponse.encode(d.raw).finish())]);
      sources.push([`memo and search attributes of ${id}`, Buffer.from(JSON.stringify({ memo: d.memo, sa: d.typedSearchAttributes }))]);
    }
    for (const file of await filesUnder(lake.dir)) sources.push([file, await fs.readFile(file)]);

    assert.ok(ids.size >= 4, `histories searched: ${[...ids].join(', ')}`);
    const histories = sources.filter(([name]) => name.startsWith('history of'));
    assert.ok(histories.every(([, bytes]) => bytes.includes(Buffer.from('2024-04-08T0'))), 'positive control: payloads are searched in clear text');
    assert.ok(sources.some(([name, bytes]) => name.endsWith('partition.json') && bytes.includes(Buffer.from('"validated"'))), 'positive control: the catalog was searched');

    const leaks: string[] = [];
    for (const [name, value] of Object.entries(sentinels)) {
      for (const needle of [value, Buffer.from(value).toString('base64').slice(0, 24)]) {
        for (const [where, bytes] of sources) if (bytes.includes(Buffer.from(needle))) leaks.push(`${name} in ${where}`);
      }
    }
    assert.deepEqual(leaks, [], 'no secret value appears anywhere');
  });
});

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}
