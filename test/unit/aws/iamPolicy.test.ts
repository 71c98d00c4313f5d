/**
 * iam/worker-policy.json is least-privilege and complete: it names every AWS action the adapters
 * and the doctor call (found by scanning their source for SDK commands and paginators), grants
 * nothing beyond those and what Athena needs on the worker's behalf, and scopes every resource
 * to the default bucket prefixes, Glue database and tables, and Athena workgroup.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../../../config/config';
import { defaultAwsSettings } from '../../../config/awsSettings';
import { athenaViewStatements } from '../../../lake/aws/athenaStatements';
import { rawLinesTableName } from '../../../lake/aws/glueTables';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const policy = JSON.parse(readFileSync(path.join(ROOT, 'iam', 'worker-policy.json'), 'utf8')) as {
  Version: string;
  Statement: Array<{ Sid: string; Effect: string; Action: string[]; Resource: string | string[]; Condition?: unknown }>;
};
const list = (x: string | string[]) => (Array.isArray(x) ? x : [x]);

/** SDK operation -> IAM action, where the names differ. */
const IAM_NAME: Record<string, string> = {
  's3:ListObjectsV2': 's3:ListBucket',
  's3:HeadBucket': 's3:ListBucket',
  's3:DeleteObjects': 's3:DeleteObject',
};
/** Calls that need no IAM permission. */
const NO_PERMISSION = new Set(['sts:GetCallerIdentity']);
/** Granted for Athena, which reads and writes S3 and Glue with the caller's permissions while it runs the worker's queries. */
const FOR_ATHENA = new Set([
  's3:GetObject',
  's3:GetBucketLocation',
  's3:AbortMultipartUpload',
  's3:ListMultipartUploadParts',
  'glue:GetPartitions',
  'glue:BatchGetPartition',
  'glue:CreateTable',
  'glue:GetTable',
]);

/** Every `new XCommand(` and `paginateX(` in the AWS adapters and the doctor, as service:Operation. */
function actionsCalledInSource(): Set<string> {
  const files = [
    ...readdirSync(path.join(ROOT, 'lake', 'aws')).map((f) => path.join(ROOT, 'lake', 'aws', f)),
    path.join(ROOT, 'cli', 'doctor.ts'),
  ].filter((f) => f.endsWith('.ts'));
  const out = new Set<string>();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const serviceOf = new Map<string, string>();
    for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*'@aws-sdk\/client-(s3|glue|athena|sts)'/g)) {
      for (const name of m[1]!.split(',').map((s) => s.trim().replace(/^type\s+/, ''))) serviceOf.set(name, m[2]!);
    }
    for (const m of text.matchAll(/new (\w+)Command\(|(paginate\w+)\(/g)) {
      const symbol = m[1] ? `${m[1]}Command` : m[2]!;
      const service = serviceOf.get(symbol);
      assert.ok(service, `${path.basename(file)}: ${symbol} is not imported from an @aws-sdk client`);
      const op = m[1] ?? m[2]!.replace(/^paginate/, '');
      const action = `${service}:${op}`;
      out.add(IAM_NAME[action] ?? action);
    }
  }
  return out;
}

describe('iam/worker-policy.json', () => {
  const granted = new Set(policy.Statement.flatMap((s) => s.Action));
  const called = actionsCalledInSource();

  it('finds the adapters\' calls in the source (the scan itself works)', () => {
    for (const a of ['s3:ListBucket', 's3:DeleteObject', 'glue:UpdatePartition', 'glue:BatchCreatePartition', 'athena:StartQueryExecution', 'athena:StopQueryExecution', 'sts:GetCallerIdentity']) {
      assert.ok(called.has(a), `expected ${a} among ${[...called].sort().join(', ')}`);
    }
  });

  it('grants every action the adapters and the doctor call', () => {
    const missing = [...called].filter((a) => !NO_PERMISSION.has(a) && !granted.has(a));
    assert.deepEqual(missing, [], `add to iam/worker-policy.json: ${missing.join(', ')}`);
  });

  it('grants nothing else, except what Athena needs on the worker\'s behalf; no wildcards in actions', () => {
    const extra = [...granted].filter((a) => !called.has(a) && !FOR_ATHENA.has(a));
    assert.deepEqual(extra, []);
    for (const a of granted) assert.doesNotMatch(a, /\*/);
    assert.ok(policy.Statement.every((s) => s.Effect === 'Allow'));
  });

  it('scopes every resource to the default bucket prefixes, database, tables and workgroup', () => {
    const config = loadConfig({}, {});
    const { bucket, rawPrefix, curatedPrefix } = config.lake;
    const { database, raw, curated } = config.tables;
    const workgroup = defaultAwsSettings().athena.workGroup;
    const allowed = [
      `arn:aws:s3:::${bucket}`,
      `arn:aws:s3:::${bucket}/${rawPrefix}/*`,
      `arn:aws:s3:::${bucket}/${curatedPrefix}/*`,
      `arn:aws:s3:::${bucket}/athena-results/*`,
      'arn:aws:glue:*:*:catalog',
      `arn:aws:glue:*:*:database/${database}`,
      ...[raw, rawLinesTableName(raw), curated, ...athenaViewStatements(config.tables).map((v) => v.view), `${curated}_stg_*`].map((t) => `arn:aws:glue:*:*:table/${database}/${t}`),
      `arn:aws:athena:*:*:workgroup/${workgroup}`,
    ];
    for (const s of policy.Statement) {
      for (const r of list(s.Resource)) assert.ok(allowed.includes(r), `${s.Sid}: resource ${r} is broader than or outside the lake`);
    }
    // The worker creates or replaces each Athena view at start-up: Athena writes it to Glue as a table.
    for (const { view } of athenaViewStatements(config.tables)) {
      const arn = `arn:aws:glue:*:*:table/${database}/${view}`;
      for (const action of ['glue:GetTable', 'glue:CreateTable', 'glue:UpdateTable']) {
        assert.ok(
          policy.Statement.some((s) => s.Action.includes(action) && list(s.Resource).includes(arn)),
          `iam/worker-policy.json must grant ${action} on ${arn} (the bootstrap creates view ${view})`,
        );
      }
    }
    const listing = policy.Statement.find((s) => s.Action.includes('s3:ListBucket'))!;
    assert.deepEqual(listing.Condition, { StringLikeIfExists: { 's3:prefix': [`${rawPrefix}/*`, `${curatedPrefix}/*`, 'athena-results/*'] } });
    const deleters = policy.Statement.filter((s) => s.Action.includes('s3:DeleteObject') || s.Action.includes('glue:DeleteTable'));
    assert.deepEqual(
      deleters.flatMap((s) => list(s.Resource)).filter((r) => !r.endsWith(':catalog') && !r.includes(':database/')),
      [`arn:aws:s3:::${bucket}/${curatedPrefix}/*`, `arn:aws:glue:*:*:table/${database}/${curated}_stg_*`],
      'only curated run folders and staging tables are ever deleted',
    );
  });
});
