/**
 * Loads SQL statements from sql/<dialect>/<name>.sql. Values are always bound as parameters;
 * the only text ever substituted is a {{placeholder}} for an identifier that passes the strict
 * identifier pattern, so nothing an operator or a raw file supplies is spliced into SQL.
 */
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { SQL_IDENTIFIER } from '../core/ids';

export type SqlDialect = 'duckdb' | 'athena';

export const SQL_ROOT = path.resolve(__dirname, '..', 'sql');

const cache = new Map<string, string>();

export function loadSql(dialect: SqlDialect, name: string, identifiers: Record<string, string> = {}, root = SQL_ROOT): string {
  const file = path.join(root, dialect, `${name}.sql`);
  let text = cache.get(file);
  if (text === undefined) {
    text = readFileSync(file, 'utf8');
    cache.set(file, text);
  }
  return text.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    const value = identifiers[key];
    if (value === undefined) throw new Error(`${file}: no value for identifier placeholder {{${key}}}`);
    return sqlIdentifier(value, ` for {{${key}}}`);
  });
}

/** `name` unchanged if it passes the strict identifier pattern; the one check for every identifier put into SQL text. */
export function sqlIdentifier(name: string, where = ''): string {
  if (!SQL_IDENTIFIER.test(name)) throw new Error(`identifier '${name}'${where} does not match ${SQL_IDENTIFIER}`);
  return name;
}

/** The setup statements of a dialect (setup_*.sql), in file-name order. */
export function loadSetupSql(dialect: SqlDialect, root = SQL_ROOT): string[] {
  return readdirSync(path.join(root, dialect))
    .filter((f) => f.startsWith('setup_') && f.endsWith('.sql'))
    .sort()
    .map((f) => loadSql(dialect, f.slice(0, -4), {}, root));
}
