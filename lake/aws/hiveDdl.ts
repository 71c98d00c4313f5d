/**
 * The Glue tables as Hive DDL, for a manual bootstrap in the Athena console (`clickstream ddl`).
 * Rendered from the TableInput that GlueCatalog.ensureTable sends (glueTables.ts, over
 * lake/tableDefinitions.ts), so columns, partition keys, SerDe and table properties are written
 * once and the two routes cannot describe different tables. Athena runs this DDL on its Hive
 * engine, not Trino, so it is not a sql/athena statement.
 */
import type { TableInput } from '@aws-sdk/client-glue';
import type { LakeLayout } from '../../core/locations';
import { curatedTableDef, rawTableDef } from '../tableDefinitions';
import type { TableDef } from '../ports';
import { sqlIdentifier as identifier } from '../sqlFiles';
import { rawLinesTableDef, tableInput } from './glueTables';

/** Table parameters of the Glue route that the DDL states otherwise: EXTERNAL by EXTERNAL TABLE, the SerDe choice by ROW FORMAT SERDE. */
const IMPLIED_PARAMETERS = new Set(['EXTERNAL', 'clickstream.serde']);

/** CREATE DATABASE, then each table GlueCatalog creates (the raw table's `_lines` companion after it), in that order. */
export function hiveBootstrapDdl(layout: LakeLayout, tables: { database: string; raw: string; curated: string }): string[] {
  const raw = rawTableDef(layout, tables.database, tables.raw);
  return [
    `CREATE DATABASE IF NOT EXISTS ${identifier(tables.database)}`,
    ...[raw, rawLinesTableDef(raw), curatedTableDef(layout, tables.database, tables.curated)].map(hiveCreateTable),
  ];
}

export function hiveCreateTable(def: TableDef): string {
  return renderTable(def.database, tableInput(def));
}

function renderTable(database: string, t: TableInput): string {
  const sd = t.StorageDescriptor!;
  const serde = sd.SerdeInfo!;
  const columns = (list: { Name?: string; Type?: string }[]) => list.map((c) => `${identifier(c.Name!)} ${c.Type!}`);
  const properties = (p: Record<string, string>, indent: string) => Object.entries(p).map(([k, v]) => `${indent}${literal(k)} = ${literal(v)}`);
  const serdeProperties = properties(serde.Parameters ?? {}, '');
  const tableProperties = properties(Object.fromEntries(Object.entries(t.Parameters ?? {}).filter(([k]) => !IMPLIED_PARAMETERS.has(k))), '  ');
  return [
    `CREATE EXTERNAL TABLE IF NOT EXISTS ${identifier(database)}.${identifier(t.Name!)} (`,
    columns(sd.Columns ?? []).map((c) => `  ${c}`).join(',\n'),
    ')',
    `PARTITIONED BY (${columns(t.PartitionKeys ?? []).join(', ')})`,
    `ROW FORMAT SERDE ${literal(serde.SerializationLibrary!)}`,
    ...(serdeProperties.length > 0 ? [`WITH SERDEPROPERTIES (${serdeProperties.join(', ')})`] : []),
    `STORED AS INPUTFORMAT ${literal(sd.InputFormat!)}`,
    `OUTPUTFORMAT ${literal(sd.OutputFormat!)}`,
    `LOCATION ${literal(sd.Location!)}`,
    ...(tableProperties.length > 0 ? ['TBLPROPERTIES (', tableProperties.join(',\n'), ')'] : []),
  ].join('\n');
}

/** Every value comes from code or validated config; one that could end the literal is refused, not escaped. */
function literal(value: string): string {
  if (/['\\\n\r]/.test(value)) throw new Error(`Hive DDL literal ${JSON.stringify(value)} holds a quote, backslash or line break`);
  return `'${value}'`;
}
