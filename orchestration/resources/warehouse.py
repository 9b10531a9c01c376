"""The warehouse (DuckDB file or PostgreSQL database) as a Dagster resource.

``WarehouseResource.connect()`` yields a ``WarehouseConnection``: one small API over both
engines (``?`` placeholders, ``fetchall`` only, explicit transactions, bulk loading of
temporary tables) so the sync engine's SQL is written once.

Settings come from ``orchestration.warehouse`` (the one place reading them, mirroring
profiles.yml): target ``dev`` is DuckDB at ``CDP_DUCKDB_PATH`` (default
``.cdp/cdp.duckdb``, relative to the project folder); target ``pg`` is PostgreSQL from
``CDP_PG_HOST`` / ``CDP_PG_PORT`` / ``CDP_PG_USER`` / ``CDP_PG_PASSWORD`` /
``CDP_PG_DATABASE``. Fields set on the resource win over the environment.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import duckdb
import psycopg
import pyarrow as pa
from dagster import ConfigurableResource
from psycopg import sql
from pydantic import Field
from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_exponential

from orchestration.syncs.errors import ConfigError
from orchestration.warehouse import PostgresSettings, Warehouse, warehouse_for

Dialect = Literal["duckdb", "postgres"]
TARGET_DIALECTS: dict[str, Dialect] = {"dev": "duckdb", "pg": "postgres"}
_PLACEHOLDER = re.compile(r"\?")
_ARROW_TYPES: dict[str, pa.DataType] = {
    "varchar": pa.string(),
    "integer": pa.int32(),
    "bigint": pa.int64(),
    "timestamp": pa.timestamp("us"),
    "boolean": pa.bool_(),
}
# Arrow types of warehouse column types (PostgreSQL or DuckDB names, lower case, without
# a length), for columns read as Python values: every batch of a sync then gets one schema
# instead of one inferred from its values (a decimal's precision, a column of nulls).
_ARROW_BY_TYPE_NAME: dict[str, pa.DataType] = {
    **dict.fromkeys(["text", "varchar", "bpchar", "character varying", "character", "name"],
                    pa.string()),
    **dict.fromkeys(["int2", "int4", "int8", "smallint", "integer", "bigint", "tinyint",
                     "utinyint", "usmallint", "uinteger"], pa.int64()),
    **dict.fromkeys(["float4", "float8", "real", "double precision", "float", "double"],
                    pa.float64()),
    **dict.fromkeys(["bool", "boolean"], pa.bool_()),
    "date": pa.date32(),
    **dict.fromkeys(["timestamp", "timestamp without time zone"], pa.timestamp("us")),
    **dict.fromkeys(["timestamptz", "timestamp with time zone"], pa.timestamp("us", "UTC")),
    **dict.fromkeys(["time", "time without time zone"], pa.time64("us")),
}
_DECIMAL_TYPE = re.compile(r"(?:numeric|decimal)\((\d+), ?(\d+)\)")
_TYPE_LENGTH = re.compile(r"\(\d+\)$")


def arrow_type(type_name: str) -> pa.DataType | None:
    """The Arrow type of a column of warehouse type ``type_name``; None when the values
    decide (arrays, JSON, UUID, a numeric without precision...)."""
    name = type_name.strip().lower()
    decimal_type = _DECIMAL_TYPE.fullmatch(name)
    if decimal_type:
        precision, scale = int(decimal_type.group(1)), int(decimal_type.group(2))
        return pa.decimal128(precision, scale) if 0 < precision <= 38 else None
    return _ARROW_BY_TYPE_NAME.get(_TYPE_LENGTH.sub("", name))


# DuckDB types whose Arrow form gives back the Python value ``fetchall`` gives (HUGEINT
# would become a decimal, MAP a list of pairs, INTERVAL a month-day-nano tuple...).
_ARROW_FAITHFUL_DUCKDB_TYPE = re.compile(
    r"BOOLEAN|U?(TINYINT|SMALLINT|INTEGER|BIGINT)|FLOAT|DOUBLE|DECIMAL\(\d+, ?\d+\)|VARCHAR"
    r"|DATE|TIME|TIMESTAMP|TIMESTAMP WITH TIME ZONE|UUID|BLOB"
)


class WarehouseConnection:
    """One open connection to the warehouse."""

    def __init__(self, dialect: Dialect, raw: Any, description: str) -> None:
        self.dialect: Dialect = dialect
        self.raw = raw
        self.description = description
        self._in_transaction = False

    # -- statements -----------------------------------------------------------------------
    def _sql(self, statement: str) -> str:
        return _PLACEHOLDER.sub("%s", statement) if self.dialect == "postgres" else statement

    def execute(self, statement: str, params: Sequence[Any] = ()) -> None:
        if self.dialect == "duckdb":
            self.raw.execute(statement, list(params)) if params else self.raw.execute(statement)
            return
        self.raw.execute(self._sql(statement) if params else statement, params or None)

    def fetchall(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        if self.dialect == "duckdb":
            cursor = self.raw.execute(statement, list(params)) if params else self.raw.execute(
                statement
            )
            return cursor.fetchall()
        return self.raw.execute(
            self._sql(statement) if params else statement, params or None
        ).fetchall()

    def fetch_arrow(self, statement: str, params: Sequence[Any] = ()) -> pa.Table | None:
        """The result as an Arrow table, or None (nothing run) when the engine cannot hand
        one over with the values ``fetchall`` would give: PostgreSQL, or a DuckDB result
        with a column of a type outside the plain scalar ones (then use ``fetchall``)."""
        if self.dialect != "duckdb":
            return None
        relation = self.raw.sql(statement, params=list(params)) if params else self.raw.sql(
            statement
        )
        if not all(_ARROW_FAITHFUL_DUCKDB_TYPE.fullmatch(str(kind)) for kind in relation.types):
            return None
        to_arrow = getattr(relation, "to_arrow_table", None) or relation.arrow  # duckdb 1.x
        return to_arrow()

    def fetch_typed(
        self, statement: str, params: Sequence[Any] = ()
    ) -> tuple[list[tuple[Any, ...]], list[pa.DataType | None]]:
        """``fetchall`` with the Arrow type of each result column (``arrow_type``)."""
        if self.dialect == "duckdb":
            cursor = self.raw.execute(statement, list(params)) if params else self.raw.execute(
                statement
            )
            names = [str(column[1]) for column in cursor.description]
        else:
            cursor = self.raw.execute(self._sql(statement) if params else statement,
                                      params or None)
            names = [getattr(column, "type_display", "") for column in cursor.description]
        return cursor.fetchall(), [arrow_type(name) for name in names]

    def scalar(self, statement: str, params: Sequence[Any] = ()) -> Any:
        rows = self.fetchall(statement, params)
        return rows[0][0] if rows else None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All statements inside commit together or not at all."""
        if self._in_transaction:
            yield
            return
        self._in_transaction = True
        try:
            if self.dialect == "duckdb":
                self.raw.begin()
                try:
                    yield
                except BaseException:
                    self.raw.rollback()
                    raise
                self.raw.commit()
            else:
                with self.raw.transaction():
                    yield
        finally:
            self._in_transaction = False

    # -- helpers --------------------------------------------------------------------------
    @property
    def text_type(self) -> str:
        """Type of the engine's key columns: bytewise ordering on PostgreSQL, where the
        database's default (linguistic) collation makes sorts and indexes several times
        slower and buys nothing for keys and hashes."""
        return 'varchar collate "C"' if self.dialect == "postgres" else "varchar"

    def key_sql(self, expression: str) -> str:
        """``expression`` as a key string with ``text_type``'s collation."""
        if self.dialect == "postgres":
            return f'cast({expression} as varchar) collate "C"'
        return f"cast({expression} as varchar)"

    def quote(self, identifier: str) -> str:
        return '"' + identifier.replace('"', '""') + '"'

    def relation_columns(self, schema: str, name: str) -> list[str] | None:
        """Column names of ``schema.name`` in table order, or None when it does not exist."""
        if self.dialect == "duckdb":
            statement = (
                "select column_name from duckdb_columns()"
                " where database_name = current_database() and schema_name = ?"
                " and table_name = ? order by column_index"
            )
        else:
            statement = (
                "select column_name from information_schema.columns"
                " where table_schema = ? and table_name = ? order by ordinal_position"
            )
        rows = self.fetchall(statement, (schema, name))
        return [row[0] for row in rows] or None

    def json_object_sql(self, pairs: Sequence[tuple[str, str]]) -> str:
        """SQL text of a JSON object (as varchar) from ``(key, sql expression)`` pairs."""
        arguments = ", ".join(f"'{key}', {expression}" for key, expression in pairs)
        if self.dialect == "duckdb":
            return f"cast(json_object({arguments}) as varchar)"
        return f"cast(json_build_object({arguments}) as varchar)"

    def load_temp_table(
        self, name: str, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]]
    ) -> None:
        """(Re)create temporary table ``name`` with typed ``columns`` holding ``rows``."""
        column_sql = ", ".join(f"{self.quote(column)} {kind}" for column, kind in columns)
        self.execute(f"drop table if exists {name}")
        self.execute(f"create temp table {name} ({column_sql})")
        if not rows:
            return
        if self.dialect == "duckdb":
            arrow = pa.table({
                column: pa.array([row[index] for row in rows], type=_ARROW_TYPES[kind])
                for index, (column, kind) in enumerate(columns)
            })
            view = f"{name}_arrow"
            self.raw.register(view, arrow)
            try:
                self.raw.execute(f"insert into {name} select * from {view}")
            finally:
                self.raw.unregister(view)
            return
        copy = sql.SQL("copy {} ({}) from stdin").format(
            sql.Identifier(name), sql.SQL(", ").join(sql.Identifier(c) for c, _ in columns)
        )
        with self.raw.cursor() as cursor, cursor.copy(copy) as writer:
            for row in rows:
                writer.write_row(row)

    @contextmanager
    def deferred_checkpoints(self, wal_size: str = "1GB") -> Iterator[None]:
        """Bulk writes: DuckDB checkpoints (rewrites tables and indexes into the file) once
        its write-ahead log passes 16 MB, so a sync writing state row by row range would
        checkpoint every few batches; inside this block it lets the log grow to
        ``wal_size`` and checkpoints once, later (the next commit past the usual size, or
        the last connection closing). Commits stay durable: the log is fsynced on every
        commit. PostgreSQL: nothing to do."""
        if self.dialect != "duckdb":
            yield
            return
        previous = self.scalar("select current_setting('checkpoint_threshold')")
        self.execute(f"set checkpoint_threshold = '{wal_size}'")
        try:
            yield
        finally:
            self.execute(f"set checkpoint_threshold = '{previous}'")

    def index_temp_table(self, name: str, column: str) -> None:
        """Make range lookups on ``column`` of temporary table ``name`` cheap: an index on
        PostgreSQL (without statistics, its planner assumes a range selects few rows and
        uses it); nothing on DuckDB, whose zone maps skip the row groups of a table written
        in that order."""
        if self.dialect == "postgres":
            self.execute(f"create index on {name} ({self.quote(column)})")

    def try_lock(self, key: str) -> bool:
        """A session lock per sync (PostgreSQL); DuckDB files allow one writer anyway."""
        if self.dialect != "postgres":
            return True
        return bool(self.scalar("select pg_try_advisory_lock(hashtext(?))", (key,)))

    def unlock(self, key: str) -> None:
        if self.dialect == "postgres":
            self.fetchall("select pg_advisory_unlock(hashtext(?))", (key,))

    def close(self) -> None:
        self.raw.close()


def connect_duckdb(path: str | Path, lock_timeout_seconds: float = 30.0) -> WarehouseConnection:
    """Open the DuckDB file, waiting while another process (dbt, another sync) holds it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    retrying = Retrying(
        stop=stop_after_delay(lock_timeout_seconds),
        wait=wait_exponential(multiplier=0.1, max=2),
        retry=retry_if_exception(
            lambda error: isinstance(error, duckdb.IOException) and "lock" in str(error)
        ),
        reraise=True,
    )
    raw = retrying(duckdb.connect, str(path))
    return WarehouseConnection("duckdb", raw, f"duckdb:{path}")


# Memory per sort or hash of the engine's session: the planner sorts and hashes whole
# audiences (the 4 MB default spills a 200k-row sort to disk). A higher setting is kept.
SESSION_WORK_MEM_KB = 64 * 1024


def connect_postgres(conninfo: str) -> WarehouseConnection:
    raw = psycopg.connect(conninfo, autocommit=True, options="-c TimeZone=UTC")
    work_mem_kb = raw.execute(
        "select setting::bigint from pg_settings where name = 'work_mem'"
    ).fetchone()
    if work_mem_kb is not None and work_mem_kb[0] < SESSION_WORK_MEM_KB:
        raw.execute(f"set work_mem = '{SESSION_WORK_MEM_KB}kB'")
    params = raw.info.get_parameters()
    return WarehouseConnection(
        "postgres", raw, f"postgres:{params.get('host')}/{params.get('dbname')}"
    )


class WarehouseResource(ConfigurableResource):
    """The CDP warehouse the dbt project builds (DuckDB ``dev`` or PostgreSQL ``pg``)."""

    target: str = Field(
        default_factory=lambda: os.environ.get("DBT_TARGET", "dev"),
        description="dbt target: dev (DuckDB) or pg (PostgreSQL).",
    )
    project_dir: str | None = Field(
        default=None, description="Folder relative DuckDB paths start from (default: cwd)."
    )
    duckdb_path: str | None = Field(default=None, description="Default: env CDP_DUCKDB_PATH.")
    duckdb_lock_timeout_seconds: float = Field(
        default=30.0, ge=0, description="How long to wait for a DuckDB file another process "
        "holds (DuckDB allows one writing process)."
    )
    pg_host: str | None = Field(default=None, description="Default: env CDP_PG_HOST.")
    pg_port: int | None = Field(default=None, description="Default: env CDP_PG_PORT.")
    pg_user: str | None = Field(default=None, description="Default: env CDP_PG_USER.")
    pg_password: str | None = Field(default=None, description="Default: env CDP_PG_PASSWORD.")
    pg_database: str | None = Field(default=None, description="Default: env CDP_PG_DATABASE.")

    @property
    def dialect(self) -> Dialect:
        if self.target not in TARGET_DIALECTS:
            raise ConfigError(
                "profiles.yml", f"outputs.{self.target}",
                f"unknown target {self.target!r}; expected one of {sorted(TARGET_DIALECTS)}",
            )
        return TARGET_DIALECTS[self.target]

    @classmethod
    def for_warehouse(cls, warehouse: Warehouse) -> WarehouseResource:
        """The resource for settings resolved by ``orchestration.warehouse``."""
        if warehouse.engine == "duckdb":
            return cls(target=warehouse.target, project_dir=str(warehouse.project_dir),
                       duckdb_path=str(warehouse.duckdb_path))
        settings = warehouse.postgres or PostgresSettings.from_env()
        return cls(target=warehouse.target, project_dir=str(warehouse.project_dir),
                   pg_host=settings.host, pg_port=settings.port, pg_user=settings.user,
                   pg_password=settings.password, pg_database=settings.database)

    def duckdb_file(self) -> Path:
        if self.duckdb_path:
            path = Path(self.duckdb_path).expanduser()
            if not path.is_absolute() and self.project_dir:
                path = Path(self.project_dir) / path
            return path
        project_dir = Path(self.project_dir) if self.project_dir else None
        resolved = warehouse_for(self.target, project_dir).duckdb_path
        assert resolved is not None
        return resolved

    def pg_conninfo(self) -> str:
        defaults = PostgresSettings.from_env()
        settings = PostgresSettings(
            host=self.pg_host or defaults.host,
            port=self.pg_port or defaults.port,
            user=self.pg_user or defaults.user,
            password=self.pg_password if self.pg_password is not None else defaults.password,
            database=self.pg_database or defaults.database,
        )
        return settings.conninfo()

    def open(self) -> WarehouseConnection:
        if self.dialect == "duckdb":
            return connect_duckdb(self.duckdb_file(), self.duckdb_lock_timeout_seconds)
        return connect_postgres(self.pg_conninfo())

    @contextmanager
    def connect(self) -> Iterator[WarehouseConnection]:
        connection = self.open()
        try:
            yield connection
        finally:
            connection.close()
