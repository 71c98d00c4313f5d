/**
 * In a real browser: headless Chromium (Debian's package, driven by playwright-core) opens the
 * dev server's Web UI, starts a backfill through the "Start Workflow" form, and the backfill
 * runs on a real worker: its hourly children publish, it is findable in the list by its search
 * attributes, and its `progress` query answers in the UI. A semantically malformed input sent from
 * the form fails the workflow at once, with the validator's message readable on its page.
 */
import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Locator, Page } from 'playwright-core';
import { formatHour, hoursBetween, parseHour } from '../../core/hours';
import { backfillWorkflowId, hourWorkflowId, WORKFLOW_TYPES } from '../../core/ids';
import type { BackfillProgress, BackfillResult } from '../../core/contracts/backfill';
import { curatedPartition } from '../support/lakeReads';
import { makeRawHour, makeTestLake, type TestLake } from '../support/testLake';
import {
  fillStartWorkflowForm,
  launchChromium,
  openStartWorkflowForm,
  startUiStack,
  submitStartWorkflowForm,
  UI_TIMEOUT_MS,
  waitUntil,
  workflowPageUrl,
  type UiBrowser,
  type UiStack,
} from './webUi';
import { sideEffectEvents } from '../support/historyEvents';

describe('Temporal Web UI in headless Chromium (real dev server, real worker)', function () {
  // A dev server, a worker, DuckDB and Chromium share two cores; waits are on selectors, never sleeps.
  this.timeout(300_000);
  let lake: TestLake;
  let ui: UiStack;
  let browser: UiBrowser;

  before(async function () {
    // Chromium first: when it is missing, fail at once with the install command, before any server starts.
    browser = await launchChromium();
    lake = await makeTestLake();
    ui = await startUiStack(lake);
  });

  after(async function () {
    await browser?.close();
    await ui?.stop();
    await lake?.cleanup();
  });

  afterEach(async function () {
    const test = this.currentTest;
    if (test?.state === 'failed' && browser) {
      const file = await browser.screenshot(`FAILED ${test.title}`).catch((err) => `(screenshot failed: ${(err as Error).message})`);
      console.error(`  screenshot of the page at failure: ${file}\n  page URL: ${browser.page.url()}`);
    }
  });

  /** Step screenshots for a person to look at, when CLICKSTREAM_BROWSER_SHOTS is set. */
  const step = async (name: string) => {
    if (process.env.CLICKSTREAM_BROWSER_SHOTS) console.error(`  screenshot: ${await browser.screenshot(name)}`);
  };

  it('the Start Workflow form starts a backfill that runs: children publish, the list finds it by search attribute, progress answers', async () => {
    const from = '2024-03-01T00';
    const to = '2024-03-01T02';
    const hours = hoursBetween(parseHour(from), parseHour(to)).map(formatHour);
    let seedNo = 1;
    for (const hour of hours) await makeRawHour(lake, { hour, rows: 6, seed: seedNo++, files: 1 });

    // The UI server the CLI embeds leaves Start Workflow on (nothing in start-dev can turn it off); say so plainly if that changes.
    const settings = (await (await fetch(`${ui.uiUrl}/api/v1/settings`)).json()) as Record<string, unknown>;
    assert.deepEqual(
      { StartWorkflowDisabled: settings.StartWorkflowDisabled, DisableWriteActions: settings.DisableWriteActions },
      { StartWorkflowDisabled: false, DisableWriteActions: false },
      `the dev server's Web UI ${String(settings.Version)} cannot start workflows`,
    );

    const { page } = browser;
    const workflowId = backfillWorkflowId(lake.config.tables.curated, parseHour(from), parseHour(to));
    const input = JSON.stringify({ from, to, concurrency: 2 });
    await openStartWorkflowForm(page, ui);
    await fillStartWorkflowForm(page, { workflowId, taskQueue: lake.config.temporal.taskQueue, workflowType: WORKFLOW_TYPES.backfill, input });
    // The form checks the task queue's pollers: our worker is there.
    await page.getByText('Task Queue is Active').waitFor();
    await step('1 form filled');
    await submitStartWorkflowForm(page);
    await step('2 started');

    // On the server: the workflow the form started, with exactly the typed input, and it completes.
    const handle = ui.client.workflow.getHandle(workflowId);
    const described = await handle.describe();
    assert.equal(described.type, WORKFLOW_TYPES.backfill);
    assert.equal(described.taskQueue, lake.config.temporal.taskQueue);
    const history = await handle.fetchHistory();
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    const payload = started?.input?.payloads?.[0];
    assert.ok(payload?.data, 'the started event carries the form input');
    assert.deepEqual(JSON.parse(Buffer.from(payload.data).toString('utf8')), { from, to, concurrency: 2 });
    assert.equal(started?.input?.payloads?.length, 1, 'one argument: the backfill input object');

    const result = (await handle.result()) as BackfillResult;
    assert.equal(result.total, 3);
    assert.equal(result.succeeded, 3);
    assert.equal(result.failed, 0);
    for (const hour of hours) {
      const p = await curatedPartition(lake, hour);
      assert.equal(p?.parameters.validated, 'true', `${hour} published and validated`);
      assert.equal(p?.parameters.curated_rows, '6', `${hour} rows`);
    }

    // In the UI: the list filtered by this project's search attributes finds the backfill, and an hour by hour and status.
    const hourId = hourWorkflowId(lake.config.tables.curated, parseHour(hours[1]!));
    await openList(page, ui, `ClickstreamKind="hour" AND ClickstreamHour="${hours[1]}" AND ClickstreamStatus="published"`);
    await reloadUntilVisible(page, page.getByRole('link', { name: hourId, exact: true }));
    await openList(page, ui, `ClickstreamKind="backfill" AND ClickstreamTable="${lake.config.tables.curated}" AND ClickstreamStatus="completed"`);
    const row = page.getByRole('link', { name: workflowId, exact: true });
    await reloadUntilVisible(page, row);
    await step('3 list by search attribute');
    await row.first().click();
    await page.getByRole('heading', { name: workflowId }).waitFor();
    await page.getByText('Completed', { exact: true }).first().waitFor();
    await step('4 workflow page');

    // The progress query, run from the UI's Queries tab (answered by the worker), shows the final counts.
    await page.getByRole('link', { name: /^Queries/ }).or(page.getByRole('tab', { name: /^Queries/ })).first().click();
    // The worker lists the workflow's query types; pick `progress` from the menu.
    await page.getByTestId('query-select-button').click();
    await page.getByRole('option', { name: 'progress', exact: true }).click();
    await waitUntil(async () => (await page.locator('#query-select').inputValue()) === 'progress', 'the query type to read "progress"');
    await page.getByRole('button', { name: 'Run Query' }).click();
    const answer = page.locator('.cm-content').filter({ hasText: '"succeeded"' }).first();
    await answer.waitFor();
    await step('5 progress query');
    const progress = JSON.parse(await answer.innerText()) as BackfillProgress;
    const { total, succeeded, failed, pending, running, concurrency } = progress;
    assert.deepEqual({ total, succeeded, failed, pending, running, concurrency }, { total: 3, succeeded: 3, failed: 0, pending: 0, running: 0, concurrency: 2 });
  });

  it('a malformed input from the form fails the backfill at once, with the readable reason on its page', async () => {
    const { page } = browser;
    await openStartWorkflowForm(page, ui);
    const form = { workflowId: `ui-malformed-backfill-${Date.now()}`, taskQueue: lake.config.temporal.taskQueue, workflowType: WORKFLOW_TYPES.backfill };
    const { workflowId } = form;
    // Not JSON at all: the form itself refuses to start.
    await fillStartWorkflowForm(page, { ...form, input: '{"from": "2024-02-30T00", "to": ' });
    await page.getByText('Input must be valid JSON').waitFor();
    await step('6 broken json');
    await assertDisabled(page.getByTestId('start-workflow-button'));

    // JSON, but an impossible day: the workflow's validator rejects it before any child starts.
    await fillStartWorkflowForm(page, { ...form, input: '{"from":"2024-02-30T00","to":"2024-03-01T00"}' });
    await submitStartWorkflowForm(page);

    const handle = ui.client.workflow.getHandle(workflowId);
    const err = await handle.result().catch((e: unknown) => e);
    assert.ok(err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure, `failed with an ApplicationFailure, got ${String(err)}`);
    assert.equal(err.cause.type, 'InvalidInput');
    assert.equal(err.cause.nonRetryable, true);
    // Fast: rejected in the first workflow task, before any activity or child was scheduled.
    const { runId, startTime, closeTime } = await handle.describe();
    const tookMs = closeTime ? closeTime.getTime() - startTime.getTime() : Infinity;
    assert.ok(tookMs < 10_000, `failed within 10 s of its start (took ${tookMs} ms)`);
    const history = await handle.fetchHistory();
    const scheduled = sideEffectEvents(history.events);
    assert.equal(scheduled.length, 0, 'no activity or child was scheduled');

    await page.goto(workflowPageUrl(ui, workflowId, runId));
    await page.getByText('Failed', { exact: true }).first().waitFor();
    await page.getByText(/day must be 01-29/).first().waitFor();
    await step('7 failed page');
    assert.match(await page.locator('body').innerText(), /from '2024-02-30T00': day must be 01-29 for 2024-02/);
  });
});

async function assertDisabled(locator: Locator): Promise<void> {
  await locator.waitFor();
  await waitUntil(() => locator.isDisabled(), 'the Start Workflow button to be disabled');
}

/** The Web UI's workflow list filtered by a visibility query (the URL its filter bar builds). */
async function openList(page: Page, ui: UiStack, query: string): Promise<void> {
  await page.goto(`${ui.uiUrl}/namespaces/${encodeURIComponent(ui.namespace)}/workflows?query=${encodeURIComponent(query)}`);
}

/** Visibility is eventually consistent: reload the list until the row shows. */
async function reloadUntilVisible(page: Page, locator: Locator): Promise<void> {
  const deadline = Date.now() + UI_TIMEOUT_MS;
  for (;;) {
    try {
      await locator.first().waitFor({ timeout: 5_000 });
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await page.reload();
    }
  }
}
