/** DuckDB statements for the pipeline steps, loaded from sql/duckdb/. */
import { loadSql } from '../sqlFiles';
import type { QueryRequest, StatementBuilder } from '../ports';

/**
 * How a statement reads raw lines (clickstream_lines in sql/duckdb/setup_01_raw_lines.sql): the
 * statements ask for 'plain', the parallel, streaming reader, and the engine reads an hour that
 * way only where the files are proven plain, else 'exact' (DuckDbQueryEngine.runReadingLines).
 */
export type LineReader = 'plain' | 'exact';

/** The single Parquet file a DuckDB curation writes into its staging folder. */
export const CURATED_FILE_NAME = 'part-00000.parquet';

export const duckdbStatements: StatementBuilder = {
  curateHour({ rawFiles, stagingLocation, idempotencyToken }): QueryRequest {
    return {
      sql: loadSql('duckdb', 'curate_hour'),
      params: { raw_files: rawFiles, line_reader: 'plain' satisfies LineReader, output_file: `${stagingLocation}${CURATED_FILE_NAME}` },
      idempotencyToken,
      outputLocation: stagingLocation,
    };
  },
  validationCounts({ rawFiles, stagingLocation, idempotencyToken }): QueryRequest {
    return {
      sql: loadSql('duckdb', 'validation_counts'),
      params: { raw_files: rawFiles, line_reader: 'plain' satisfies LineReader, staging_glob: `${stagingLocation}*.parquet` },
      idempotencyToken,
    };
  },
};
