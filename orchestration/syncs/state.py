"""The engine's own tables in the warehouse, schema ``cdp_sync``.

- ``cdp_sync_state``: what each destination holds per sync (one row per sync and record;
  after a mirror delete the row stays as a tombstone, ``is_removed``, carrying the key
  chain so a returning member gets fresh idempotency keys).
- ``cdp_sync_runs``: one row per run with counts and status.
- ``cdp_sync_row_failures``: rows the destination rejected, with attempts so far.
- ``cdp_sync_dead_letter``: rows rejected ``dead_letter_after_failures`` times; held back
  from normal runs until ``cdp sync replay``.
- ``cdp_sync_in_flight``: write-ahead, the rows of a batch about to leave, deleted when
  the batch's outcome is committed. A row left here (the run was killed, or the
  destination went away after taking the batch) may or may not be at the destination;
  the next run plans it again from the audience (``planning``). One row per sync and
  record, kept so by the engine (it replaces a row an earlier run left): the table only
  ever holds the batches out, so it has no key or index to maintain on every write
  (tables created with a primary key by earlier versions work the same).
- ``cdp_sync_audit``: append-only, one row per batch sent (who, what, payload hash).
- ``sync_events``: closed-loop events read by dbt as a source into ``fct_events``.
- ``cdp_sync_forget_checks``: which forgotten customer-id hashes (privacy tombstones) each
  sync's state was checked for, so a forget pass hashes the state only when a tombstone is
  new (see ``forget``). Salted hashes and sync keys only.

Types are portable (DuckDB and PostgreSQL; on PostgreSQL text columns use the "C"
collation, see ``WarehouseConnection.text_type``); timestamps are UTC without time zone.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from orchestration.resources.warehouse import WarehouseConnection

if TYPE_CHECKING:
    from orchestration.syncs.config import AudienceSync
    from orchestration.syncs.results import SyncResult

SCHEMA = "cdp_sync"
STATE = f"{SCHEMA}.cdp_sync_state"
RUNS = f"{SCHEMA}.cdp_sync_runs"
ROW_FAILURES = f"{SCHEMA}.cdp_sync_row_failures"
DEAD_LETTER = f"{SCHEMA}.cdp_sync_dead_letter"
AUDIT = f"{SCHEMA}.cdp_sync_audit"
IN_FLIGHT = f"{SCHEMA}.cdp_sync_in_flight"
EVENTS = f"{SCHEMA}.sync_events"
FORGET_CHECKS = f"{SCHEMA}.cdp_sync_forget_checks"

DDL: tuple[str, ...] = (
    f"create schema if not exists {SCHEMA}",
    f"""
    create table if not exists {STATE} (
        sync_key {{text}} not null,
        record_key {{text}} not null,
        audience {{text}} not null,
        destination {{text}} not null,
        row_hash {{text}} not null,
        identity_json {{text}},
        idempotency_key {{text}} not null,
        is_removed boolean not null default false,
        first_synced_at timestamp not null,
        synced_at timestamp not null,
        last_run_id {{text}} not null,
        primary key (sync_key, record_key)
    )
    """,
    f"""
    create table if not exists {RUNS} (
        run_id {{text}} primary key,
        sync_key {{text}} not null,
        audience {{text}} not null,
        destination {{text}} not null,
        mode {{text}} not null,
        channel {{text}},
        actor {{text}},
        started_at timestamp not null,
        finished_at timestamp,
        rows_added integer not null default 0,
        rows_changed integer not null default 0,
        rows_removed integer not null default 0,
        rows_failed integer not null default 0,
        rows_suppressed integer not null default 0,
        rows_dead_lettered integer not null default 0,
        suppressed_by_reason {{text}},
        batches_sent integer not null default 0,
        status {{text}} not null,
        error_sample {{text}}
    )
    """,
    f"""
    create table if not exists {ROW_FAILURES} (
        sync_key {{text}} not null,
        record_key {{text}} not null,
        change_type {{text}} not null,
        row_hash {{text}} not null,
        idempotency_key {{text}} not null,
        attempts integer not null,
        last_error {{text}},
        first_failed_at timestamp not null,
        last_failed_at timestamp not null,
        last_run_id {{text}} not null,
        primary key (sync_key, record_key)
    )
    """,
    f"""
    create table if not exists {DEAD_LETTER} (
        dead_letter_id {{text}} primary key,
        sync_key {{text}} not null,
        record_key {{text}} not null,
        audience {{text}} not null,
        destination {{text}} not null,
        change_type {{text}} not null,
        row_hash {{text}} not null,
        idempotency_key {{text}} not null,
        payload_json {{text}},
        attempts integer not null,
        error {{text}},
        run_id {{text}} not null,
        dead_lettered_at timestamp not null,
        status {{text}} not null,
        resolved_at timestamp,
        resolved_run_id {{text}}
    )
    """,
    f"""
    create table if not exists {AUDIT} (
        audit_id {{text}} primary key,
        run_id {{text}} not null,
        actor {{text}} not null,
        sync_key {{text}} not null,
        audience {{text}} not null,
        destination {{text}} not null,
        operation {{text}} not null,
        batch_number integer not null,
        rows_sent integer not null,
        rows_accepted integer not null,
        rows_failed integer not null,
        fields_sent {{text}} not null,
        payload_sha256 {{text}} not null,
        recorded_at timestamp not null
    )
    """,
    f"""
    create table if not exists {IN_FLIGHT} (
        sync_key {{text}} not null,
        record_key {{text}} not null,
        change_type {{text}} not null,
        row_hash {{text}} not null,
        identity_json {{text}},
        idempotency_key {{text}} not null,
        run_id {{text}} not null,
        sent_at timestamp not null
    )
    """,
    f"""
    create table if not exists {EVENTS} (
        event_id {{text}} primary key,
        customer_id {{text}} not null,
        event_type {{text}} not null,
        audience {{text}} not null,
        destination {{text}} not null,
        channel {{text}},
        sync_key {{text}} not null,
        run_id {{text}} not null,
        occurred_at timestamp not null
    )
    """,
    f"""
    create table if not exists {FORGET_CHECKS} (
        identifier_hash {{text}} not null,
        sync_key {{text}} not null,
        checked_at timestamp not null,
        primary key (identifier_hash, sync_key)
    )
    """,
)


# cdp_sync_audit columns after audit_id, in the order record_audit takes them.
AUDIT_FIELDS = (
    "run_id", "actor", "sync_key", "audience", "destination", "operation", "batch_number",
    "rows_sent", "rows_accepted", "rows_failed", "fields_sent", "payload_sha256",
    "recorded_at",
)


def record_audit(warehouse: WarehouseConnection, rows: Sequence[Sequence[Any]]) -> None:
    """Append one cdp_sync_audit row per item of ``rows`` (values in AUDIT_FIELDS order;
    each gets a new audit_id), in one statement."""
    if not rows:
        return
    placeholders = "(" + ", ".join(["?"] * (len(AUDIT_FIELDS) + 1)) + ")"
    params: list[Any] = []
    for row in rows:
        if len(row) != len(AUDIT_FIELDS):
            raise ValueError(f"an audit row has {len(row)} values, not {len(AUDIT_FIELDS)}")
        params += [uuid.uuid4().hex, *row]
    warehouse.execute(
        f"insert into {AUDIT} (audit_id, {', '.join(AUDIT_FIELDS)})"
        f" values {', '.join([placeholders] * len(rows))}",
        params,
    )


def ensure_tables(warehouse: WarehouseConnection) -> None:
    """Create schema ``cdp_sync`` and its tables when missing (idempotent)."""
    if all(warehouse.relation_columns(SCHEMA, table)
           for table in ("sync_events", "cdp_sync_audit", "cdp_sync_in_flight",
                         "cdp_sync_forget_checks")):
        return
    for statement in DDL:
        warehouse.execute(statement.replace("{text}", warehouse.text_type))


def start_run(
    warehouse: WarehouseConnection,
    sync: AudienceSync,
    result: SyncResult,
    actor: str,
    now: dt.datetime,
) -> None:
    """Log a run as running; runs of this sync still marked running were interrupted."""
    with warehouse.transaction():
        warehouse.execute(
            f"update {RUNS} set status = 'interrupted', finished_at = ? "
            "where sync_key = ? and status = 'running'",
            (now, sync.sync_key),
        )
        warehouse.execute(
            f"""
            insert into {RUNS} (
                run_id, sync_key, audience, destination, mode, channel, actor, started_at,
                rows_suppressed, suppressed_by_reason, status
            ) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'running')
            """,
            (
                result.run_id, sync.sync_key, sync.audience, sync.destination, sync.mode,
                sync.channel, actor, result.started_at, result.rows_suppressed,
                json.dumps(result.suppressed_by_reason, sort_keys=True),
            ),
        )


def update_run(warehouse: WarehouseConnection, result: SyncResult, *, final: bool = False) -> None:
    """Write the run's counts so far (and, when ``final``, its status and end)."""
    counts = result.counts()
    assignments = ", ".join(f"{name} = ?" for name in counts)
    params: list[Any] = [*counts.values(), result.batches_sent]
    extra = ", batches_sent = ?"
    if final:
        extra += ", status = ?, finished_at = ?, error_sample = ?"
        params += [result.status, result.finished_at, result.error_sample]
    warehouse.execute(
        f"update {RUNS} set {assignments}{extra} where run_id = ?",
        [*params, result.run_id],
    )
