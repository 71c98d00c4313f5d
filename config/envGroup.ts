/**
 * One group of prefixed settings (CLICKSTREAM_AWS_*, CLICKSTREAM_TRINO_*) parsed with its zod
 * schema: empty values count as unset, an unknown variable with the prefix is a problem (a typo
 * must not fall back to a default), and every problem names its variable and the accepted form.
 */
import type { z } from 'zod';

export type EnvGroupResult<T> = { ok: true; data: T } | { ok: false; problems: string[] };

export function parseEnvGroup<S extends z.ZodObject>(
  schema: S,
  prefix: string,
  label: string,
  env: Record<string, string | undefined>,
): EnvGroupResult<z.infer<S>> {
  const names = Object.keys(schema.shape);
  const raw: Record<string, string> = {};
  for (const name of names) {
    const v = env[name];
    if (v !== undefined && v !== '') raw[name] = v;
  }
  const problems: string[] = [];
  for (const name of Object.keys(env)) {
    if (name.startsWith(prefix) && !names.includes(name)) problems.push(`${name}: unknown setting; known ${label} settings are ${names.join(', ')}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0]);
      problems.push(`${name}: ${issue.message} (got ${JSON.stringify(raw[name])})`);
    }
  }
  if (problems.length > 0 || !parsed.success) return { ok: false, problems };
  return { ok: true, data: parsed.data };
}
