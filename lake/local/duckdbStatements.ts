/** DuckDB statements for the pipeline steps, loaded from sql/duckdb/. */
import { loadSql } from '../sqlFiles';
import type { QueryRequest, StatementBuilder } from '../ports';

/** The single Parquet file a DuckDB curation writes into its staging folder. */
export const CURATED_FILE_NAME = 'part-00000.parquet';

export const duckdbStatements: StatementBuilder = {
  curateHour({ rawFiles, stagingLocation, idempotencyToken }): QueryRequest {
    return {
      sql: loadSql('duckdb', 'curate_hour'),
      params: { raw_files: rawFiles, output_file: `${stagingLocation}${CURATED_FILE_NAME}` },
      idempotencyToken,
      outputLocation: stagingLocation,
    };
  },
  validationCounts({ rawFiles, stagingLocation, idempotencyToken }): QueryRequest {
    return {
      sql: loadSql('duckdb', 'validation_counts'),
      params: { raw_files: rawFiles, staging_glob: `${stagingLocation}*.parquet` },
      idempotencyToken,
    };
  },
};
