/**
 * Athena statements for the pipeline steps, loaded from sql/athena/. Curation is a CTAS into the
 * run's staging folder; validation reads the raw hour once and counts the staging table. Both
 * select from the classified-lines view, created at bootstrap with the rejected-lines view.
 */
import { PARTITION_KEYS } from '../../core/hours';
import { parseS3Uri } from '../../core/locations';
import type { QueryParam, QueryRequest, StatementBuilder } from '../ports';
import { ENGINE_DIALECTS, loadAthenaSql, type EngineDialect } from './athenaSql';
import { classifiedLinesViewName, rawLinesTableName, rejectedLinesViewName, stagingTableName } from './glueTables';

export interface AthenaTables {
  database: string;
  raw: string;
  curated: string;
}

/** A curation request also says which table and folder its CTAS creates, so the engine can clear a failed attempt's leftovers. */
export interface AthenaQueryRequest extends QueryRequest {
  ctas?: { database: string; table: string; location: string };
}

export function isCtasRequest(r: QueryRequest): r is AthenaQueryRequest & { ctas: NonNullable<AthenaQueryRequest['ctas']> } {
  return (r as AthenaQueryRequest).ctas !== undefined;
}

/** The hour's partition values then the manifest's files, in the order of the statements' `?` markers. */
function hourParams(partition: Record<string, string>, rawFiles: string[]): Record<string, QueryParam> {
  const params: Record<string, QueryParam> = {};
  for (const k of PARTITION_KEYS) {
    const v = partition[k];
    if (v === undefined) throw new Error(`partition value '${k}' missing`);
    params[k] = v;
  }
  for (const f of rawFiles) parseS3Uri(f); // only s3:// URIs are files Athena can match against "$path"
  params.raw_files = JSON.stringify(rawFiles);
  return params;
}

/**
 * The pipeline's statements for Athena (the aws backend) or Trino (the trino backend, whose Hive
 * catalog is `catalog`): the same sql/athena files, differing only by ENGINE_DIALECTS.
 */
export function createAthenaStatements(tables: AthenaTables, engine: { dialect: EngineDialect; catalog: string } = { dialect: 'athena', catalog: 'AwsDataCatalog' }): StatementBuilder {
  const sessionProperties = ENGINE_DIALECTS[engine.dialect].sessionProperties(engine.catalog);
  const identifiers = (stagingLocation: string) => ({
    database: tables.database,
    classified_view: classifiedLinesViewName(tables.raw),
    staging_table: stagingTableName(tables.curated, stagingLocation),
  });
  return {
    curateHour({ rawFiles, stagingLocation, idempotencyToken, partition }): AthenaQueryRequest {
      const ids = identifiers(stagingLocation);
      return {
        sql: loadAthenaSql('curate_hour', ids, { staging_location: stagingLocation }, undefined, engine.dialect),
        params: hourParams(partition, rawFiles),
        idempotencyToken,
        outputLocation: stagingLocation,
        sessionProperties,
        ctas: { database: tables.database, table: ids.staging_table, location: stagingLocation },
      };
    },
    stagingTable: (stagingLocation) => stagingTableName(tables.curated, stagingLocation),
    validationCounts({ rawFiles, stagingLocation, idempotencyToken, partition }): AthenaQueryRequest {
      return {
        sql: loadAthenaSql('validation_counts', identifiers(stagingLocation), {}, undefined, engine.dialect),
        params: hourParams(partition, rawFiles),
        idempotencyToken,
        readsRows: true,
      };
    },
  };
}

/**
 * The bootstrap statements, in order: the classified-lines view over the raw `_lines` table, then
 * the rejected-lines view over it (Athena checks a view's references when it is created).
 */
export function athenaViewStatements(tables: AthenaTables): { view: string; sql: string }[] {
  const ids = {
    database: tables.database,
    raw_lines_table: rawLinesTableName(tables.raw),
    classified_view: classifiedLinesViewName(tables.raw),
    rejected_view: rejectedLinesViewName(tables.raw),
  };
  return [
    { view: ids.classified_view, sql: loadAthenaSql('create_classified_lines_view', ids) },
    { view: ids.rejected_view, sql: loadAthenaSql('create_rejected_lines_view', ids) },
  ];
}
