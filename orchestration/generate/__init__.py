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
from orchestration.generate.generator import generate, iter_tables

__all__ = [
    "IDENTIFIER_TYPES",
    "RAW_COLUMNS",
    "RAW_KEYS",
    "RAW_SCHEMA",
    "TRUTH_COLUMNS",
    "TRUTH_SCHEMA",
    "generate",
    "iter_tables",
]
