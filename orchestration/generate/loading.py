"""What both loaders share: accepted inputs, modes, progress callbacks."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from queue import Full, Queue
from threading import Event, Thread
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


_DONE = object()


def prefetched(
    pairs: Iterable[tuple[str, pa.Table]], depth: int = 1
) -> Iterator[tuple[str, pa.Table]]:
    """Generate the next table in a background thread while the current one loads.

    numpy, pyarrow and the database drivers release the GIL, so generation and loading
    overlap on a multi-core machine. At most ``depth`` tables wait in memory. Errors in
    the generator are raised in the consumer.
    """
    queue: Queue = Queue(maxsize=depth)
    stop = Event()

    def put(item: object) -> bool:
        """Hand an item over unless the consumer went away."""
        while not stop.is_set():
            try:
                queue.put(item, timeout=0.1)
                return True
            except Full:
                continue
        return False

    def produce() -> None:
        try:
            for pair in pairs:
                if not put(pair):
                    return
            put(_DONE)
        except BaseException as error:  # noqa: BLE001 - re-raised in the consumer
            put(error)

    worker = Thread(target=produce, name="generate-tables", daemon=True)
    worker.start()
    try:
        while (item := queue.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
