/**
 * Settings of the `trino` backend (CLICKSTREAM_TRINO_*), parsed once at the edge like the rest of
 * the config. S3 and Glue are reached with the CLICKSTREAM_AWS_* settings, exactly as on the aws
 * backend; Trino's schema is the Glue database (CLICKSTREAM_DATABASE), so the tables Athena and
 * Trino see are the same ones.
 */
import { z } from 'zod';
import { parseEnvGroup } from './envGroup';
import { SQL_IDENTIFIER } from '../core/ids';

const trinoEnvSchema = z.object({
  CLICKSTREAM_TRINO_URL: z
    .string()
    .regex(/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?\/?$/, 'must be the coordinator URL, http(s)://host:port, e.g. http://localhost:8080')
    .default('http://localhost:8080'),
  CLICKSTREAM_TRINO_CATALOG: z
    .string()
    .regex(SQL_IDENTIFIER, 'must be a Trino catalog name (lower-case letters, digits, underscore), the Hive catalog over Glue')
    .default('hive'),
  CLICKSTREAM_TRINO_USER: z
    .string()
    .regex(/^[A-Za-z0-9._@-]{1,128}$/, 'must be a Trino user name (1-128 of A-Z a-z 0-9 . _ @ -)')
    .default('clickstream-lake'),
});

export type TrinoEnvName = keyof typeof trinoEnvSchema.shape;
export const TRINO_ENV_NAMES = Object.keys(trinoEnvSchema.shape) as TrinoEnvName[];

export interface TrinoSettings {
  /** Coordinator URL without a trailing slash. */
  url: string;
  /** The Hive catalog whose metastore is the Glue Data Catalog. */
  catalog: string;
  user: string;
}

export type TrinoSettingsResult = { ok: true; settings: TrinoSettings } | { ok: false; problems: string[] };

/** Parses CLICKSTREAM_TRINO_*; every problem names its variable and the accepted form. */
export function parseTrinoSettings(env: Record<string, string | undefined>): TrinoSettingsResult {
  const parsed = parseEnvGroup(trinoEnvSchema, 'CLICKSTREAM_TRINO_', 'Trino', env);
  if (!parsed.ok) return parsed;
  const e = parsed.data;
  return { ok: true, settings: { url: e.CLICKSTREAM_TRINO_URL.replace(/\/$/, ''), catalog: e.CLICKSTREAM_TRINO_CATALOG, user: e.CLICKSTREAM_TRINO_USER } };
}
