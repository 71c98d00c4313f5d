/**
 * Athena SQL from sql/athena/: identifiers through loadSql's {{placeholder}} (strict identifier
 * pattern), and the few s3:// locations Athena only accepts as literals (table properties,
 * LOCATION) through [[placeholder]], filled only with values that match a strict folder pattern
 * that admits no quote, backslash or whitespace. Values always travel as ExecutionParameters.
 */
import { loadSql, SQL_ROOT } from '../sqlFiles';

/** s3://bucket/folder/.../ ending in '/': letters, digits and _ = . - in keys, nothing that could end a literal. */
export const S3_FOLDER_LITERAL = /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/([A-Za-z0-9_=.-]+\/)*$/;

/**
 * The statements in sql/athena/ run on Athena and on Trino (Athena engine v3 is Trino). Where the
 * two accept different text, the difference is named here and nowhere else, and a file marks the
 * spot with <<name>>. Today there is one: how a CTAS asks for Snappy-compressed Parquet.
 */
export const ENGINE_DIALECTS = {
  athena: {
    text: { dialect_ctas_properties: "\n  write_compression = 'SNAPPY'," },
    sessionProperties: (_catalog: string): Record<string, string> => ({}),
  },
  trino: {
    // Trino's Hive connector refuses write_compression (INVALID_TABLE_PROPERTY); its codec is a catalog session property.
    text: { dialect_ctas_properties: '' },
    sessionProperties: (catalog: string): Record<string, string> => ({ [`${catalog}.compression_codec`]: 'SNAPPY' }),
  },
} as const;

export type EngineDialect = keyof typeof ENGINE_DIALECTS;

export function loadAthenaSql(
  name: string,
  identifiers: Record<string, string>,
  locations: Record<string, string> = {},
  root = SQL_ROOT,
  dialect: EngineDialect = 'athena',
): string {
  const text = loadSql('athena', name, identifiers, root).replace(/<<(\w+)>>/g, (_, key: string) => {
    const value = (ENGINE_DIALECTS[dialect].text as Record<string, string>)[key];
    if (value === undefined) throw new Error(`sql/athena/${name}.sql: no ${dialect} text for dialect placeholder <<${key}>>`);
    return value;
  });
  return text.replace(/\[\[(\w+)\]\]/g, (_, key: string) => {
    const value = locations[key];
    if (value === undefined) throw new Error(`sql/athena/${name}.sql: no value for location placeholder [[${key}]]`);
    if (!S3_FOLDER_LITERAL.test(value)) throw new Error(`location '${value}' for [[${key}]] does not match ${S3_FOLDER_LITERAL}`);
    return value;
  });
}

/**
 * Counts the `?` parameter markers of a statement, skipping comments, string literals and
 * quoted identifiers, so a mismatch with the supplied values fails before Athena sees it.
 */
export function countParameterMarkers(sql: string): number {
  let count = 0;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i];
    if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? sql.length : end;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end === -1 ? sql.length : end + 1;
    } else if (c === "'" || c === '"') {
      // '' inside a literal (and "" inside an identifier) is an escaped quote: keep scanning.
      let j = i + 1;
      while (j < sql.length) {
        if (sql[j] === c) {
          if (sql[j + 1] === c) j += 2;
          else break;
        } else j++;
      }
      i = j;
    } else if (c === '?') {
      count++;
    }
  }
  return count;
}

/** Renders one value as the SQL literal Athena's ExecutionParameters expect (strings single-quoted). */
export function athenaLiteral(value: string | number | string[]): string {
  if (Array.isArray(value)) return `ARRAY[${value.map((v) => athenaLiteral(v)).join(', ')}]`;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`parameter value ${value} is not a finite number`);
    return String(value);
  }
  return `'${value.replace(/'/g, "''")}'`;
}
