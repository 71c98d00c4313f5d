/** Activity inputs and outputs: plain JSON, since they cross the workflow history. */

export interface RawManifest {
  /** s3:// prefix of the raw hour. */
  prefix: string;
  /** Keys relative to the prefix, sorted: exactly the files curation and validation read. */
  files: string[];
  objects: number;
  bytes: number;
  /** sha256 over (key, size, etag) of every object: changes when any file is added or replaced. */
  fingerprint: string;
}

export interface QueryOutcome {
  queryId: string;
  bytesScanned: number;
  engineMs: number;
  queueMs: number;
  statusCalls: number;
}

export interface StagingResult extends QueryOutcome {
  /** s3:// folder unique to this run, holding the curated Parquet output. */
  stagingLocation: string;
}

export interface HourCounts {
  rawLines: number;
  curatedRows: number;
  rejected: number;
  duplicates: number;
}

export interface ValidationResult extends QueryOutcome {
  counts: HourCounts;
  /** Top-level fields of raw JSON objects outside the data contract, sorted (schema drift). */
  unknownFields: string[];
}

export interface PublishInput {
  hour: string;
  stagingLocation: string;
  lineage: Record<string, string>;
}

export interface PublishResult {
  outcome: 'created' | 'updated' | 'unchanged';
  previousLocation: string | null;
  deletedObjects: number;
}
