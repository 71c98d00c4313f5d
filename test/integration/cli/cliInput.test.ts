import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../support/runCli';

/** The real CLI process: bad input exits 2 with a message naming the flag and the form, before any side effect. */
describe('clickstream CLI rejects bad input clearly, before any side effect', () => {
  let dir: string;
  let lakeDir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'clickstream-cli-'));
    lakeDir = path.join(dir, 'lake');
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  const cases: Array<[string, string[], RegExp]> = [
    ['impossible day', ['run-hour', '2024-02-30T00'], /hour '2024-02-30T00': day must be 01-29 for 2024-02/],
    ['impossible month', ['run-hour', '2024-13-01T00'], /month must be 01-12/],
    ['hour 24', ['run-hour', '2024-01-01T24'], /hour must be 00-23/],
    ['future hour', ['run-hour', '2999-01-01T00'], /is in the future/],
    ['inverted range', ['generate', '--from', '2024-01-02T00', '--to', '2024-01-01T00', '--events-per-hour', '5'], /--to 2024-01-01T00 is before --from 2024-01-02T00/],
    ['huge range', ['generate', '--from', '1990-01-01T00', '--to', '2024-01-01T00', '--events-per-hour', '5'], /at most 8784 are allowed/],
    ['negative events', ['generate', '--from', '2024-01-01T00', '--to', '2024-01-01T00', '--events-per-hour', '-3'], /--events-per-hour must be a whole number from 0 to 10000000; got '-3'/],
    ['bad rate', ['generate', '--from', '2024-01-01T00', '--to', '2024-01-01T00', '--events-per-hour', '5', '--malformed-rate', '2'], /--malformed-rate must be a fraction from 0 to 1/],
    ['unknown backend', ['--backend', 'hdfs', 'generate', '--from', '2024-01-01T00', '--to', '2024-01-01T00', '--events-per-hour', '5'], /CLICKSTREAM_BACKEND: must be one of: local, aws, trino/],
  ];
  for (const [name, args, message] of cases) {
    it(`${name}: exit 2 and a clear message`, async () => {
      const r = await runCli(['--lake-dir', lakeDir, ...args]);
      assert.equal(r.code, 2, `stderr: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      await assert.rejects(fs.stat(lakeDir), 'nothing was written');
    });
  }

  it('names every bad setting at once, including SQL and path metacharacters in identifiers', async () => {
    const r = await runCli(['--lake-dir', lakeDir, 'generate', '--from', '2024-01-01T00', '--to', '2024-01-01T00', '--events-per-hour', '5'], {
      CLICKSTREAM_DATABASE: 'a;DROP TABLE x',
      CLICKSTREAM_RAW_PREFIX: '../x',
      CLICKSTREAM_BUCKET: "it's",
      CLICKSTREAM_RAW_TABLE: 'x"y',
    });
    assert.equal(r.code, 2);
    for (const name of ['CLICKSTREAM_DATABASE', 'CLICKSTREAM_RAW_PREFIX', 'CLICKSTREAM_BUCKET', 'CLICKSTREAM_RAW_TABLE']) {
      assert.match(r.stderr, new RegExp(`- ${name}: `), name);
    }
    await assert.rejects(fs.stat(lakeDir));
  });

  it('generate writes raw hours, refuses to overwrite them, and query reads them back', async () => {
    const gen = await runCli(['--lake-dir', lakeDir, 'generate', '--from', '2024-01-01T00', '--to', '2024-01-01T01', '--events-per-hour', '40', '--malformed-rate', '0.1']);
    assert.equal(gen.code, 0, gen.stderr);
    assert.match(gen.stdout, /2024-01-01T00 {2}44 lines \(40 events, 4 malformed, 0 duplicates\)/);
    const again = await runCli(['--lake-dir', lakeDir, 'generate', '--from', '2024-01-01T01', '--to', '2024-01-01T01', '--events-per-hour', '40']);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /raw data is never overwritten/);
  });
});
