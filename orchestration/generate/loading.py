"""What both loaders share: accepted inputs, modes, progress callbacks."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Literal

import pyarrow as pa

from orchestration.generate.contract import RAW_COLUMNS, TRUTH_COLUMNS

Mode = Literal["replace", "append"]
MODES: tuple[Mode, ...] = ("replace", "append")
Tables = Mapping[str, pa.Table] | Iterable[tuple[str, pa.Table]]
OnLoaded = Callable[[str, int], None]  # (table name, rows loaded)


def table_items(tables: Tables) -> Iterator[tuple[str, pa.Table]]:
    """(name, table) pairs from a dict or an iterator such as ``iter_tables``."""
    pairs = tables.items() if isinstance(tables, Mapping) else tables
    for name, table in pairs:
        if name not in RAW_COLUMNS and name not in TRUTH_COLUMNS:
            raise ValueError(
                f"unknown table {name!r}: not in the raw contract nor truth"
            )
        yield name, table


def check_mode(mode: str) -> Mode:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    return mode  # type: ignore[return-value]


def is_truth(name: str) -> bool:
    return name in TRUTH_COLUMNS
