"""
The test suite's moto server: moto's own server, plus no-op answers for the Glue
column-statistics actions moto does not implement.

Trino's Hive connector (Glue metastore) calls them around every CTAS and INSERT: it deletes the
statistics of a table it creates, updates them after it writes, and reads a partition's before
planning. moto 5.2.5 raises NotImplementedError for all of them, which fails the query. Statistics
only steer Trino's cost-based optimizer; no result depends on them, so "there are none" is an
honest answer for an emulator. This is the only behaviour added to moto; everything else is moto's.
"""
import sys

from moto.core.responses import ActionResult, EmptyResult
from moto.glue.responses import GlueResponse
from moto.server import main


def _no_statistics(self):
    return ActionResult({"ColumnStatisticsList": [], "Errors": []})


def _nothing_to_do(self):
    return EmptyResult()


def _nothing_failed(self):
    return ActionResult({"Errors": []})


for name, handler in {
    "get_column_statistics_for_table": _no_statistics,
    "get_column_statistics_for_partition": _no_statistics,
    "update_column_statistics_for_table": _nothing_failed,
    "update_column_statistics_for_partition": _nothing_failed,
    "delete_column_statistics_for_table": _nothing_to_do,
    "delete_column_statistics_for_partition": _nothing_to_do,
}.items():
    if not hasattr(GlueResponse, name):
        setattr(GlueResponse, name, handler)

if __name__ == "__main__":
    sys.exit(main())
