/**
 * docker-compose.yml: the services the stack needs, every setting the worker reads set (and
 * valid) in the worker's environment, endpoints that point at compose services, and service
 * names and ports that agree with docs/aws.md. The Dockerfile runs the worker entry point. The
 * `trino` profile: the Trino service and its mounted Hive catalog (the test Trino's properties,
 * pointed at the compose moto), moto running the launcher with Glue's column-statistics no-ops,
 * and the trino worker's settings checked against the config schema.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { CONFIG_ENV_NAMES, loadConfig, POLL_DEFAULTS } from '../../../config/config';
import { DISPATCH_RATE_KEY, DISPATCH_READS_PER_SECOND } from '../../../devserver/devServer';
import { AWS_ENV_NAMES, parseAwsSettings } from '../../../config/awsSettings';
import { TRINO_ENV_NAMES } from '../../../config/trinoSettings';
import { PipelineMetrics } from '../../../workers/pipelineMetrics';
import { TRINO_VERSION } from '../../support/trino/trinoServer';

const ROOT = path.resolve(__dirname, '..', '..', '..');
interface Service {
  image?: string;
  build?: string;
  ports?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  command?: string[];
  depends_on?: Record<string, { condition: string }> | string[];
  entrypoint?: string[];
  profiles?: string[];
  healthcheck?: { test: string[] };
}
const compose = YAML.parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service> };
const services = compose.services;
const workerEnv = services.worker!.environment!;
const trinoWorkerEnv = services['worker-trino']!.environment!;

/** Settings the worker reads that the aws stack deliberately leaves at their defaults, and why. */
const NOT_SET: Record<string, string> = {
  CLICKSTREAM_LAKE_DIR: 'local backend only',
  CLICKSTREAM_CATALOG_DIR: 'local backend only',
  CLICKSTREAM_DUCKDB_THREADS: 'local backend only',
  CLICKSTREAM_DUCKDB_MEMORY_MIB: 'local backend only',
  CLICKSTREAM_AWS_S3_ENDPOINT_URL: 'CLICKSTREAM_AWS_ENDPOINT_URL covers every service',
  CLICKSTREAM_AWS_GLUE_ENDPOINT_URL: 'CLICKSTREAM_AWS_ENDPOINT_URL covers every service',
  CLICKSTREAM_AWS_ATHENA_ENDPOINT_URL: 'CLICKSTREAM_AWS_ENDPOINT_URL covers every service',
  CLICKSTREAM_AWS_STS_ENDPOINT_URL: 'CLICKSTREAM_AWS_ENDPOINT_URL covers every service',
};

/** Settings the trino worker leaves at their defaults on purpose, and why. */
const NOT_SET_TRINO: Record<string, string> = {
  ...NOT_SET,
  CLICKSTREAM_AWS_ATHENA_WORKGROUP: 'the trino backend runs no Athena query',
  CLICKSTREAM_AWS_ATHENA_OUTPUT_LOCATION: 'the trino backend runs no Athena query',
};

function publishedPorts(s: Service): number[] {
  return (s.ports ?? []).map((p) => Number(String(p).split(':')[0]));
}

function containerPorts(s: Service): number[] {
  return (s.ports ?? []).map((p) => Number(String(p).split(':').at(-1)));
}

/** The file a service mounts at `target` (host path relative to the repo), if any. */
function mountedAt(s: Service, target: string): string | undefined {
  return (s.volumes ?? []).map((v) => v.split(':')).find(([, t]) => t === target)?.[0];
}

function readProperties(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    const eq = t.indexOf('=');
    out[t.slice(0, eq)] = t.slice(eq + 1);
  }
  return out;
}

/**
 * The catalog property names the test Trino writes (test/support/trino/trinoServer.ts, writeEtc's
 * catalog file), read from its source so the compose catalog cannot drift from the one the tests run.
 */
function testTrinoCatalogKeys(): string[] {
  const src = readFileSync(path.join(ROOT, 'test', 'support', 'trino', 'trinoServer.ts'), 'utf8');
  const start = src.indexOf("path.join(etc, 'catalog', `${o.catalog}.properties`)");
  assert.ok(start > 0, 'trinoServer.ts no longer writes etc/catalog/<catalog>.properties where this test looks for it');
  const block = src.slice(start, src.indexOf('}),', start));
  return [...block.matchAll(/^\s*'([a-z0-9.-]+)':/gm)].map((m) => m[1]!).sort();
}

describe('docker-compose.yml', () => {
  it('has Temporal with Postgres, the UI, moto, its one-shot set-up and the worker built from the repo; Trino and its worker in the trino profile', () => {
    assert.deepEqual(Object.keys(services).sort(), ['grafana', 'moto', 'moto-setup', 'postgresql', 'prometheus', 'temporal', 'temporal-ui', 'trino', 'worker', 'worker-trino']);
    // Plain `docker compose up` starts the aws stack only: Trino is a 2 GB JVM, and the two workers share a task queue.
    const profiled = Object.entries(services).filter(([, s]) => s.profiles).map(([n, s]) => [n, s.profiles]);
    assert.deepEqual(profiled, [['trino', ['trino']], ['worker-trino', ['trino']]]);
    assert.match(services.postgresql!.image!, /^postgres:/);
    assert.match(services.temporal!.image!, /^temporalio\/auto-setup:/);
    assert.equal(services.temporal!.environment!.DB, 'postgres12');
    assert.equal(services.temporal!.environment!.POSTGRES_SEEDS, 'postgresql');
    assert.match(services['temporal-ui']!.image!, /^temporalio\/ui:/);
    assert.equal(services['temporal-ui']!.environment!.TEMPORAL_ADDRESS, 'temporal:7233');
    assert.match(services.moto!.image!, /^motoserver\/moto:/);
    assert.equal(services.worker!.build, '.');
    assert.deepEqual(services['moto-setup']!.command, ['npx', 'tsx', 'devserver/awsEmulatorSetup.ts']);
    assert.ok(existsSync(path.join(ROOT, 'devserver', 'awsEmulatorSetup.ts')));
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

  it('moto runs the test launcher (moto plus no-op Glue column statistics, which Trino calls on CTAS) mounted from the repo', () => {
    const moto = services.moto!;
    assert.deepEqual(moto.entrypoint?.slice(0, 1), ['python']);
    const launcher = moto.entrypoint![1]!;
    assert.equal(mountedAt(moto, launcher), './test/support/aws/moto_server.py');
    assert.ok(existsSync(path.join(ROOT, 'test', 'support', 'aws', 'moto_server.py')));
    assert.match(readFileSync(path.join(ROOT, 'test', 'support', 'aws', 'moto_server.py'), 'utf8'), /update_column_statistics_for_table/);
    // Listening on every interface, on the port the endpoints name.
    assert.deepEqual(moto.command, ['-H', '0.0.0.0', '-p', String(new URL(workerEnv.CLICKSTREAM_AWS_ENDPOINT_URL!).port)]);
  });

  it(`trino: the tests' Trino ${TRINO_VERSION}, after moto, healthy when started, its API on a port apart from the Temporal UI's`, () => {
    const trino = services.trino!;
    assert.equal(trino.image, `trinodb/trino:${TRINO_VERSION}`);
    assert.equal((trino.depends_on as Record<string, { condition: string }>).moto!.condition, 'service_healthy');
    assert.deepEqual(trino.healthcheck?.test, ['CMD', '/usr/lib/trino/bin/health-check']);
    assert.deepEqual(containerPorts(trino), [8080]);
    assert.notDeepEqual(publishedPorts(trino), publishedPorts(services['temporal-ui']!));
  });

  it("trino's mounted catalog file is the worker's CLICKSTREAM_TRINO_CATALOG: the test Trino's properties, over the compose moto", () => {
    const catalog = trinoWorkerEnv.CLICKSTREAM_TRINO_CATALOG!;
    const host = mountedAt(services.trino!, `/etc/trino/catalog/${catalog}.properties`);
    assert.ok(host, `trino must mount a file at /etc/trino/catalog/${catalog}.properties (CLICKSTREAM_TRINO_CATALOG=${catalog})`);
    const props = readProperties(path.join(ROOT, host));
    assert.deepEqual(Object.keys(props).sort(), testTrinoCatalogKeys(), 'the same properties as test/support/trino/trinoServer.ts writes');
    const moto = trinoWorkerEnv.CLICKSTREAM_AWS_ENDPOINT_URL!;
    const region = trinoWorkerEnv.CLICKSTREAM_AWS_REGION!;
    assert.deepEqual(props, {
      'connector.name': 'hive',
      'hive.metastore': 'glue',
      'hive.metastore.glue.region': region,
      'hive.metastore.glue.endpoint-url': moto,
      'hive.metastore.glue.aws-access-key': trinoWorkerEnv.AWS_ACCESS_KEY_ID,
      'hive.metastore.glue.aws-secret-key': trinoWorkerEnv.AWS_SECRET_ACCESS_KEY,
      'fs.native-s3.enabled': 'true',
      's3.endpoint': moto,
      's3.region': region,
      's3.path-style-access': 'true',
      's3.aws-access-key': trinoWorkerEnv.AWS_ACCESS_KEY_ID,
      's3.aws-secret-key': trinoWorkerEnv.AWS_SECRET_ACCESS_KEY,
      'hive.non-managed-table-writes-enabled': 'true',
      'hive.non-managed-table-creates-enabled': 'true',
    });
  });

  it('worker-trino: built from the repo, started after Temporal, the emulator set-up and a healthy Trino', () => {
    const w = services['worker-trino']!;
    assert.equal(w.build, '.');
    const deps = w.depends_on as Record<string, { condition: string }>;
    assert.deepEqual(
      Object.fromEntries(Object.entries(deps).map(([k, v]) => [k, v.condition])),
      { temporal: 'service_healthy', 'moto-setup': 'service_completed_successfully', trino: 'service_healthy' },
    );
  });

  it('worker-trino sets every CLICKSTREAM_* and CLICKSTREAM_TRINO_* setting (bar documented ones), none unknown, and parses as trino config', () => {
    const known = new Set<string>([...CONFIG_ENV_NAMES, ...AWS_ENV_NAMES, ...TRINO_ENV_NAMES]);
    for (const name of Object.keys(trinoWorkerEnv).filter((n) => n.startsWith('CLICKSTREAM_'))) assert.ok(known.has(name), `${name} is not a setting`);
    const unset = [...known].filter((n) => !(n in trinoWorkerEnv) && !(n in NOT_SET_TRINO));
    assert.deepEqual(unset, [], `set these in worker-trino's environment: ${unset.join(', ')}`);
    for (const n of Object.keys(NOT_SET_TRINO)) assert.ok(known.has(n), `${n} in NOT_SET_TRINO is not a setting any more`);

    const config = loadConfig({ ...trinoWorkerEnv });
    assert.equal(config.backend, 'trino');
    assert.deepEqual(config.trino, { url: 'http://trino:8080', catalog: 'hive', user: 'clickstream-lake' });
    assert.deepEqual(config.engine.poll, POLL_DEFAULTS.trino);
    assert.equal(config.aws.s3ForcePathStyle, true);
    // The coordinator is the compose service, on its container port.
    const url = new URL(trinoWorkerEnv.CLICKSTREAM_TRINO_URL!);
    assert.equal(url.hostname, 'trino');
    assert.ok(containerPorts(services.trino!).includes(Number(url.port)));
  });

  it('both workers work on the same lake and Temporal: their environments differ only in the engine settings', () => {
    const engineOnly = /^(CLICKSTREAM_BACKEND|CLICKSTREAM_TRINO_.*|CLICKSTREAM_AWS_ATHENA_.*|CLICKSTREAM_QUERY_POLL_.*)$/;
    const shared = (env: Record<string, string>) => Object.fromEntries(Object.entries(env).filter(([k]) => !engineOnly.test(k)));
    assert.deepEqual(shared(trinoWorkerEnv), shared(workerEnv));
    // The catalog's endpoints are the workers' moto: Trino and the worker see the same Glue and S3.
    assert.equal(new URL(trinoWorkerEnv.CLICKSTREAM_AWS_ENDPOINT_URL!).hostname, 'moto');
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

  it('prometheus loads the shipped rules and scrapes both workers on their CLICKSTREAM_METRICS_PORT and CLICKSTREAM_SDK_METRICS_PORT', () => {
    const prom = services.prometheus!;
    const configFile = mountedAt(prom, '/etc/prometheus/prometheus.yml');
    assert.equal(configFile, './ops/prometheus/prometheus.yml');
    const config = YAML.parse(readFileSync(path.join(ROOT, configFile), 'utf8')) as {
      rule_files: string[];
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    assert.deepEqual(config.rule_files.map((f) => mountedAt(prom, f)), ['./ops/prometheus/rules.yml'], 'every rule file is the mounted shipped one');
    const targets = Object.fromEntries(config.scrape_configs.map((j) => [j.job_name, j.static_configs.flatMap((c) => c.targets)]));
    for (const [env, job] of [['CLICKSTREAM_METRICS_PORT', 'clickstream-pipeline'], ['CLICKSTREAM_SDK_METRICS_PORT', 'clickstream-temporal-sdk']] as const) {
      assert.equal(workerEnv[env], trinoWorkerEnv[env]);
      assert.deepEqual(targets[job], [`worker:${workerEnv[env]}`, `worker-trino:${workerEnv[env]}`], `${job} scrapes ${env}`);
    }
    assert.deepEqual(containerPorts(prom), [9090]);
  });

  it("grafana provisions the compose prometheus as the dashboard's data source, and the dashboard reads only metrics the worker exports", async () => {
    const grafana = services.grafana!;
    const datasources = mountedAt(grafana, '/etc/grafana/provisioning/datasources')!;
    const ds = YAML.parse(readFileSync(path.join(ROOT, datasources, 'prometheus.yml'), 'utf8')) as { datasources: { uid: string; url: string }[] };
    assert.equal(ds.datasources[0]!.url, `http://prometheus:${containerPorts(services.prometheus!)[0]}`);
    const dashboards = mountedAt(grafana, '/var/lib/grafana/dashboards')!;
    const provider = YAML.parse(readFileSync(path.join(ROOT, mountedAt(grafana, '/etc/grafana/provisioning/dashboards')!, 'clickstream.yml'), 'utf8'));
    assert.equal(provider.providers[0].options.path, '/var/lib/grafana/dashboards');
    const dashboard = readFileSync(path.join(ROOT, dashboards, 'clickstream.json'), 'utf8');
    const uids = new Set([...dashboard.matchAll(/"uid": "([^"]+)"/g)].map((m) => m[1]));
    assert.ok(uids.has(ds.datasources[0]!.uid), 'panels name the provisioned data source');
    // Every clickstream_* series a panel reads is one the worker's registry has (histograms by their _bucket/_sum/_count).
    const registry = new PipelineMetrics({ catalog: { listPartitions: async () => [] } as never, database: 'd', table: 't', warn: () => undefined }).registry;
    const exported = new Set((await registry.getMetricsAsJSON()).map((m) => m.name));
    const used = new Set([...dashboard.matchAll(/\b(clickstream_[a-z_]+)/g)].map((m) => m[1]!.replace(/_(bucket|sum|count)$/, '')));
    for (const name of used) assert.ok(exported.has(name), `dashboard reads ${name}, which the worker does not export`);
    assert.ok(used.size >= 10, `the dashboard shows the pipeline's metrics (${[...used].join(', ')})`);
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
