/** CLICKSTREAM_AWS_* parsing: defaults, endpoint overrides, and every problem named with its accepted form. */
import assert from 'node:assert/strict';
import { AWS_ENV_NAMES, defaultAwsSettings, parseAwsSettings } from '../../../config/awsSettings';

describe('parseAwsSettings', () => {
  it('defaults: SDK region and credentials chains, real endpoints, workgroup primary, 3 attempts', () => {
    assert.deepEqual(defaultAwsSettings(), {
      region: undefined,
      endpoints: { s3: undefined, glue: undefined, athena: undefined, sts: undefined },
      s3ForcePathStyle: false,
      athena: { workGroup: 'primary', outputLocation: undefined },
      maxAttempts: 3,
    });
  });

  it('one endpoint for every service (an emulator) turns on path-style S3; a per-service endpoint wins', () => {
    const r = parseAwsSettings({
      CLICKSTREAM_AWS_ENDPOINT_URL: 'http://moto:5000',
      CLICKSTREAM_AWS_ATHENA_ENDPOINT_URL: 'http://athena-emulator:9000',
      CLICKSTREAM_AWS_REGION: 'eu-west-1',
      CLICKSTREAM_AWS_ATHENA_WORKGROUP: 'clickstream',
      CLICKSTREAM_AWS_ATHENA_OUTPUT_LOCATION: 's3://results-bucket/athena/',
      CLICKSTREAM_AWS_MAX_ATTEMPTS: '5',
      AWS_REGION: 'ignored-here',
    });
    assert.ok(r.ok);
    assert.deepEqual(r.settings, {
      region: 'eu-west-1',
      endpoints: { s3: 'http://moto:5000', glue: 'http://moto:5000', athena: 'http://athena-emulator:9000', sts: 'http://moto:5000' },
      s3ForcePathStyle: true,
      athena: { workGroup: 'clickstream', outputLocation: 's3://results-bucket/athena/' },
      maxAttempts: 5,
    });
    const virtualHosted = parseAwsSettings({ CLICKSTREAM_AWS_ENDPOINT_URL: 'http://moto:5000', CLICKSTREAM_AWS_S3_FORCE_PATH_STYLE: 'false' });
    assert.ok(virtualHosted.ok);
    assert.equal(virtualHosted.settings.s3ForcePathStyle, false);
  });

  it('reports every problem at once, each naming the variable and the accepted form', () => {
    const r = parseAwsSettings({
      CLICKSTREAM_AWS_REGION: 'Europe',
      CLICKSTREAM_AWS_ENDPOINT_URL: 'moto:5000',
      CLICKSTREAM_AWS_ATHENA_OUTPUT_LOCATION: 's3://bucket/no-slash',
      CLICKSTREAM_AWS_ATHENA_WORKGROUP: 'bad workgroup',
      CLICKSTREAM_AWS_MAX_ATTEMPTS: '0',
      CLICKSTREAM_AWS_S3_FORCE_PATH_STYLE: 'yes',
      CLICKSTREAM_AWS_WORKGROUP: 'typo',
    });
    assert.ok(!r.ok);
    const text = r.problems.join('\n');
    assert.equal(r.problems.length, 7, text);
    assert.match(text, /CLICKSTREAM_AWS_REGION: must be an AWS region such as eu-west-1 \(got "Europe"\)/);
    assert.match(text, /CLICKSTREAM_AWS_ENDPOINT_URL: must be an http\(s\) URL/);
    assert.match(text, /CLICKSTREAM_AWS_ATHENA_OUTPUT_LOCATION: must be an s3:\/\/bucket\/prefix\/ folder ending in \//);
    assert.match(text, /CLICKSTREAM_AWS_ATHENA_WORKGROUP: must be an Athena workgroup name/);
    assert.match(text, /CLICKSTREAM_AWS_MAX_ATTEMPTS: must be >= 1/);
    assert.match(text, /CLICKSTREAM_AWS_S3_FORCE_PATH_STYLE: must be true or false/);
    assert.match(text, /CLICKSTREAM_AWS_WORKGROUP: unknown setting; known AWS settings are CLICKSTREAM_AWS_REGION, /);
  });

  it('every setting is named CLICKSTREAM_AWS_*', () => {
    for (const n of AWS_ENV_NAMES) assert.match(n, /^CLICKSTREAM_AWS_[A-Z0-9_]+$/);
  });
});
