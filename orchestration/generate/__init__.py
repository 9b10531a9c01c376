"""Deterministic demo data for the raw contract, with ground truth for identity tests.

    from orchestration.generate import generate, load_duckdb
    tables = generate(people=10_000, seed=42)            # dict of pyarrow.Table
    load_duckdb(tables, "demo.duckdb")                   # schemas raw and truth

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
]
