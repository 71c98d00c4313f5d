import assert from 'node:assert/strict';
import * as path from 'node:path';
import { loadConfig } from '../../../config/config';
import { SEARCH_ATTRIBUTES } from '../../../core/searchAttributes';
import { USER_SQLITE_PRAGMAS, userDevServerOptions } from '../../../devserver/userDevServerOptions';

describe('userDevServerOptions: the dev server npm start starts (and bench B2 measures)', () => {
  it('keeps its state beside the lake, on the configured ports, with the chosen pragmas', () => {
    const config = loadConfig({ CLICKSTREAM_LAKE_DIR: '/data/lake', TEMPORAL_ADDRESS: '127.0.0.1:7345', CLICKSTREAM_TEMPORAL_UI_PORT: '8299' });
    const log = () => undefined;
    const o = userDevServerOptions(config, log);
    assert.equal(o.port, 7345);
    assert.equal(o.uiPort, 8299);
    assert.equal(o.dbFile, path.join(config.lake.dir, '_temporal', 'temporal.db'));
    assert.equal(o.logFile, path.join(config.lake.dir, '_temporal', 'server.log'));
    assert.deepEqual(o.sqlitePragmas, USER_SQLITE_PRAGMAS);
    assert.equal(o.namespace, config.temporal.namespace);
    assert.deepEqual(o.searchAttributes, SEARCH_ATTRIBUTES);
    assert.equal(o.log, log);
  });
});
