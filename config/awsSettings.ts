/**
 * Settings of the `aws` backend, parsed once at the edge like the rest of the config.
 * Keys are the environment variable names, so every problem names exactly what to change.
 * Region and credentials come from the SDK's default chains (AWS_REGION, AWS_PROFILE, instance
 * roles, ...); CLICKSTREAM_AWS_REGION only overrides the region when set.
 */
import { z } from 'zod';
import { parseEnvGroup } from './envGroup';

const URL_FORM = 'an http(s) URL such as http://localhost:5000';
const httpUrl = z
  .string()
  .regex(/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?(\/[^\s]*)?$/, `must be ${URL_FORM}`)
  .optional();
const booleanText = z.enum(['true', 'false'], { error: 'must be true or false' });

/** Bucket + optional key prefix, ending in '/': never a quote, space or backslash (it reaches SQL-adjacent config). */
const S3_FOLDER = /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/([A-Za-z0-9_=.-]+\/)*$/;

const awsEnvSchema = z.object({
  CLICKSTREAM_AWS_REGION: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as eu-west-1').optional(),
  CLICKSTREAM_AWS_ENDPOINT_URL: httpUrl,
  CLICKSTREAM_AWS_S3_ENDPOINT_URL: httpUrl,
  CLICKSTREAM_AWS_GLUE_ENDPOINT_URL: httpUrl,
  CLICKSTREAM_AWS_ATHENA_ENDPOINT_URL: httpUrl,
  CLICKSTREAM_AWS_STS_ENDPOINT_URL: httpUrl,
  CLICKSTREAM_AWS_S3_FORCE_PATH_STYLE: booleanText.optional(),
  CLICKSTREAM_AWS_ATHENA_WORKGROUP: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,128}$/, 'must be an Athena workgroup name (1-128 of A-Z a-z 0-9 . _ -)')
    .default('primary'),
  CLICKSTREAM_AWS_ATHENA_OUTPUT_LOCATION: z
    .string()
    .regex(S3_FOLDER, 'must be an s3://bucket/prefix/ folder ending in /, e.g. s3://my-bucket/athena-results/')
    .optional(),
  CLICKSTREAM_AWS_MAX_ATTEMPTS: z.coerce
    .number()
    .int('must be a whole number')
    .min(1, 'must be >= 1')
    .max(10, 'must be <= 10')
    .default(3),
});

export type AwsEnvName = keyof typeof awsEnvSchema.shape;
export const AWS_ENV_NAMES = Object.keys(awsEnvSchema.shape) as AwsEnvName[];

export interface AwsEndpoints {
  s3?: string;
  glue?: string;
  athena?: string;
  sts?: string;
}

export interface AwsSettings {
  /** Undefined: the SDK's default region chain (AWS_REGION, profile, instance metadata). */
  region?: string;
  /** Per-service endpoint overrides, for emulators; undefined means the real AWS endpoint. */
  endpoints: AwsEndpoints;
  /** Path-style S3 URLs (http://host/bucket/key): required by emulators; defaults to true when S3 has an endpoint override. */
  s3ForcePathStyle: boolean;
  athena: {
    workGroup: string;
    /** Undefined: the workgroup's own result location is used (doctor checks that it has one). */
    outputLocation?: string;
  };
  /** The SDK's attempts per call (its own retry of throttling and 5xx) before the classifier sees the error. */
  maxAttempts: number;
}

export type AwsSettingsResult = { ok: true; settings: AwsSettings } | { ok: false; problems: string[] };

/**
 * Parses the CLICKSTREAM_AWS_* variables. Returns every problem at once, each naming the
 * variable and the accepted form, so loadConfig can fold them into its single ConfigInvalid error.
 */
export function parseAwsSettings(env: Record<string, string | undefined>): AwsSettingsResult {
  const parsed = parseEnvGroup(awsEnvSchema, 'CLICKSTREAM_AWS_', 'AWS', env);
  if (!parsed.ok) return parsed;

  const e = parsed.data;
  const shared = e.CLICKSTREAM_AWS_ENDPOINT_URL;
  const endpoints: AwsEndpoints = {
    s3: e.CLICKSTREAM_AWS_S3_ENDPOINT_URL ?? shared,
    glue: e.CLICKSTREAM_AWS_GLUE_ENDPOINT_URL ?? shared,
    athena: e.CLICKSTREAM_AWS_ATHENA_ENDPOINT_URL ?? shared,
    sts: e.CLICKSTREAM_AWS_STS_ENDPOINT_URL ?? shared,
  };
  return {
    ok: true,
    settings: {
      region: e.CLICKSTREAM_AWS_REGION,
      endpoints,
      s3ForcePathStyle: e.CLICKSTREAM_AWS_S3_FORCE_PATH_STYLE
        ? e.CLICKSTREAM_AWS_S3_FORCE_PATH_STYLE === 'true'
        : endpoints.s3 !== undefined,
      athena: { workGroup: e.CLICKSTREAM_AWS_ATHENA_WORKGROUP, outputLocation: e.CLICKSTREAM_AWS_ATHENA_OUTPUT_LOCATION },
      maxAttempts: e.CLICKSTREAM_AWS_MAX_ATTEMPTS,
    },
  };
}

/** The defaults, as parsed from an empty environment (real AWS endpoints, workgroup 'primary'). */
export function defaultAwsSettings(): AwsSettings {
  const r = parseAwsSettings({});
  if (!r.ok) throw new Error(`default AWS settings do not parse: ${r.problems.join('; ')}`);
  return r.settings;
}
