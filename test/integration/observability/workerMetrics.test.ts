import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { startBackfill } from '../../../client/backfillStarter';
import { startHour } from '../../../client/hourlyStarter';
import { hourStartMs, parseHour, partitionValues } from '../../../core/hours';
import { freePort } from '../../../devserver/freePort';
import type { HourReport } from '../../../core/contracts/hourly';
import { deferred, withCatalogHook } from '../../support/backendHooks';
import { withWorker } from '../../support/pipelineWorker';
import { RULES_FILE, startTestPrometheus, type TestPrometheus } from '../../support/prometheus';
import { testTemporal } from '../../support/temporalServer';
import { makeRawHour, makeTestLake, type TestLake } from '../../support/testLake';
import { waitFor } from '../../support/waitFor';

const DASHBOARD_FILE = path.resolve(__dirname, '..', '..', '..', 'ops', 'grafana', 'dashboards', 'clickstream.json');

/**
 * A real Prometheus scrapes a real worker's /metrics while the real workflow runs one good hour
 * (DuckDB, lake folder) and one hour whose raw data never arrives; the values are read back
 * through Prometheus's HTTP API and compared with the hour's own report and the generator's counts.
 */
describe('worker /metrics scraped by a real Prometheus (Debian 2.42), with the shipped alert rules', () => {
  let lake: TestLake;
  let prom: TestPrometheus | undefined;
  afterEach(async () => {
    await prom?.stop();
    prom = undefined;
    await lake?.cleanup();
  });

  it('counts the published and the failed hour, the rows, bytes and queries, reports freshness, and fires ClickstreamHourFailed', async () => {
    const { client } = await testTemporal();
    const port = await freePort();
    lake = await makeTestLake({ CLICKSTREAM_METRICS_PORT: String(port) });
    const table = lake.config.tables.curated;
    const raw = await makeRawHour(lake, { hour: '2024-03-01T07', rows: 200, malformed: 8, duplicates: 6, files: 2 });
    prom = await startTestPrometheus({ targets: [`127.0.0.1:${port}`], ruleFiles: [RULES_FILE] });
    const p = prom;
    const value = async (promql: string): Promise<number | undefined> => {
      const r = await p.query(promql);
      return r.length === 1 ? Number(r[0]!.value[1]) : undefined;
    };
    // Waits until Prometheus has scraped `promql` at the expected value (scrapes are every second).
    const scraped = (promql: string, expected: number) => waitFor(() => value(promql), (v) => v === expected, `${promql} == ${expected}`);

    await withWorker(lake, async () => {
      // Before any hour: the counters exist at 0, and there is no freshness yet (nothing is published).
      assert.equal(await scraped(`clickstream_hours_published_total{table="${table}"}`, 0), 0);
      assert.deepEqual(await p.query('clickstream_freshness_seconds'), []);

      const report: HourReport = await (await startHour(client, lake.config, '2024-03-01T07')).result();
      const failing = { ...lake.config, rawWait: { timeoutSeconds: 0, recheckSeconds: 1 } };
      const failure = await (await startHour(client, failing, '2024-03-01T09')).result().then(
        () => assert.fail('an hour without raw data must fail'),
        (err: unknown) => err,
      );
      assert.ok(failure instanceof WorkflowFailedError);
      assert.equal((failure.cause as { type?: string }).type, 'RawPartitionMissing');
      assert.deepEqual(report.counts, raw.expected);

      const sel = `{table="${table}"}`;
      await scraped(`clickstream_hours_failed_total{table="${table}",error_type="RawPartitionMissing"}`, 1);
      assert.equal(await value(`clickstream_hours_published_total${sel}`), 1);
      assert.equal(await value(`sum(clickstream_hours_failed_total${sel})`), 1, 'only the one failure, under its type');
      assert.equal(await value(`clickstream_rows_curated_total${sel}`), raw.expected.curatedRows);
      assert.equal(await value(`clickstream_rows_rejected_total${sel}`), raw.expected.rejected);
      assert.equal(await value(`clickstream_rows_duplicate_total${sel}`), raw.expected.duplicates);
      assert.equal(await value(`clickstream_raw_bytes_read_total${sel}`), report.raw.bytes);
      assert.equal(await value(`clickstream_engine_bytes_scanned_total${sel}`), report.bytesRead.curation + report.bytesRead.validation);
      assert.equal(await value(`clickstream_engine_status_calls_total${sel}`), report.queries.curate.statusCalls + report.queries.validate.statusCalls);
      assert.equal(await value(`clickstream_engine_query_seconds_count${sel}`), 2, 'curation and validation');
      const seconds = await value(`clickstream_engine_query_seconds_sum${sel}`);
      assert.ok(Math.abs(seconds! - (report.queries.curate.engineMs + report.queries.validate.engineMs) / 1000) < 1e-9, `engine seconds ${seconds}`);
      assert.equal(await value(`clickstream_publish_swaps_total${sel}`), 1, 'the first publish of the hour creates its partition');

      // Freshness: the sample's own time (the scrape's start) minus the end of the newest published hour (07:00-08:00).
      const endSeconds = hourStartMs(parseHour('2024-03-01T08')) / 1000;
      const freshness = `clickstream_freshness_seconds${sel}`;
      const [sample] = await waitFor(() => p.query(`${freshness} - (timestamp(${freshness}) - ${endSeconds})`), (r) => r.length === 1, 'freshness gauge');
      const lag = Number(sample!.value[1]);
      // The gauge is computed during the scrape, after its start and within its 1 s timeout.
      assert.ok(lag >= 0 && lag < 1, `freshness minus (scrape time - end of 2024-03-01T07) = ${lag} s`);
      assert.ok((await value(freshness))! > 2 * 365 * 24 * 3600, 'an hour of 2024 is years old');

      // The shipped rule for a failed hour fires (rules are evaluated every second here; it has no `for`).
      const alerts = await waitFor(
        () => p.alerts(),
        (a) => a.some((x) => x.labels.alertname === 'ClickstreamHourFailed' && x.state === 'firing'),
        'ClickstreamHourFailed to fire',
      );
      const hourFailed = alerts.filter((a) => a.labels.alertname === 'ClickstreamHourFailed');
      assert.deepEqual(
        hourFailed.map((a) => ({ ...a.labels, state: a.state, value: Number(a.value) })),
        [{ alertname: 'ClickstreamHourFailed', table, error_type: 'RawPartitionMissing', severity: 'page', state: 'firing', value: 1 }],
      );
      // 2024's hour is years old, so the freshness rule holds too; its 5-minute `for` keeps it pending in this test.
      const late = await waitFor(() => p.alerts(), (a) => a.some((x) => x.labels.alertname === 'ClickstreamFreshnessLate'), 'ClickstreamFreshnessLate');
      assert.deepEqual(
        late.filter((a) => a.labels.alertname === 'ClickstreamFreshnessLate').map((a) => ({ table: a.labels.table, state: a.state })),
        [{ table, state: 'pending' }],
      );
      assert.ok(!alerts.some((a) => a.labels.alertname === 'ClickstreamRejectRatioHigh'), `4% rejected is under the 5% threshold`);

      // Every query of the shipped Grafana dashboard runs on this Prometheus ($table: all tables).
      const dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as { panels: { title: string; targets?: { expr: string }[] }[] };
      const answers: Record<string, number> = {};
      for (const panel of dashboard.panels) {
        for (const t of panel.targets ?? []) {
          const result = await p.query(t.expr.replaceAll('$table', '.*')).catch((err: Error) => assert.fail(`panel '${panel.title}': ${err.message}`));
          answers[panel.title] = (answers[panel.title] ?? 0) + result.length;
        }
      }
      assert.equal(answers.Freshness, 1);
      assert.equal(answers['Hours failed (24 h)'], 1);
    });
  });
  it('reports a held backfill as running with no hour finished (ClickstreamBackfillStalled pending), and its hours once they finish', async () => {
    const { client } = await testTemporal();
    const port = await freePort();
    lake = await makeTestLake({ CLICKSTREAM_METRICS_PORT: String(port), CLICKSTREAM_CURATED_TABLE: 'metrics_backfill_curated' });
    const table = lake.config.tables.curated;
    for (const hour of ['2024-04-01T00', '2024-04-01T01']) await makeRawHour(lake, { hour, rows: 5 });
    prom = await startTestPrometheus({ targets: [`127.0.0.1:${port}`], ruleFiles: [RULES_FILE] });
    const p = prom;
    const one = async (promql: string) => {
      const r = await p.query(promql);
      return r.length === 1 ? Number(r[0]!.value[1]) : undefined;
    };
    const gate = deferred();
    const reached = deferred();
    const held = Object.values(partitionValues(parseHour('2024-04-01T00'))).join();
    const backend = withCatalogHook(lake.backend, async (t, part) => {
      if (t === table && part.values.join() === held) {
        reached.resolve();
        await gate.promise;
      }
    });
    await withWorker(
      lake,
      async () => {
        const backfill = await startBackfill(client, lake.config, { from: '2024-04-01T00', to: '2024-04-01T01', concurrency: 1 });
        await reached.promise;
        // The gauge is read from Temporal at scrape time (at most once a minute), so the first scrape after the start counts it.
        await waitFor(() => one(`clickstream_backfills_running{table="${table}"}`), (v) => v === 1, 'one running backfill');
        assert.equal(await one(`clickstream_backfill_hours_finished_total{table="${table}"}`), 0);
        const stalled = await waitFor(() => p.alerts(), (a) => a.some((x) => x.labels.alertname === 'ClickstreamBackfillStalled'), 'the stalled rule to hold');
        assert.deepEqual(
          stalled.filter((a) => a.labels.alertname === 'ClickstreamBackfillStalled').map((a) => ({ table: a.labels.table, state: a.state })),
          [{ table, state: 'pending' }],
          'its 15-minute `for` keeps it pending here',
        );

        gate.resolve();
        await backfill.result();
        await waitFor(() => one(`clickstream_backfill_hours_finished_total{table="${table}"}`), (v) => v === 2, 'both backfill hours counted');
        await waitFor(() => p.alerts(), (a) => !a.some((x) => x.labels.alertname === 'ClickstreamBackfillStalled'), 'the stalled rule to clear once hours finish');
        assert.equal(await one(`clickstream_hours_published_total{table="${table}"}`), 2);
      },
      backend,
    );
  });
});
