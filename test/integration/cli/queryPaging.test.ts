/**
 * `clickstream query` streams: its engine-port path (streamQuery: start, status polled with
 * backoff, resultPages) on the real engines it reads with. A big result arrives in several pages,
 * in order, the first while the rest is not computed or fetched yet; a reader that stops early
 * stops the query. DuckDB pages are its 2,048-row chunks; Trino's are its protocol steps, each at
 * most its target result size (1 MB). Athena's paging is in test/unit/aws/athenaResultPages.mock.test.ts.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { streamQuery } from '../../../cli/commands/query';
import type { Row, RowWriter } from '../../../cli/queryOutput';
import type { PollPolicy } from '../../../config/config';
import { DuckDbQueryEngine } from '../../../lake/local/duckdbEngine';
import { LakeFolderStore } from '../../../lake/local/lakeFolderStore';
import type { QueryEngine } from '../../../lake/ports';
import { TrinoQueryEngine } from '../../../lake/trino/trinoEngine';
import { runToEnd } from '../../../lake/trino/trinoProtocol';
import { testTrinoStack } from '../../support/trino/trinoStack';

const POLL: PollPolicy = { initialMs: 10, maxMs: 200, multiplier: 1.5 };

/** A writer that records page sizes, and can look at the engine whenever a page arrives. */
function recorder(onPage: (page: Row[], n: number) => void = () => {}): RowWriter & { pages: Row[][] } {
  const pages: Row[][] = [];
  return {
    pages,
    truncated: false,
    async page(rows) {
      pages.push(rows);
      onPage(rows, pages.length);
    },
    async end() {},
  };
}

/** Reads the first page of a query and stops: what a reader closing the pipe (`| head`) does. */
async function firstPageOnly(engine: QueryEngine, sql: string): Promise<{ queryId: string; rows: number }> {
  const stop = new Error('reader stopped');
  let first = 0;
  const writer = recorder((rows) => {
    first = rows.length;
    throw stop;
  });
  let queryId = '';
  const started = engine.start.bind(engine);
  engine.start = async (r) => (queryId = await started(r));
  await assert.rejects(streamQuery(engine, sql, POLL, writer), (err) => err === stop);
  return { queryId, rows: first };
}

describe('clickstream query pages results through the engine port', function () {
  this.timeout(240_000);

  describe('DuckDB (a streamed result, chunk by chunk)', () => {
    let dir: string;
    let engine: DuckDbQueryEngine;
    before(async () => {
      dir = await fs.mkdtemp(path.join(os.tmpdir(), 'clickstream-paging-'));
      engine = await DuckDbQueryEngine.create({ threads: 2, store: new LakeFolderStore(dir) });
    });
    after(async () => {
      await engine.close();
      await fs.rm(dir, { recursive: true, force: true });
    });

    it('10,000 rows arrive as five pages of at most 2,048 rows, in order', async () => {
      const writer = recorder();
      const summary = await streamQuery(engine, 'SELECT range AS n FROM range(10000) ORDER BY n', POLL, writer);
      assert.deepEqual(writer.pages.map((p) => p.length), [2048, 2048, 2048, 2048, 1808]);
      assert.deepEqual(summary.rows, 10_000);
      assert.deepEqual(writer.pages.flat().map((r) => Number(r.n)), Array.from({ length: 10_000 }, (_, i) => i));
    });

    it('a billion-row result gives its first page at once and stops when the reader does (held whole it could not finish)', async () => {
      const t0 = Date.now();
      const { queryId, rows } = await firstPageOnly(engine, 'SELECT range AS n, range * 2 AS m FROM range(1000000000)');
      assert.equal(rows, 2048);
      assert.ok(Date.now() - t0 < 30_000, `first page after ${Date.now() - t0} ms`);
      // The stream was released with its connection: its pages cannot be read a second time.
      const again: unknown[] = [];
      for await (const p of engine.resultPages(queryId)) again.push(p);
      assert.deepEqual(again, []);
    });
  });

  describe('Trino (one protocol step per page, fetched only when the reader asks)', () => {
    let server: string;
    let catalog: string;
    const engine = () => new TrinoQueryEngine({ server, user: 'paging-test', catalog, schema: 'default' });
    before(async () => {
      const { trino } = await testTrinoStack();
      server = trino.url;
      catalog = trino.catalog;
    });

    it('a 20,000-row result (about 4 MB of JSON) arrives in several pages, in order, the first while the query still runs', async () => {
      const e = engine();
      let inFlightAtFirstPage: boolean | undefined;
      let queryId = '';
      const start = e.start.bind(e);
      e.start = async (r) => (queryId = await start(r));
      const writer = recorder((_, n) => {
        // A next URI left means Trino still has rows this process has not fetched.
        if (n === 1) inFlightAtFirstPage = e.handoff(queryId) !== undefined;
      });
      const sql = `SELECT a * 1000 + b AS n, rpad('', 200, 'x') AS pad FROM UNNEST(sequence(0, 19)) AS s(a) CROSS JOIN UNNEST(sequence(0, 999)) AS t(b) ORDER BY n`;
      const summary = await streamQuery(e, sql, POLL, writer);
      assert.equal(summary.rows, 20_000);
      assert.ok(writer.pages.length > 1, `pages: ${writer.pages.map((p) => p.length).join(', ')}`);
      assert.ok(Math.max(...writer.pages.map((p) => p.length)) < 20_000);
      assert.equal(inFlightAtFirstPage, true, 'the first page was printed before the last one was fetched');
      assert.deepEqual(writer.pages.flat().map((r) => r.n), Array.from({ length: 20_000 }, (_, i) => i));
      assert.equal(e.handoff(queryId), undefined, 'nothing left to fetch, nothing held');
    });

    it('a reader that stops after the first page of a 100-million-row result cancels the query on Trino', async () => {
      const e = engine();
      const { queryId, rows } = await firstPageOnly(e, 'SELECT a * 10000 + b AS n FROM UNNEST(sequence(0, 9999)) AS s(a) CROSS JOIN UNNEST(sequence(0, 9999)) AS t(b)');
      assert.ok(rows > 0 && rows < 100_000_000);
      let state: unknown[] = [];
      for (let i = 0; i < 50; i++) {
        [state = []] = (await runToEnd({ server, user: 'paging-test', catalog, schema: 'default' }, `SELECT state, error_code FROM system.runtime.queries WHERE query_id = '${queryId}'`)).rows;
        if (state[0] === 'FAILED') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.deepEqual(state, ['FAILED', 'USER_CANCELED']);
    });
  });
});
