import assert from 'node:assert/strict';
import { startHour } from '../../../client/hourlyStarter';
import { freePort } from '../../../devserver/freePort';
import { startFaultWorker, type FaultWorker } from '../../faults/support/faultWorkerProcess';
import { startTestPrometheus, type TestPrometheus } from '../../support/prometheus';
import { testTemporal } from '../../support/temporalServer';
import { makeRawHour, makeTestLake, type TestLake } from '../../support/testLake';
import { waitFor } from '../../support/waitFor';

/**
 * The production entry point, `clickstream worker`, as its own process with both metric ports
 * set: a real Prometheus scrapes the pipeline's /metrics and the Temporal SDK's exporter (its
 * Runtime installed by workers/installRuntime.ts), and the worker still stops cleanly on SIGTERM.
 */
describe('clickstream worker process: pipeline and Temporal SDK metrics scraped by a real Prometheus', () => {
  let lake: TestLake | undefined;
  let prom: TestPrometheus | undefined;
  let worker: FaultWorker | undefined;
  afterEach(async () => {
    await worker?.stop();
    await prom?.stop();
    await lake?.cleanup();
  });

  it('serves both endpoints, counts the hour it ran, reports the SDK task queue metrics, and exits 0 on SIGTERM', async () => {
    const t = await testTemporal();
    const [pipelinePort, sdkPort] = [await freePort(), await freePort()];
    lake = await makeTestLake();
    const table = lake.config.tables.curated;
    const queue = lake.config.temporal.taskQueue;
    const raw = await makeRawHour(lake, { hour: '2024-03-02T05', rows: 40, malformed: 2 });
    worker = startFaultWorker({
      config: lake.config,
      address: t.server.address,
      entry: 'cli',
      env: { CLICKSTREAM_METRICS_PORT: String(pipelinePort), CLICKSTREAM_SDK_METRICS_PORT: String(sdkPort) },
    });
    await worker.ready;
    assert.match(worker.output(), new RegExp(`metrics on :${pipelinePort}/metrics, SDK metrics on :${sdkPort}/metrics`));
    prom = await startTestPrometheus({ targets: [`127.0.0.1:${pipelinePort}`, `127.0.0.1:${sdkPort}`] });
    const p = prom;

    const report = await (await startHour(t.client, lake.config, '2024-03-02T05')).result();
    assert.deepEqual(report.counts, raw.expected);

    const one = async (promql: string) => {
      const r = await p.query(promql);
      return r.length === 1 ? Number(r[0]!.value[1]) : undefined;
    };
    await waitFor(() => one(`clickstream_hours_published_total{table="${table}"}`), (v) => v === 1, 'the published hour, scraped from the worker process');
    assert.equal(await one(`clickstream_rows_rejected_total{table="${table}"}`), 2);
    const up = await waitFor(() => p.query('up'), (r) => r.length === 2 && r.every((s) => s.value[1] === '1'), 'both targets up');
    assert.deepEqual(up.map((s) => s.metric.instance).sort(), [`127.0.0.1:${pipelinePort}`, `127.0.0.1:${sdkPort}`].sort());
    // The SDK's own series, from the other port: the worker's workflow and activity slots on its task queue.
    const slots = await waitFor(
      () => p.query(`temporal_worker_task_slots_available{task_queue="${queue}", instance="127.0.0.1:${sdkPort}"}`),
      (r) => r.length > 0,
      'the SDK slot gauge for the main task queue',
    );
    assert.ok(slots.every((s) => Number(s.value[1]) > 0));
    const completed = await waitFor(
      () => one(`sum(temporal_workflow_completed_total{task_queue="${queue}"})`),
      (v) => v !== undefined && v >= 1,
      'the SDK counting the completed hourly workflow',
    );
    assert.equal(completed, 1);

    await worker.stop();
    assert.deepEqual(await worker.exited, { code: 0, signal: null }, worker.output());
  });
});
