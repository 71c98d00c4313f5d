/**
 * docker-compose.yml: the services the stack needs, every setting the worker reads set (and
 * valid) in the worker's environment, endpoints that point at compose services, and service
 * names and ports that agree with docs/aws.md. The Dockerfile runs the worker entry point.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { CONFIG_ENV_NAMES, loadConfig, POLL_DEFAULTS } from '../../../config/config';
import { DISPATCH_RATE_KEY, DISPATCH_READS_PER_SECOND } from '../../../devserver/devServer';
import { AWS_ENV_NAMES, parseAwsSettings } from '../../../lake/aws/awsSettings';

const ROOT = path.resolve(__dirname, '..', '..', '..');
interface Service {
  image?: string;
  build?: string;
  ports?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  command?: string[];
  depends_on?: Record<string, { condition: string }> | string[];
}
const compose = YAML.parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service> };
const services = compose.services;
const workerEnv = services.worker!.environment!;

/** Settings the worker reads that the aws stack deliberately leaves at their defaults, and why. */
const NOT_SET: Record<string, string> = {
  CLICKSTREAM_LAKE_DIR: 'local backend only',
  CLICKSTREAM_CATALOG_DIR: 'local backend only',
  CLICKSTREAM_DUCKDB_THREADS: 'local backend only',
  CLICKSTREAM_AWS_S3_ENDPOINT_URL: 'CLICKSTREAM_AWS_ENDPOINT_URL covers every service',
  CLICKSTREAM_AWS_GLUE_ENDPOINT_URL: 'CLICKSTREAM_AWS_ENDPOINT_URL covers every service',
  CLICKSTREAM_AWS_ATHENA_ENDPOINT_URL: 'CLICKSTREAM_AWS_ENDPOINT_URL covers every service',
  CLICKSTREAM_AWS_STS_ENDPOINT_URL: 'CLICKSTREAM_AWS_ENDPOINT_URL covers every service',
};

function publishedPorts(s: Service): number[] {
  return (s.ports ?? []).map((p) => Number(String(p).split(':')[0]));
}

describe('docker-compose.yml', () => {
  it('has Temporal with Postgres, the UI, moto, its one-shot set-up and the worker built from the repo', () => {
    assert.deepEqual(Object.keys(services).sort(), ['moto', 'moto-setup', 'postgresql', 'temporal', 'temporal-ui', 'worker']);
    assert.match(services.postgresql!.image!, /^postgres:/);
    assert.match(services.temporal!.image!, /^temporalio\/auto-setup:/);
    assert.equal(services.temporal!.environment!.DB, 'postgres12');
    assert.equal(services.temporal!.environment!.POSTGRES_SEEDS, 'postgresql');
    assert.match(services['temporal-ui']!.image!, /^temporalio\/ui:/);
    assert.equal(services['temporal-ui']!.environment!.TEMPORAL_ADDRESS, 'temporal:7233');
    assert.match(services.moto!.image!, /^motoserver\/moto:/);
    assert.equal(services.worker!.build, '.');
    assert.deepEqual(services['moto-setup']!.command, ['npx', 'tsx', 'lake/aws/emulatorSetup.ts']);
    assert.ok(existsSync(path.join(ROOT, 'lake', 'aws', 'emulatorSetup.ts')));
    const deps = services.worker!.depends_on as Record<string, { condition: string }>;
    assert.equal(deps['moto-setup']!.condition, 'service_completed_successfully');
    assert.equal(deps.temporal!.condition, 'service_healthy');
  });

  it("gives Temporal the dev server's task-dispatch rate through a mounted dynamic-config file", () => {
    const env = services.temporal!.environment!;
    const mount = (services.temporal!.volumes ?? []).map((v) => v.split(':')).find(([, target]) => target === `/etc/temporal/${env.DYNAMIC_CONFIG_FILE_PATH}`);
    assert.ok(mount, `a volume must mount a file at /etc/temporal/${env.DYNAMIC_CONFIG_FILE_PATH} (DYNAMIC_CONFIG_FILE_PATH)`);
    const dynamic = YAML.parse(readFileSync(path.join(ROOT, mount[0]!), 'utf8')) as Record<string, { value: unknown }[]>;
    assert.deepEqual(dynamic[DISPATCH_RATE_KEY], [{ value: DISPATCH_READS_PER_SECOND }]);
  });

  it('worker polls Athena with the aws backend defaults', () => {
    assert.deepEqual(loadConfig({ ...workerEnv }).engine.poll, POLL_DEFAULTS.aws);
  });

  it('sets every setting the worker reads (bar documented local-only ones) and no unknown CLICKSTREAM_* name', () => {
    const known = new Set<string>([...CONFIG_ENV_NAMES, ...AWS_ENV_NAMES]);
    for (const name of Object.keys(workerEnv).filter((n) => n.startsWith('CLICKSTREAM_'))) assert.ok(known.has(name), `${name} is not a setting`);
    const unset = [...known].filter((n) => !(n in workerEnv) && !(n in NOT_SET));
    assert.deepEqual(unset, [], `set these in the worker's environment: ${unset.join(', ')}`);
    for (const n of Object.keys(NOT_SET)) assert.ok(known.has(n), `${n} in NOT_SET is not a setting any more`);
    assert.equal(workerEnv.CLICKSTREAM_BACKEND, 'aws');
    for (const n of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION']) assert.ok(workerEnv[n], `${n} set for the SDK`);
  });

  it('the worker environment parses as valid config and AWS settings', () => {
    const pipelineEnv = Object.fromEntries(Object.entries(workerEnv).filter(([k]) => !k.startsWith('CLICKSTREAM_AWS_')));
    const config = loadConfig(pipelineEnv);
    assert.equal(config.backend, 'aws');
    const aws = parseAwsSettings(workerEnv);
    assert.ok(aws.ok, aws.ok ? '' : aws.problems.join('; '));
    assert.equal(aws.settings.s3ForcePathStyle, true);
    assert.ok(aws.settings.athena.outputLocation?.startsWith(`s3://${config.lake.bucket}/`), 'results land in the lake bucket the IAM policy covers');
  });

  it('endpoints point at compose services on their container ports', () => {
    const endpoint = new URL(workerEnv.CLICKSTREAM_AWS_ENDPOINT_URL!);
    assert.equal(endpoint.hostname, 'moto');
    assert.ok(publishedPorts(services.moto!).includes(Number(endpoint.port)));
    const [host, port] = workerEnv.TEMPORAL_ADDRESS!.split(':');
    assert.equal(host, 'temporal');
    assert.ok(publishedPorts(services.temporal!).includes(Number(port)));
    assert.equal(Number(workerEnv.CLICKSTREAM_TEMPORAL_UI_PORT), publishedPorts(services['temporal-ui']!)[0]);
  });

  it('service names and ports agree with docs/aws.md', () => {
    const doc = readFileSync(path.join(ROOT, 'docs', 'aws.md'), 'utf8');
    const rows = [...doc.matchAll(/^\| `([a-z-]+)` \| ([^|]+) \|/gm)].map((m) => [m[1]!, m[2]!.trim()] as const);
    assert.deepEqual(
      rows.map(([name]) => name).sort(),
      Object.keys(services).sort(),
    );
    for (const [name, port] of rows) {
      const published = publishedPorts(services[name]!);
      if (/^\d+$/.test(port)) assert.deepEqual(published, [Number(port)], `${name} port`);
      else assert.deepEqual(published, [], `${name} publishes no port`);
    }
  });

  it('the Dockerfile copies what the worker imports and runs workers/worker.ts', () => {
    const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    assert.match(dockerfile, /^CMD \["npx", "tsx", "workers\/worker\.ts"\]$/m);
    assert.ok(existsSync(path.join(ROOT, 'workers', 'worker.ts')));
    const copied = new Set([...dockerfile.matchAll(/^COPY (\S+) \.\/\S*$/gm)].map((m) => m[1]!));
    // Every first-party folder a worker source file imports from must be in the image.
    const importsOf = (dir: string) =>
      readdirSync(path.join(ROOT, dir))
        .filter((f) => f.endsWith('.ts'))
        .flatMap((f) => [...readFileSync(path.join(ROOT, dir, f), 'utf8').matchAll(/from '\.\.\/([a-z]+)\//g)].map((m) => m[1]!));
    for (const dir of new Set(['workers', 'lake', 'activities', 'workflows', 'config', 'core'].flatMap(importsOf))) {
      assert.ok(copied.has(dir), `Dockerfile must COPY ${dir}`);
    }
  });
});
