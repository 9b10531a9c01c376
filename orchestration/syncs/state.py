"""The engine's own tables in the warehouse, schema ``cdp_sync``.

- ``cdp_sync_state``: what each destination holds per sync (one row per sync and record).
- ``cdp_sync_runs``: one row per run with counts and status.
- ``cdp_sync_row_failures``: rows the destination rejected, with attempts so far.
- ``cdp_sync_dead_letter``: rows rejected ``dead_letter_after_failures`` times; held back
  from normal runs until ``cdp sync replay``.
- ``cdp_sync_audit``: append-only, one row per batch sent (who, what, payload hash).
- ``sync_events``: closed-loop events read by dbt as a source into ``fct_events``.

Types are portable (DuckDB and PostgreSQL); timestamps are UTC without time zone.
"""

from __future__ import annotations

from orchestration.resources.warehouse import WarehouseConnection

SCHEMA = "cdp_sync"
STATE = f"{SCHEMA}.cdp_sync_state"
RUNS = f"{SCHEMA}.cdp_sync_runs"
ROW_FAILURES = f"{SCHEMA}.cdp_sync_row_failures"
DEAD_LETTER = f"{SCHEMA}.cdp_sync_dead_letter"
AUDIT = f"{SCHEMA}.cdp_sync_audit"
EVENTS = f"{SCHEMA}.sync_events"

DDL: tuple[str, ...] = (
    f"create schema if not exists {SCHEMA}",
    f"""
    create table if not exists {STATE} (
        sync_key varchar not null,
        record_key varchar not null,
        audience varchar not null,
        destination varchar not null,
        row_hash varchar not null,
        identity_json varchar,
        idempotency_key varchar not null,
        first_synced_at timestamp not null,
        synced_at timestamp not null,
        last_run_id varchar not null,
        primary key (sync_key, record_key)
    )
    """,
    f"""
    create table if not exists {RUNS} (
        run_id varchar primary key,
        sync_key varchar not null,
        audience varchar not null,
        destination varchar not null,
        mode varchar not null,
        channel varchar,
        actor varchar,
        started_at timestamp not null,
        finished_at timestamp,
        rows_added integer not null default 0,
        rows_changed integer not null default 0,
        rows_removed integer not null default 0,
        rows_failed integer not null default 0,
        rows_suppressed integer not null default 0,
        rows_dead_lettered integer not null default 0,
        suppressed_by_reason varchar,
        batches_sent integer not null default 0,
        status varchar not null,
        error_sample varchar
    )
    """,
    f"""
    create table if not exists {ROW_FAILURES} (
        sync_key varchar not null,
        record_key varchar not null,
        change_type varchar not null,
        row_hash varchar not null,
        idempotency_key varchar not null,
        attempts integer not null,
        last_error varchar,
        first_failed_at timestamp not null,
        last_failed_at timestamp not null,
        last_run_id varchar not null,
        primary key (sync_key, record_key)
    )
    """,
    f"""
    create table if not exists {DEAD_LETTER} (
        dead_letter_id varchar primary key,
        sync_key varchar not null,
        record_key varchar not null,
        audience varchar not null,
        destination varchar not null,
        change_type varchar not null,
        row_hash varchar not null,
        idempotency_key varchar not null,
        payload_json varchar,
        attempts integer not null,
        error varchar,
        run_id varchar not null,
        dead_lettered_at timestamp not null,
        status varchar not null,
        resolved_at timestamp,
        resolved_run_id varchar
    )
    """,
    f"""
    create table if not exists {AUDIT} (
        audit_id varchar primary key,
        run_id varchar not null,
        actor varchar not null,
        sync_key varchar not null,
        audience varchar not null,
        destination varchar not null,
        operation varchar not null,
        batch_number integer not null,
        rows_sent integer not null,
        rows_accepted integer not null,
        rows_failed integer not null,
        fields_sent varchar not null,
        payload_sha256 varchar not null,
        recorded_at timestamp not null
    )
    """,
    f"""
    create table if not exists {EVENTS} (
        event_id varchar primary key,
        customer_id varchar not null,
        event_type varchar not null,
        audience varchar not null,
        destination varchar not null,
        channel varchar,
        sync_key varchar not null,
        run_id varchar not null,
        occurred_at timestamp not null
    )
    """,
)


def ensure_tables(warehouse: WarehouseConnection) -> None:
    """Create schema ``cdp_sync`` and its tables when missing (idempotent)."""
    exists = warehouse.relation_columns(SCHEMA, "sync_events")
    if exists and warehouse.relation_columns(SCHEMA, "cdp_sync_audit"):
        return
    for statement in DDL:
        warehouse.execute(statement)
