"""Load generated tables into PostgreSQL with COPY (schemas ``raw`` and ``truth``)."""

from __future__ import annotations

import io
from collections.abc import Iterator

import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from orchestration.generate.contract import schema_of
from orchestration.generate.loading import (
    Mode,
    OnLoaded,
    Tables,
    check_mode,
    is_truth,
    table_items,
)

COPY_BATCH_ROWS = 50_000
_CSV_OPTIONS = pacsv.WriteOptions(include_header=False, quoting_style="needed")


def ensure_database(conninfo: str) -> bool:
    """Create the database named in ``conninfo`` if missing (via the ``postgres`` database).
    Returns whether it was created."""
    params = conninfo_to_dict(conninfo)
    database = params.get("dbname") or params.get("user") or "postgres"
    admin = make_conninfo(conninfo, dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as connection:
        rows = connection.execute(
            "select 1 from pg_database where datname = %s", [database]
        ).fetchall()
        if rows:
            return False
        connection.execute(
            sql.SQL("create database {}").format(sql.Identifier(database))
        )
        return True


def load_postgres(
    tables: Tables,
    conninfo: str,
    raw_schema: str = "raw",
    mode: Mode = "replace",
    on_loaded: OnLoaded | None = None,
) -> dict[str, int]:
    """Write tables to the database at ``conninfo``; returns rows loaded per table.

    Columns are ``text`` and ``_loaded_at`` is ``timestamptz``. ``replace`` drops and
    recreates each table (one transaction per table); ``append`` copies into existing
    tables (creating missing ones). Truth rows already present are not appended twice.
    """
    mode = check_mode(mode)
    loaded: dict[str, int] = {}
    with psycopg.connect(conninfo) as connection:
        schemas_created: set[str] = set()
        for name, table in table_items(tables):
            schema = schema_of(name, raw_schema)
            if schema not in schemas_created:
                connection.execute(
                    sql.SQL("create schema if not exists {}").format(
                        sql.Identifier(schema)
                    )
                )
                schemas_created.add(schema)
            _load_table(connection, schema, name, table, mode)
            connection.commit()
            loaded[name] = table.num_rows
            if on_loaded:
                on_loaded(name, table.num_rows)
    return loaded


def _column_type(field: pa.Field) -> sql.SQL:
    if pa.types.is_timestamp(field.type):
        return sql.SQL("timestamptz" if field.type.tz else "timestamp")
    return sql.SQL("text")


def _columns_ddl(table: pa.Table) -> sql.Composed:
    return sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(field.name), _column_type(field))
        for field in table.schema
    )


def _exists(connection: psycopg.Connection, schema: str, name: str) -> bool:
    rows = connection.execute(
        "select 1 from information_schema.tables where table_schema = %s and table_name = %s",
        [schema, name],
    ).fetchall()
    return bool(rows)


def _load_table(
    connection: psycopg.Connection, schema: str, name: str, table: pa.Table, mode: Mode
) -> None:
    target = sql.Identifier(schema, name)
    if mode == "replace":
        connection.execute(sql.SQL("drop table if exists {}").format(target))
    if mode == "replace" or not _exists(connection, schema, name):
        connection.execute(
            sql.SQL("create table {} ({})").format(target, _columns_ddl(table))
        )
        _copy(connection, target, table)
    elif is_truth(name):
        incoming = sql.Identifier(f"incoming_{name}")
        connection.execute(
            sql.SQL("create temporary table {} (like {}) on commit drop").format(
                incoming, target
            )
        )
        _copy(connection, incoming, table)
        connection.execute(
            sql.SQL("insert into {} select * from {} except select * from {}").format(
                target, incoming, target
            )
        )
    else:
        _copy(connection, target, table)


def _copy(
    connection: psycopg.Connection, target: sql.Identifier, table: pa.Table
) -> None:
    columns = sql.SQL(", ").join(
        sql.Identifier(column) for column in table.column_names
    )
    statement = sql.SQL("copy {} ({}) from stdin with (format csv)").format(
        target, columns
    )
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        for chunk in _csv_chunks(table):
            copy.write(chunk)


def _csv_chunks(table: pa.Table) -> Iterator[bytes]:
    """CSV without header, nulls unquoted and strings quoted (so '' stays '' in COPY)."""
    for batch in table.to_batches(max_chunksize=COPY_BATCH_ROWS):
        buffer = io.BytesIO()
        pacsv.write_csv(batch, buffer, _CSV_OPTIONS)
        yield buffer.getvalue()
