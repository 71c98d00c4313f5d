/**
 * The pieces a browser test needs: a dev server of its own with the Web UI and this project's
 * search attributes (the shared test server is headless), a real pipeline worker polling the
 * lake's task queue on it, and headless Chromium from Debian's package driven by playwright-core.
 * Nothing is mocked. A missing Chromium fails the test with the command that installs it.
 */
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { temporalHourRunHistory } from '../../client/hourRunHistory';
import { SEARCH_ATTRIBUTES } from '../../core/searchAttributes';
import { startDevServer, type DevServer } from '../../devserver/devServer';
import { createPipelineWorker } from '../../workers/createPipelineWorker';
import { workflowBundle } from '../support/pipelineWorker';
import type { TestLake } from '../support/testLake';

/** Debian's chromium package; CLICKSTREAM_CHROMIUM points elsewhere (same variable as scripts/setup-chromium.sh). */
export const CHROMIUM_PATH = process.env.CLICKSTREAM_CHROMIUM || '/usr/bin/chromium';

/** Generous: the 2-core CI machine runs a dev server, a worker, DuckDB and Chromium at once. */
export const UI_TIMEOUT_MS = 60_000;

const CHROMIUM_ARGS = [
  '--no-sandbox', // CI runs as root, where Chromium's sandbox refuses to start
  '--disable-gpu',
  '--disable-background-networking', // no network but loopback here: no update/safe-browsing calls
  '--disable-component-update',
  '--no-first-run',
  '--disable-quic',
  '--disable-sync',
];

export interface UiBrowser {
  context: BrowserContext;
  page: Page;
  /** Saves a full-page PNG into a temp dir made on first use (kept, for a person to look at); returns its path. */
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

/** Launches headless Chromium (a fresh profile in a temp dir) and opens one page. */
export async function launchChromium(): Promise<UiBrowser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}. Run 'bash scripts/setup-chromium.sh' (as root: installs Debian's chromium package), ` +
        `or set CLICKSTREAM_CHROMIUM to a Chromium binary. Playwright's own browser download is not used.`,
    );
  }
  const profileDir = await fs.mkdtemp(path.join(os.tmpdir(), 'clickstream-chromium-profile-'));
  let browser: Browser | undefined;
  let context: BrowserContext;
  try {
    // launchPersistentContext: the fresh --user-data-dir is ours to choose and to delete.
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1400, height: 1000 },
      timeout: UI_TIMEOUT_MS,
    });
    browser = context.browser() ?? undefined;
  } catch (err) {
    await fs.rm(profileDir, { recursive: true, force: true });
    throw new Error(`Chromium at ${CHROMIUM_PATH} did not start: ${(err as Error).message}`);
  }
  context.setDefaultTimeout(UI_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(UI_TIMEOUT_MS);
  const page = context.pages()[0] ?? (await context.newPage());
  let shotsDir: string | undefined;
  return {
    context,
    page,
    async screenshot(name) {
      shotsDir ??= await fs.mkdtemp(path.join(os.tmpdir(), 'clickstream-browser-shots-'));
      const file = path.join(shotsDir, `${name.replace(/[^A-Za-z0-9._-]+/g, '_')}.png`);
      await page.screenshot({ path: file, fullPage: true, timeout: 15_000 });
      return file;
    },
    async close() {
      await context.close().catch(() => undefined);
      await browser?.close().catch(() => undefined);
      await fs.rm(profileDir, { recursive: true, force: true });
    },
  };
}

export interface UiStack {
  server: DevServer;
  uiUrl: string;
  namespace: string;
  client: Client;
  /** Stops the worker, closes connections, stops the server. */
  stop(): Promise<void>;
}

/**
 * A dev server with the Web UI (exactly what startDevServer gives `npm start`: --ui-port and the
 * search attributes) plus a pipeline worker on the lake's task queue, running until stop().
 */
export async function startUiStack(lake: TestLake): Promise<UiStack> {
  const logFile = path.join(lake.dir, 'temporal-dev-server.log');
  const server = await startDevServer({ uiPort: 'free', searchAttributes: SEARCH_ATTRIBUTES, logFile });
  const cleanups: (() => Promise<unknown>)[] = [() => server.stop()];
  const stop = async () => {
    for (const c of cleanups.reverse()) await c().catch((err) => console.error('browser test cleanup:', err));
  };
  try {
    const connection = await Connection.connect({ address: server.address });
    cleanups.push(() => connection.close());
    const nativeConnection = await NativeConnection.connect({ address: server.address });
    cleanups.push(() => nativeConnection.close());
    const client = new Client({ connection, namespace: lake.config.temporal.namespace });
    const worker = await createPipelineWorker({
      config: lake.config,
      backend: lake.backend,
      connection: nativeConnection,
      runs: temporalHourRunHistory(client),
      workflowBundle: await workflowBundle(),
      workerOptions: { shutdownGraceTime: '2 seconds' },
    });
    // Each worker is run and awaited on its own: if one fails, all are shut down, and stop() waits
    // for every one of them, so none is left polling a stopped server (which would keep mocha alive).
    const runs = worker.workers.map((w) =>
      w.run().catch((err) => {
        console.error('browser test: a pipeline worker failed; shutting all down:', err);
        worker.shutdown();
      }),
    );
    cleanups.push(async () => {
      worker.shutdown();
      const stopped = await Promise.race([Promise.allSettled(runs).then(() => true), delay(30_000).then(() => false)]);
      if (!stopped) console.error('browser test: pipeline workers still running 30 s after shutdown');
    });
    return { server, uiUrl: server.uiUrl!, namespace: lake.config.temporal.namespace, client, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

export interface StartWorkflowForm {
  workflowId: string;
  taskQueue: string;
  workflowType: string;
  /** Typed into the form's Data editor as is. */
  input: string;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * The start page's heading: "Start Workflow" since UI 2.54 (CLI 1.9.1); UI 2.42 (CLI 1.5.1) said
 * "Start a Workflow". Exact, so it never matches the page's "Start Workflow" button or link text.
 */
const startFormHeading = (page: Page) => page.getByRole('heading', { name: 'Start Workflow', exact: true });

/** The Web UI's "Start Workflow" page, reached the way an operator reaches it: the list's button. */
export async function openStartWorkflowForm(page: Page, ui: UiStack): Promise<void> {
  await page.goto(`${ui.uiUrl}/namespaces/${encodeURIComponent(ui.namespace)}/workflows`);
  await page.getByRole('button', { name: 'Start Workflow' }).or(page.getByRole('link', { name: 'Start Workflow' })).first().click();
  await startFormHeading(page).waitFor();
}

/** Fills the form's fields; the Data field is a code editor, so the JSON is inserted as text (no auto-closed brackets). */
export async function fillStartWorkflowForm(page: Page, form: StartWorkflowForm): Promise<void> {
  await page.locator('#workflowId').fill(form.workflowId);
  await page.locator('#taskQueue').fill(form.taskQueue);
  await page.locator('#taskQueue').blur(); // the UI looks up the queue's pollers on blur
  await page.locator('#workflowType').fill(form.workflowType);
  await page.locator('#workflowType').blur();
  const editor = page.locator('.cm-content').first();
  await editor.click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(form.input);
  // Leave the editor the way a person does, by clicking elsewhere: on blur the UI pretty-prints the
  // JSON, which grows the editor and moves the Start button; a click aimed at the button while the
  // editor still has focus would land where the button was.
  await startFormHeading(page).click();
}

/**
 * Clicks "Start Workflow" and waits for the UI's verdict: its success toast, or its error alert,
 * whose text (the server's refusal, e.g. an ID already running) becomes the thrown error.
 */
export async function submitStartWorkflowForm(page: Page): Promise<void> {
  const button = page.getByTestId('start-workflow-button');
  await button.waitFor();
  await waitUntil(() => button.isEnabled(), 'the Start Workflow button to be enabled');
  await button.click();
  const success = page.getByText('Workflow started successfully').first();
  const failure = page.getByText('Error starting Workflow').first();
  await success.or(failure).first().waitFor();
  if (await failure.isVisible()) {
    const alert = await page.getByRole('alert').allInnerTexts().catch(() => []);
    throw new Error(`the Web UI refused to start the workflow: ${alert.join(' | ') || '(no alert text)'}`);
  }
}

/** Polls `check` until it holds; for UI states that have no selector to wait on. */
export async function waitUntil(check: () => Promise<boolean>, what: string, timeoutMs = UI_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(100);
  }
}

/** The workflow's page in the UI (event history of the given run). */
export function workflowPageUrl(ui: UiStack, workflowId: string, runId: string): string {
  return `${ui.uiUrl}/namespaces/${encodeURIComponent(ui.namespace)}/workflows/${encodeURIComponent(workflowId)}/${encodeURIComponent(runId)}/history`;
}
