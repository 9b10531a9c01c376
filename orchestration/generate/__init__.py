"""Deterministic demo data for the raw contract, with ground truth for identity tests.

    from orchestration.generate import generate, load_duckdb
    tables = generate(people=10_000, seed=42)            # dict of pyarrow.Table
    load_duckdb(tables, "demo.duckdb")                   # schemas raw and truth
    load_spark(tables, spark_session(conf))              # Spark (the `spark` extra)

``generate(people, seed, batch=k)`` with k >= 1 gives the k-th daily delta to append.
"""

from orchestration.generate.contract import (
    IDENTIFIER_TYPES,
    RAW_COLUMNS,
    RAW_KEYS,
    RAW_SCHEMA,
    TRUTH_COLUMNS,
    TRUTH_SCHEMA,
)
from orchestration.generate.duckdb_loader import load_duckdb
from orchestration.generate.generator import generate, iter_tables
from orchestration.generate.postgres_loader import ensure_database, load_postgres
from orchestration.generate.spark_loader import load_spark, spark_session

__all__ = [
    "IDENTIFIER_TYPES",
    "RAW_COLUMNS",
    "RAW_KEYS",
    "RAW_SCHEMA",
    "TRUTH_COLUMNS",
    "TRUTH_SCHEMA",
    "ensure_database",
    "generate",
    "iter_tables",
    "load_duckdb",
    "load_postgres",
    "load_spark",
    "spark_session",
]
