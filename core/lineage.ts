/**
 * Lineage: what a published curated partition records about how it was made, stored as the
 * catalog partition's string parameters (Glue's only kind). The workflow writes it through
 * lineageParameters; everyone who asks "is this hour published?" or "did its raw files change?"
 * reads it through isPublished and rawChanged, so no caller compares parameter strings itself.
 * Pure, so workflows can import it.
 */

/** What the hourly workflow knows when it publishes an hour. */
export interface Lineage {
  /** The raw manifest's fingerprint (keys, sizes, ETags): a re-listing that differs means late or replaced files. */
  manifestFingerprint: string;
  rawObjects: number;
  rawBytes: number;
  counts: { rawLines: number; curatedRows: number; rejected: number; duplicates: number };
  /** Top-level fields outside the data contract (schema drift), sorted. */
  unknownFields: string[];
  curateQueryId: string;
  validateQueryId: string;
  workflowId: string;
  runId: string;
  publishedAt: string;
}

/** Catalog parameters, string-valued as Glue stores them; absent means the partition was never published. */
export type PartitionParameters = Record<string, string> | undefined;

/** The partition parameters publish writes: only validated hours are ever published, hence `validated`. */
export function lineageParameters(l: Lineage): Record<string, string> {
  return {
    validated: 'true',
    manifest_fingerprint: l.manifestFingerprint,
    raw_objects: String(l.rawObjects),
    raw_bytes: String(l.rawBytes),
    raw_lines: String(l.counts.rawLines),
    curated_rows: String(l.counts.curatedRows),
    rejected: String(l.counts.rejected),
    duplicates: String(l.counts.duplicates),
    unknown_fields: l.unknownFields.join(','),
    curate_query_id: l.curateQueryId,
    validate_query_id: l.validateQueryId,
    workflow_id: l.workflowId,
    run_id: l.runId,
    published_at: l.publishedAt,
  };
}

/** True when the partition was published by the pipeline (validated); an unvalidated one is an interrupted or foreign write. */
export function isPublished(parameters: PartitionParameters): boolean {
  return parameters?.validated === 'true';
}

/** True when a published hour's raw files no longer match what it was curated from. */
export function rawChanged(parameters: PartitionParameters, manifestFingerprint: string): boolean {
  return isPublished(parameters) && parameters!.manifest_fingerprint !== manifestFingerprint;
}
