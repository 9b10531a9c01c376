"""Load generated tables into Spark tables (databases ``raw`` and ``truth``), parquet in the
session's warehouse folder, through the same Spark session dbt-spark uses in-process.

Needs the ``spark`` extra (``pip install -e '.[spark]'``) and Java 17+.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

FILE_FORMAT = "parquet"


def spark_session(conf: Mapping[str, str]) -> SparkSession:
    """The process's Spark session (created with ``conf`` on first use, as dbt-spark's
    ``session`` method does; static settings such as the warehouse folder cannot change
    afterwards in the same process)."""
    from pyspark.sql import SparkSession

    # Read when the JVM starts: bind to the loopback interface, not the host's address.
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = SparkSession.builder.enableHiveSupport()
    for key, value in conf.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def stop_spark_session() -> None:
    """Stop the process's Spark session, if one was started (frees the JVM's memory)."""
    from pyspark.sql import SparkSession

    session = SparkSession.getActiveSession()
    if session is not None:
        session.stop()


def _quote(identifier: str) -> str:
    return "`" + identifier.replace("`", "``") + "`"


def load_spark(
    tables: Tables,
    session: SparkSession,
    raw_schema: str = "raw",
    mode: Mode = "replace",
    on_loaded: OnLoaded | None = None,
) -> dict[str, int]:
    """Write tables as parquet tables of ``session``'s catalog; returns rows per table.

    ``replace`` recreates each table; ``append`` inserts into existing tables (creating
    missing ones). Truth rows already present are not appended twice.
    """
    mode = check_mode(mode)
    loaded: dict[str, int] = {}
    schemas_created: set[str] = set()
    for name, table in table_items(tables):
        schema = schema_of(name, raw_schema)
        if schema not in schemas_created:
            session.sql(f"create database if not exists {_quote(schema)}")
            schemas_created.add(schema)
        _load_table(session, schema, name, table, mode)
        loaded[name] = table.num_rows
        if on_loaded:
            on_loaded(name, table.num_rows)
    return loaded


def _load_table(
    session: SparkSession, schema: str, name: str, table: pa.Table, mode: Mode
) -> None:
    target = f"{_quote(schema)}.{_quote(name)}"
    incoming = _data_frame(session, table)
    exists = session.catalog.tableExists(f"{schema}.{name}")
    if mode == "replace" or not exists:
        session.sql(f"drop table if exists {target}")
        incoming.write.format(FILE_FORMAT).saveAsTable(target)
        return
    if is_truth(name):
        incoming = incoming.subtract(session.table(target))
    incoming.write.format(FILE_FORMAT).mode("append").saveAsTable(target)


def _data_frame(session: SparkSession, table: pa.Table) -> DataFrame:
    """An Arrow table as a Spark DataFrame, column names and types kept (Arrow transfer)."""
    frame = session.createDataFrame(table)
    # One partition per core is plenty for raw tables: fewer, larger parquet files.
    return frame.coalesce(max(1, session.sparkContext.defaultParallelism))
