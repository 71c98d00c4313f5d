"""The curated clickstream table, one hourly partition per raw hour."""
from datetime import datetime

from dagster import (
    AssetExecutionContext,
    BackfillPolicy,
    Failure,
    HourlyPartitionsDefinition,
    MaterializeResult,
    MetadataValue,
    asset,
)

from .resources import LakePaths

# The bench's generated hours start here (bench/b7-peers.ts); partitions end at the last full hour.
hourly_partitions = HourlyPartitionsDefinition(start_date="2024-01-01-00:00")

PARTITION_FORMAT = "%Y-%m-%d-%H:%M"


@asset(
    partitions_def=hourly_partitions,
    # A backfill of many hours is one run that curates them all: Dagster's fast path, and why a
    # failure anywhere fails (and a retry re-runs) the whole range.
    backfill_policy=BackfillPolicy.single_run(),
)
def curated_clickstream_hour(context: AssetExecutionContext, lake: LakePaths) -> MaterializeResult:
    """Raw JSONL -> rejected and de-duplicated -> Parquet, then the raw = curated + rejected + duplicates check."""
    con = lake.connect()
    curate_sql, counts_sql = lake.sql("curate_hour"), lake.sql("validation_counts")
    totals = {"raw_lines": 0, "curated_rows": 0, "rejected": 0, "duplicates": 0}
    try:
        for key in context.partition_keys:
            hour = datetime.strptime(key, PARTITION_FORMAT)
            raw_files = lake.raw_files(hour)
            if not raw_files:
                raise Failure(f"hour {key}: no raw files under {lake.raw_root}")
            out_dir = lake.output_dir(hour)
            out_dir.mkdir(parents=True, exist_ok=True)
            params = {
                "raw_files": raw_files,
                "output_file": str(out_dir / "part-00000.parquet"),
                "staging_glob": str(out_dir / "*.parquet"),
            }
            lake.run(con, curate_sql, params)
            raw_lines, rejected, duplicates, _unknown, curated_rows = lake.run(con, counts_sql, params).fetchone()
            if raw_lines != curated_rows + rejected + duplicates:
                raise Failure(
                    f"hour {key}: {raw_lines} raw lines but {curated_rows} curated + {rejected} rejected + {duplicates} duplicates",
                    metadata={"raw_lines": raw_lines, "curated_rows": curated_rows},
                )
            for name, value in zip(totals, (raw_lines, curated_rows, rejected, duplicates)):
                totals[name] += value
    finally:
        con.close()
    return MaterializeResult(
        metadata={
            "hours": len(context.partition_keys),
            **{name: MetadataValue.int(value) for name, value in totals.items()},
        }
    )
