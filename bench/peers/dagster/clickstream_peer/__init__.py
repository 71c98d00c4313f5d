"""Bench B7's Dagster peer: the project's DuckDB curation of one raw hour, as a Dagster asset."""
