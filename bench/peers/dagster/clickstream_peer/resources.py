"""Where the peer reads raw hours and writes curated Parquet, and the DuckDB it does it with."""
from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
from dagster import ConfigurableResource

# bench/peers/dagster/clickstream_peer/resources.py -> the repository root.
REPO_ROOT = Path(__file__).resolve().parents[4]


def hour_path(hour: datetime) -> str:
    """The Hive-style folder of an hour, as core/hours.ts partitionPath() spells it."""
    return f"year={hour:%Y}/month={hour:%m}/day={hour:%d}/hour={hour:%H}"


class LakePaths(ConfigurableResource):
    """The lake folder the pipeline's raw hours are in, and where this peer writes its output."""

    raw_root: str
    curated_root: str
    sql_dir: str = str(REPO_ROOT / "sql" / "duckdb")
    # The pipeline's engine defaults (config/config.ts engine.threads, engine.memoryMiB), so both
    # run DuckDB alike; memory_mib 0 leaves DuckDB's own default.
    threads: int = 2
    memory_mib: int = 0
    # The engine's PLAIN_READER_MIN_BYTES (lake/local/duckdbEngine.ts): smaller hours are read
    # exactly, without the plainness proof. Passed in by bench/b7-peers.ts, so it never drifts.
    plain_reader_min_bytes: int = 0

    def raw_files(self, hour: datetime) -> list[str]:
        return sorted(str(p) for p in (Path(self.raw_root) / hour_path(hour)).glob("*.jsonl"))

    def output_dir(self, hour: datetime) -> Path:
        return Path(self.curated_root) / hour_path(hour)

    def sql(self, name: str) -> str:
        # Read at run time, every run: the peer runs whatever curation SQL is checked out.
        return (Path(self.sql_dir) / f"{name}.sql").read_text()

    def run(self, con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> duckdb.DuckDBPyConnection:
        """Runs one statement of sql/duckdb/ as the pipeline's DuckDB engine runs it (lake/local/duckdbEngine.ts).

        Binds the parameters the statement names, of those given. A statement that takes
        $line_reader reads raw lines 'plain' (DuckDB's parallel scanner) only for an hour of at
        least plain_reader_min_bytes that clickstream_lines_are_plain proves plain, else 'exact';
        a plain run that fails is run again exact, as the engine does.
        """
        named = set(re.findall(r"\$(\w+)", re.sub(r"--[^\n]*", "", sql)))
        bound = {k: v for k, v in params.items() if k in named}
        if "line_reader" not in named:
            return con.execute(sql, bound)
        size = sum(Path(f).stat().st_size for f in params["raw_files"])
        try:
            plain = size >= self.plain_reader_min_bytes and con.execute("SELECT clickstream_lines_are_plain($raw_files)", {"raw_files": params["raw_files"]}).fetchone()[0] is True
        except duckdb.Error:
            plain = False
        if plain:
            try:
                return con.execute(sql, {**bound, "line_reader": "plain"})
            except duckdb.Error:
                pass
        return con.execute(sql, {**bound, "line_reader": "exact"})

    def connect(self) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB with the pipeline's settings and its setup macros (setup_*.sql)."""
        config: dict[str, Any] = {"threads": self.threads, "enable_external_file_cache": False}
        if self.memory_mib:
            config["memory_limit"] = f"{self.memory_mib}MiB"
        con = duckdb.connect(":memory:", config=config)
        # Zone-less raw timestamps are UTC by the data contract (lake/local/duckdbEngine.ts does the same).
        con.execute("SET TimeZone = 'UTC'")
        for setup in sorted(Path(self.sql_dir).glob("setup_*.sql")):
            con.execute(setup.read_text())
        return con
