import assert from 'node:assert/strict';
import { parseHour } from '../../../core/hours';
import { curatedHourPrefix, parseS3Uri, rawHourPrefix, s3Uri, stagingPrefix, tableRoot, type LakeLayout } from '../../../core/locations';

const layout: LakeLayout = { bucket: 'clickstream-lake', rawPrefix: 'raw/clickstream', curatedPrefix: 'curated/clickstream' };
const hour = parseHour('2024-03-01T07');

describe('core/locations', () => {
  it('rawHourPrefix is the Hive folder of the hour, with a trailing slash', () => {
    assert.equal(rawHourPrefix(layout, hour), 'raw/clickstream/year=2024/month=03/day=01/hour=07/');
  });

  it('curatedHourPrefix and stagingPrefix: one run folder per epoch below the hour', () => {
    assert.equal(curatedHourPrefix(layout, hour), 'curated/clickstream/year=2024/month=03/day=01/hour=07/');
    assert.equal(
      stagingPrefix(layout, hour, '0190f3a2-5c1e-7d4b-9a10-0123456789ab'),
      'curated/clickstream/year=2024/month=03/day=01/hour=07/run=0190f3a2-5c1e-7d4b-9a10-0123456789ab/',
    );
    assert.notEqual(stagingPrefix(layout, hour, 'run-a'), stagingPrefix(layout, hour, 'run-b'));
    assert.ok(stagingPrefix(layout, hour, 'run-a').startsWith(curatedHourPrefix(layout, hour)));
  });

  it('stagingPrefix strips path characters from the epoch so it cannot leave the hour folder', () => {
    assert.equal(stagingPrefix(layout, hour, '../../x/y'), `${curatedHourPrefix(layout, hour)}run=xy/`);
    assert.equal(stagingPrefix(layout, hour, 'a'.repeat(100)), `${curatedHourPrefix(layout, hour)}run=${'a'.repeat(64)}/`);
    assert.throws(() => stagingPrefix(layout, hour, '../..'), /^Error: attempt epoch '\.\.\/\.\.' has no usable characters$/);
    assert.throws(() => stagingPrefix(layout, hour, ''), /has no usable characters/);
  });

  it('s3Uri and parseS3Uri round-trip', () => {
    const uri = s3Uri('clickstream-lake', 'raw/clickstream/year=2024/');
    assert.equal(uri, 's3://clickstream-lake/raw/clickstream/year=2024/');
    assert.deepEqual(parseS3Uri(uri), { bucket: 'clickstream-lake', key: 'raw/clickstream/year=2024/' });
    assert.deepEqual(parseS3Uri('s3://b/'), { bucket: 'b', key: '' });
    assert.deepEqual(parseS3Uri('s3://b/a/b/c.parquet'), { bucket: 'b', key: 'a/b/c.parquet' });
  });

  it('parseS3Uri throws on anything that is not s3://bucket/key', () => {
    for (const bad of ['s3://bucket', 's3:///key', 'S3://b/k', 's3a://b/k', 'https://b/k', '/tmp/b/k', 'b/k', '', ' s3://b/k']) {
      assert.throws(() => parseS3Uri(bad), (err: unknown) => err instanceof Error && err.message === `not an s3://bucket/key location: '${bad}'`, bad);
    }
  });

  it('tableRoot points at the raw or curated prefix', () => {
    assert.equal(tableRoot(layout, 'raw'), 's3://clickstream-lake/raw/clickstream/');
    assert.equal(tableRoot(layout, 'curated'), 's3://clickstream-lake/curated/clickstream/');
  });
});
