"""Load generated tables into a DuckDB file (schemas ``raw`` and ``truth``)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from orchestration.generate.contract import schema_of
from orchestration.generate.loading import (
    Mode,
    OnLoaded,
    Tables,
    check_mode,
    is_truth,
    table_items,
)

_INCOMING = "cdp_incoming_arrow"


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def load_duckdb(
    tables: Tables,
    path: str | Path,
    raw_schema: str = "raw",
    mode: Mode = "replace",
    on_loaded: OnLoaded | None = None,
) -> dict[str, int]:
    """Write tables to ``path``; returns rows loaded per table.

    ``replace`` recreates each table; ``append`` inserts into existing tables (creating
    missing ones). Truth rows already present are not appended twice.
    """
    mode = check_mode(mode)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    loaded: dict[str, int] = {}
    with duckdb.connect(str(path)) as connection:
        schemas_created: set[str] = set()
        for name, table in table_items(tables):
            schema = schema_of(name, raw_schema)
            if schema not in schemas_created:
                connection.execute(f"create schema if not exists {_quote(schema)}")
                schemas_created.add(schema)
            _load_table(connection, schema, name, table, mode)
            loaded[name] = table.num_rows
            if on_loaded:
                on_loaded(name, table.num_rows)
    return loaded


def _exists(connection: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    rows = connection.execute(
        "select count(*) from information_schema.tables"
        " where table_schema = ? and table_name = ?",
        [schema, name],
    ).fetchall()
    return rows[0][0] > 0


def _load_table(
    connection: duckdb.DuckDBPyConnection,
    schema: str,
    name: str,
    table: pa.Table,
    mode: Mode,
) -> None:
    target = f"{_quote(schema)}.{_quote(name)}"
    connection.register(_INCOMING, table)
    try:
        if mode == "replace" or not _exists(connection, schema, name):
            connection.execute(
                f"create or replace table {target} as select * from {_INCOMING}"
            )
        elif is_truth(name):
            connection.execute(
                f"insert into {target} select * from {_INCOMING} except select * from {target}"
            )
        else:
            connection.execute(
                f"insert into {target} by name select * from {_INCOMING}"
            )
    finally:
        connection.unregister(_INCOMING)
