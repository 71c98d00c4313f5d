"""The Dagster code location: the asset, a job over it for per-partition backfills, the lake resource."""
from dagster import Definitions, EnvVar, define_asset_job

from .assets import curated_clickstream_hour, hourly_partitions
from .resources import LakePaths

# `dagster job backfill` on this job launches one run per partition (queued, the daemon dequeues).
curate_hours_job = define_asset_job(
    "curate_hours", selection=[curated_clickstream_hour], partitions_def=hourly_partitions
)

defs = Definitions(
    assets=[curated_clickstream_hour],
    jobs=[curate_hours_job],
    resources={
        "lake": LakePaths(
            raw_root=EnvVar("B7_RAW_ROOT"),
            curated_root=EnvVar("B7_CURATED_ROOT"),
            threads=EnvVar.int("B7_DUCKDB_THREADS"),
            memory_mib=EnvVar.int("B7_DUCKDB_MEMORY_MIB"),
            plain_reader_min_bytes=EnvVar.int("B7_PLAIN_READER_MIN_BYTES"),
        )
    },
)
