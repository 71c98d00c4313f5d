import assert from 'node:assert/strict';
import { startHour } from '../../client/hourlyStarter';
import { queryLakeTables } from '../../lake/local/lakeTables';
import { withWorker } from '../support/pipelineWorker';
import { testTemporal } from '../support/temporalServer';
import { makeRawHour, makeTestLake, type TestLake } from '../support/testLake';

const BY_USER = 'SELECT user_id, COUNT(*) AS events FROM {t} GROUP BY user_id ORDER BY events DESC';
const BY_DAY = 'SELECT year, month, day, COUNT(*) AS events FROM {t} GROUP BY year, month, day ORDER BY year, month, day';

type Row = Record<string, unknown>;
const keyed = (rows: Row[], key: (r: Row) => string) => new Map(rows.map((r) => [key(r), Number(r.events)]));

describe("the seed README's two queries give the same answers on raw and curated", () => {
  let lake: TestLake;
  before(async () => {
    lake = await makeTestLake();
  });
  after(async () => {
    await lake.cleanup();
  });

  it('per user and per day, raw = curated + rejected + duplicates (which stay listable with their reason)', async () => {
    const { client } = await testTemporal();
    const hours = ['2024-03-01T22', '2024-03-01T23', '2024-03-02T00'];
    let seed = 1;
    for (const hour of hours) await makeRawHour(lake, { hour, rows: 120, malformed: 7, duplicates: 5, seed: seed++ });
    await withWorker(lake, () => Promise.all(hours.map(async (h) => (await startHour(client, lake.config, h)).result())));

    const t = lake.config.tables;
    const [rawByUser, curByUser, rejByUser, rawByDay, curByDay, rejByDay, reasons] = await queryLakeTables(lake.backend, lake.config, [
      BY_USER.replace('{t}', t.raw),
      BY_USER.replace('{t}', t.curated),
      BY_USER.replace('{t}', `${t.raw}_rejected`),
      BY_DAY.replace('{t}', t.raw),
      BY_DAY.replace('{t}', t.curated),
      BY_DAY.replace('{t}', `${t.raw}_rejected`),
      `SELECT outcome, count(*) AS n FROM ${t.raw}_rejected GROUP BY outcome ORDER BY outcome`,
    ]);

    const userKey = (r: Row) => String(r.user_id ?? '<null>');
    const [rawU, curU, rejU] = [keyed(rawByUser!, userKey), keyed(curByUser!, userKey), keyed(rejByUser!, userKey)];
    assert.ok(curU.size >= 5, 'several users curated');
    for (const [user, rawEvents] of rawU) {
      assert.equal(rawEvents, (curU.get(user) ?? 0) + (rejU.get(user) ?? 0), `user ${user}: raw = curated + rejected/duplicates`);
    }
    assert.equal(curU.has('<null>'), false, 'no curated row without user_id');

    const dayKey = (r: Row) => `${r.year}-${r.month}-${r.day}`;
    const [rawD, curD, rejD] = [keyed(rawByDay!, dayKey), keyed(curByDay!, dayKey), keyed(rejByDay!, dayKey)];
    assert.deepEqual([...curD.keys()], ['2024-03-01', '2024-03-02']);
    assert.deepEqual(Object.fromEntries(curD), { '2024-03-01': 240, '2024-03-02': 120 });
    for (const [day, rawEvents] of rawD) assert.equal(rawEvents, curD.get(day)! + rejD.get(day)!, `day ${day}`);
    assert.deepEqual(
      reasons!.map((r) => [r.outcome, Number(r.n)]),
      [
        ['duplicate', 15],
        ['rejected', 21],
      ],
    );
  });
});
