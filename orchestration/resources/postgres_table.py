"""PostgreSQL table destination: upsert (and delete) rows keyed by the record key.

The table is created when missing (``create_table: true``): the key column, one ``text``
column per identifier and field (lists and objects as JSON text), and bookkeeping columns
``cdp_sync_key``, ``cdp_idempotency_key``, ``cdp_synced_at``. Columns added to a sync later
are added to the table. Each batch is one transaction: rows are copied into a temporary
table and merged with ``insert ... on conflict``, so re-sending a batch is harmless. A
delete, and a forget batch (right to be forgotten), deletes the rows by key.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import sql
from pydantic import Field

from orchestration.resources.base import (
    BatchResult,
    DestinationResource,
    DestinationSession,
    RetryPolicy,
    SyncBatch,
    jsonable,
)
from orchestration.syncs.errors import ConfigError, DestinationError


def _text(value: Any) -> str | None:
    value = jsonable(value)
    if value is None:
        return None
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


class PostgresDestinationResource(DestinationResource):
    """A table in a PostgreSQL database (a CRM replica, an app's database)."""

    destination_type = "postgres"
    forget_by_key = True

    table: str = Field(description="Target table as schema.table.")
    key_column: str = Field(default="customer_id")
    create_table: bool = Field(default=True)
    conninfo_env: str | None = Field(
        default=None, description="Environment variable holding a libpq conninfo / URL."
    )
    host: str = Field(default="127.0.0.1")
    port: int = Field(default=5432)
    user: str = Field(default="postgres")
    dbname: str = Field(default="postgres")
    password_env: str | None = Field(default=None)
    connect_timeout_seconds: int = Field(default=10, gt=0)

    def conninfo(self) -> str:
        from_env = self.env_value("conninfo_env")
        if from_env:
            return from_env
        return psycopg.conninfo.make_conninfo(
            host=self.host,
            port=self.port,
            user=self.user,
            dbname=self.dbname,
            password=self.env_value("password_env") or None,
            connect_timeout=self.connect_timeout_seconds,
        )

    def qualified_table(self) -> tuple[str, str]:
        parts = self.table.split(".")
        if len(parts) != 2 or not all(parts):
            raise ConfigError(
                self.config_file, f"destinations.{self.name}.table",
                f"expected schema.table, got {self.table!r}",
            )
        return parts[0], parts[1]

    def open_session(self) -> DestinationSession:
        self.check_env()
        schema, table = self.qualified_table()
        policy = self.retry_policy()
        conninfo = self.conninfo()

        def connect() -> psycopg.Connection:
            return policy.call(
                self.name,
                lambda: psycopg.connect(conninfo, autocommit=True),
                is_retryable=lambda error: isinstance(error, psycopg.OperationalError),
            )

        return PostgresTableSession(
            connect,
            name=self.name,
            schema=schema,
            table=table,
            key_column=self.key_column,
            create_table=self.create_table,
            policy=policy,
            rate_limiter=self.rate_limiter(),
        )


class PostgresTableSession(DestinationSession):
    def __init__(
        self,
        connect: Callable[[], psycopg.Connection],
        *,
        name: str,
        schema: str,
        table: str,
        key_column: str,
        create_table: bool,
        policy: RetryPolicy,
        rate_limiter: Any,
    ) -> None:
        self.connect = connect
        self.connection = connect()
        self.name = name
        self.target = sql.Identifier(schema, table)
        self.schema = schema
        self.table = table
        self.key_column = key_column
        self.create_table = create_table
        self.policy = policy
        self.rate_limiter = rate_limiter
        self.known_columns: set[str] | None = None

    def _ensure_columns(self, columns: list[str]) -> None:
        if self.known_columns is None:
            if self.create_table:
                self.connection.execute(
                    sql.SQL("create schema if not exists {}").format(sql.Identifier(self.schema))
                )
                self.connection.execute(sql.SQL(
                    "create table if not exists {} ({} text primary key, cdp_sync_key text,"
                    " cdp_idempotency_key text, cdp_synced_at timestamptz)"
                ).format(self.target, sql.Identifier(self.key_column)))
            rows = self.connection.execute(
                "select column_name from information_schema.columns"
                " where table_schema = %s and table_name = %s",
                (self.schema, self.table),
            ).fetchall()
            if not rows:
                raise DestinationError(
                    self.name, f"table {self.schema}.{self.table} does not exist",
                    rows_rejected=False,
                )
            self.known_columns = {row[0] for row in rows}
        for column in columns:
            if column not in self.known_columns:
                self.connection.execute(sql.SQL("alter table {} add column if not exists {} text")
                                        .format(self.target, sql.Identifier(column)))
                self.known_columns.add(column)

    def send(self, batch: SyncBatch) -> BatchResult:
        self.rate_limiter.acquire()
        try:
            return self.policy.call(
                self.name,
                lambda: self._apply(batch),
                is_retryable=lambda error: isinstance(error, psycopg.OperationalError),
            )
        except (psycopg.DataError, psycopg.IntegrityError) as error:
            raise DestinationError(self.name, f"rows rejected: {error}",
                                   rows_rejected=True) from error

    def _apply(self, batch: SyncBatch) -> BatchResult:
        if self.connection.closed or self.connection.broken:
            self.connection = self.connect()
            self.known_columns = None
        key = self.key_column
        if batch.operation == "delete":
            keys = [record.record_key for record in batch.records]
            self._ensure_columns([])
            self.connection.execute(
                sql.SQL("delete from {} where {} = any(%s)").format(
                    self.target, sql.Identifier(key)
                ),
                (keys,),
            )
            return BatchResult.all_accepted(batch)
        names = [
            name for name in dict.fromkeys([*batch.identifier_names, *batch.field_names])
            if name != key
        ]
        columns = [key, *names, "cdp_sync_key", "cdp_idempotency_key"]
        self._ensure_columns(columns)
        with self.connection.transaction():
            self.connection.execute(
                sql.SQL("create temp table cdp_incoming ({}) on commit drop").format(
                    sql.SQL(", ").join(
                        sql.SQL("{} text").format(sql.Identifier(column)) for column in columns
                    )
                )
            )
            copy = sql.SQL("copy cdp_incoming ({}) from stdin").format(
                sql.SQL(", ").join(map(sql.Identifier, columns))
            )
            with self.connection.cursor() as cursor, cursor.copy(copy) as writer:
                for record in batch.records:
                    values = {**record.fields, **record.identifiers}
                    writer.write_row([
                        record.record_key,
                        *(_text(values.get(name)) for name in names),
                        batch.sync_key,
                        record.idempotency_key,
                    ])
            target_columns = sql.SQL(", ").join(
                map(sql.Identifier, [*columns, "cdp_synced_at"])
            )
            source_columns = sql.SQL(", ").join(map(sql.Identifier, columns))
            if batch.operation == "insert":
                conflict = sql.SQL("do nothing")
            else:
                conflict = sql.SQL("do update set {}").format(sql.SQL(", ").join(
                    sql.SQL("{0} = excluded.{0}").format(sql.Identifier(column))
                    for column in [*columns[1:], "cdp_synced_at"]
                ))
            self.connection.execute(
                sql.SQL(
                    "insert into {} ({}) select {}, now() from cdp_incoming"
                    " on conflict ({}) {}"
                ).format(self.target, target_columns, source_columns, sql.Identifier(key),
                         conflict)
            )
        return BatchResult.all_accepted(batch)

    def close(self) -> None:
        self.connection.close()
