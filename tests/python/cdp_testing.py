"""Test harness: a throw-away warehouse (DuckDB file, PostgreSQL database or in-process Spark
catalog) that tests load through the public raw contract and build with dbt, exactly as
users do."""

from __future__ import annotations

import contextlib
import datetime
import importlib.util
import os
import shutil
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pyarrow

PROJECT_DIR = Path(__file__).resolve().parents[2]

RAW_CONTRACT: dict[str, list[str]] = {
    "crm_members": ["member_id", "member_card_no", "name", "email", "phone", "gender",
                    "birthday", "city", "registered_at", "updated_at"],
    "ecom_orders": ["order_id", "member_id", "buyer_email", "buyer_phone", "platform", "order_ts",
                    "status", "total_amount", "discount_amount", "currency", "shipping_city"],
    "ecom_order_items": ["order_id", "line_no", "sku", "product_name", "category", "quantity",
                         "unit_price"],
    "web_events": ["event_id", "anonymous_id", "user_id", "event_name", "page_url", "utm_source",
                   "event_ts", "properties"],
    "app_events": ["event_id", "device_id", "user_id", "platform", "app_version", "event_name",
                   "event_ts", "properties"],
    "pos_transactions": ["txn_id", "store_id", "member_card_no", "phone", "txn_ts", "amount",
                         "discount_amount", "items_count"],
    "wechat_followers": ["openid", "unionid", "phone", "nickname", "city", "subscribed_at",
                         "unsubscribed_at"],
    "service_tickets": ["ticket_id", "member_id", "phone", "email", "channel", "category",
                        "created_at", "resolved_at", "satisfaction"],
    "consent_events": ["consent_event_id", "identifier_type", "identifier_value", "channel",
                       "purpose", "status", "event_ts", "source"],
    "deletion_requests": ["request_id", "identifier_type", "identifier_value", "requested_at"],
}

PG_SETTINGS = {
    "host": os.environ.get("CDP_PG_HOST", "127.0.0.1"),
    "port": int(os.environ.get("CDP_PG_PORT", "5432")),
    "user": os.environ.get("CDP_PG_USER", "postgres"),
    "password": os.environ.get("CDP_PG_PASSWORD", ""),
}

Rows = Mapping[str, Sequence[Mapping[str, Any]]]


def services_required() -> bool:
    """In CI (.ci/run sets CDP_REQUIRE_SERVICES=1) a missing server is a failure, not a skip."""
    return os.environ.get("CDP_REQUIRE_SERVICES") == "1"


def spark_missing() -> str | None:
    """Why Spark cannot run here (None when it can): the `spark` extra and a Java runtime."""
    if importlib.util.find_spec("pyspark") is None or importlib.util.find_spec(
            "dbt.adapters.spark") is None:
        return "pyspark / dbt-spark are not installed (pip install -e '.[spark]')"
    java_home = os.environ.get("JAVA_HOME")
    if shutil.which("java") is None and not (java_home and Path(java_home, "bin", "java").exists()):
        return "no Java runtime for Spark (no java on PATH or in JAVA_HOME; needs Java 17+)"
    return None


def postgres_answers() -> bool:
    try:
        with psycopg.connect(dbname="postgres", connect_timeout=3, **PG_SETTINGS):
            return True
    except psycopg.OperationalError:
        return False


@contextlib.contextmanager
def patched_environ(values: Mapping[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


# The columns of raw.web_events (the public raw contract).
WEB_EVENT_COLUMNS = ("event_id", "anonymous_id", "user_id", "event_name", "page_url",
                     "utm_source", "event_ts", "properties")


class Warehouse:
    """One isolated warehouse: a DuckDB file in a temp dir, a fresh PostgreSQL database, or
    a Spark catalog in a temp dir (one per test process: a Spark session's warehouse folder
    is fixed when it starts)."""

    def __init__(self, target: str, workdir: Path, *, template: str | None = None) -> None:
        """``template``: on PostgreSQL, a database to copy (see ``clone``)."""
        self.target = target
        self.workdir = workdir
        self.duckdb_path = workdir / "cdp.duckdb"
        self.pg_database = f"cdp_test_{uuid.uuid4().hex[:10]}"
        self.spark_dir = workdir / "spark"
        self.env = {
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
            "DBT_TARGET_PATH": str(workdir / "target"),
            "DBT_LOG_PATH": str(workdir / "logs"),
            "CDP_DUCKDB_PATH": str(self.duckdb_path),
            "CDP_PG_DATABASE": self.pg_database,
            "CDP_SPARK_DIR": str(self.spark_dir),
            # One process loads, builds and reads: Spark's catalog can stay in memory.
            "CDP_SPARK_CATALOG": "in-memory",
            # Fixtures of a few hundred people: dbt's own work per node dominates; two
            # threads overlap it, whatever profiles.yml's default.
            "CDP_DUCKDB_DBT_THREADS": "2",
        }
        if target == "pg":
            copy_of = f' template "{template}"' if template else ""
            with psycopg.connect(dbname="postgres", autocommit=True, **PG_SETTINGS) as conn:
                conn.execute(f'create database "{self.pg_database}"{copy_of}')

    def clone(self, workdir: Path) -> Warehouse:
        """A copy of this warehouse, data and all, for a test that changes it: the DuckDB
        file copied, or a PostgreSQL database created from this one as its template."""
        if self.target == "pg":
            return Warehouse(self.target, workdir, template=self.pg_database)
        self.query("checkpoint")
        workdir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.duckdb_path, workdir / self.duckdb_path.name)
        return Warehouse(self.target, workdir)

    def drop(self) -> None:
        if self.target == "pg":
            with psycopg.connect(dbname="postgres", autocommit=True, **PG_SETTINGS) as conn:
                conn.execute(f'drop database if exists "{self.pg_database}" with (force)')
        if self.target == "spark":
            from orchestration.generate.spark_loader import stop_spark_session

            stop_spark_session()

    def spark_session(self) -> Any:
        """The process's Spark session on this warehouse's folder (started on first use,
        as dbt-spark's `session` method starts it, from profiles.yml)."""
        from orchestration.generate.spark_loader import spark_session
        from orchestration.warehouse import SparkSettings

        settings = SparkSettings.for_target(PROJECT_DIR, self.target, {**os.environ, **self.env})
        session = spark_session(settings.session_conf)
        started_in = session.conf.get("spark.sql.warehouse.dir")
        if not started_in.rstrip("/").endswith(str(settings.directory / "warehouse")):
            raise RuntimeError(f"this process's Spark session already uses {started_in}; "
                               "one Spark warehouse per test process")
        return session

    # --- data in and out -------------------------------------------------------------
    def query(self, sql: str) -> list[tuple[Any, ...]]:
        if self.target == "spark":
            # Through Arrow: timestamps arrive as UTC, whatever this process's time zone.
            table = self.spark_session().sql(sql).toArrow()
            columns = [column.to_pylist() for column in table.columns]
            return [tuple(_naive_utc(value) for value in row) for row in zip(*columns)]
        if self.target == "pg":
            with psycopg.connect(dbname=self.pg_database, **PG_SETTINGS) as conn:
                return conn.execute(sql).fetchall()
        conn = duckdb.connect(str(self.duckdb_path))
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()

    def raw_row(self, table: str, columns: Sequence[str], where: str) -> dict[str, Any]:
        """The one row of raw.``table`` matching ``where``, as {column: value}: a raw row
        to append again with some values changed."""
        (row,) = self.query(f"select {', '.join(columns)} from raw.{table} where {where}")
        return dict(zip(columns, row, strict=True))

    def execute(self, sql: str) -> None:
        """Run a statement that returns no rows (an update, a delete), committed."""
        if self.target == "pg":
            with psycopg.connect(dbname=self.pg_database, **PG_SETTINGS) as conn:
                conn.execute(sql)
            return
        if self.target == "spark":
            self.spark_session().sql(sql)
            return
        conn = duckdb.connect(str(self.duckdb_path))
        try:
            conn.execute(sql)
        finally:
            conn.close()

    def load_raw(self, rows: Rows, *, append: bool = False) -> None:
        """Write raw contract tables (every column text). Tables not given are created empty."""
        if self.target == "spark":
            raise NotImplementedError("load_raw: use load_generated on Spark")
        statements: list[tuple[str, list[list[Any]]]] = []
        for table, columns in RAW_CONTRACT.items():
            given = rows.get(table, [])
            unknown = {key for row in given for key in row} - set(columns)
            if unknown:
                raise ValueError(f"raw.{table}: columns not in the contract: {sorted(unknown)}")
            values = [[None if row.get(c) is None else str(row.get(c)) for c in columns]
                      for row in given]
            statements.append((table, values))
        if self.target == "pg":
            with psycopg.connect(dbname=self.pg_database, **PG_SETTINGS) as conn:
                conn.execute("create schema if not exists raw")
                for table, values in statements:
                    if not append:
                        conn.execute(f"drop table if exists raw.{table}")
                    cols = ", ".join(f"{c} text" for c in RAW_CONTRACT[table])
                    conn.execute(f"create table if not exists raw.{table} ({cols})")
                    names = ", ".join(RAW_CONTRACT[table])
                    with conn.cursor().copy(f"copy raw.{table} ({names}) from stdin") as copy:
                        for value_row in values:
                            copy.write_row(value_row)
            return
        conn = duckdb.connect(str(self.duckdb_path))
        try:
            conn.execute("create schema if not exists raw")
            for table, values in statements:
                if not append:
                    conn.execute(f"drop table if exists raw.{table}")
                cols = ", ".join(f"{c} varchar" for c in RAW_CONTRACT[table])
                conn.execute(f"create table if not exists raw.{table} ({cols})")
                if values:
                    # One Arrow insert: executemany takes ~10 ms a row on DuckDB.
                    columns = RAW_CONTRACT[table]
                    arrow_rows = pyarrow.table(
                        {c: pyarrow.array([row[i] for row in values], pyarrow.string())
                         for i, c in enumerate(columns)}
                    )
                    conn.register("_cdp_raw_rows", arrow_rows)
                    # Named columns: loaded tables may carry more (the generator's _loaded_at).
                    conn.execute(f"insert into raw.{table} ({', '.join(columns)})"
                                 " select * from _cdp_raw_rows")
                    conn.unregister("_cdp_raw_rows")
        finally:
            conn.close()

    def load_generated(self, people: int, seed: int = 42, batch: int = 0,
                       mode: str = "replace") -> dict[str, int]:
        """Load the demo generator's tables (raw contract + truth) through its own loaders."""
        from psycopg.conninfo import make_conninfo

        from orchestration.generate import generate
        from orchestration.generate.duckdb_loader import load_duckdb
        from orchestration.generate.postgres_loader import load_postgres

        tables = generate(people=people, seed=seed, batch=batch)
        if self.target == "spark":
            from orchestration.generate.spark_loader import load_spark

            return load_spark(tables, self.spark_session(), mode=mode)
        if self.target == "pg":
            return load_postgres(tables, make_conninfo(dbname=self.pg_database, **PG_SETTINGS),
                                 mode=mode)
        return load_duckdb(tables, self.duckdb_path, mode=mode)

    # --- dbt -----------------------------------------------------------------------
    def dbt(self, *args: str) -> Any:
        from dbt.cli.main import dbtRunner

        command = [*args, "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
                   "--target", self.target]
        with patched_environ(self.env):
            result = dbtRunner().invoke(command)
        if not result.success:
            failures = []
            for node_result in getattr(result.result, "results", None) or []:
                if str(node_result.status) not in ("success", "pass", "skipped"):
                    failures.append(f"{node_result.node.unique_id}: {node_result.message}")
            raise AssertionError(f"dbt {' '.join(args)} failed on {self.target}: "
                                 f"{result.exception or ''} {failures[:10]}")
        return result

    def build(self, *extra: str) -> Any:
        return self.dbt("build", *extra)


def _naive_utc(value: Any) -> Any:
    """A time-zone-aware datetime as naive UTC (what DuckDB and PostgreSQL return)."""
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        return value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return value
