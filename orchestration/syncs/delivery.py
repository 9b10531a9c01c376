"""Delivering a planned sync run: batches, the destination, and a commit per batch.

Batches hold one operation each (insert / upsert for added and changed rows, then delete
for removed rows) and at most ``batch_size`` rows, in the work table's order. After the
destination answers, one transaction records:

- accepted rows: ``cdp_sync_state`` (upsert or delete), ``sync_events`` (audience_entered
  for added rows, message_sent for channel syncs), their failures cleared, their dead
  letters marked replayed;
- rejected rows: ``sync_failed`` events and, when the destination judged the rows (per-row
  errors, HTTP 4xx on content), ``cdp_sync_row_failures`` attempts, moving to
  ``cdp_sync_dead_letter`` after ``dead_letter_after_failures`` attempts;
- an ``cdp_sync_audit`` row and the run's counts so far;
- the batch's rows out of ``cdp_sync_in_flight``, where they were written before the
  batch left, unless the destination failed without answering for them.

A destination that stays unavailable (retries exhausted, auth refused) ends the run as
``failed`` after recording that batch; its rows are simply sent again next run.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from orchestration.resources.base import (
    BatchResult,
    DestinationResource,
    DestinationSession,
    SyncBatch,
    SyncRecord,
    batch_sha256,
    canonical_json,
    record_payload,
)
from orchestration.resources.warehouse import WarehouseConnection
from orchestration.syncs import state
from orchestration.syncs.config import AudienceSync, Policies
from orchestration.syncs.errors import DestinationError
from orchestration.syncs.planning import WORK
from orchestration.syncs.results import SyncOptions, SyncResult

FAILED = "_cdp_failed"


@dataclass(frozen=True)
class BatchSlice:
    operation: str
    first_seq: int
    last_seq: int


class Delivery:
    """Sends the work table of one run and commits each batch."""

    def __init__(
        self,
        warehouse: WarehouseConnection,
        policies: Policies,
        clock: Callable[[], dt.datetime],
    ) -> None:
        self.wh = warehouse
        self.policies = policies
        self.now = clock
        self._change_types: dict[str, str] = {}
        self._has_failures = True

    def send_all(
        self,
        sync: AudienceSync,
        destination: DestinationResource,
        session: DestinationSession,
        result: SyncResult,
        actor: str,
        options: SyncOptions,
    ) -> None:
        self._has_failures = bool(self.wh.fetchall(
            f"select 1 from {state.ROW_FAILURES} where sync_key = ? "
            f"union all select 1 from {state.DEAD_LETTER} where sync_key = ? "
            "and status = 'open' limit 1",
            (sync.sync_key, sync.sync_key),
        ))
        for number, piece in enumerate(self._slices(sync, destination.batch_size), start=1):
            records = self._fetch_records(sync, piece)
            batch = SyncBatch(
                sync_key=sync.sync_key,
                audience=sync.audience,
                destination=sync.destination,
                run_id=result.run_id,
                batch_number=number,
                operation=piece.operation,  # type: ignore[arg-type]
                records=tuple(records),
                field_names=sync.fields,
                identifier_names=sync.identifiers,
            )
            abort: DestinationError | None = None
            self._write_ahead(sync, piece, result)
            try:
                outcome = session.send(batch)
            except DestinationError as error:
                abort = error
                message = str(error)
                outcome = BatchResult(
                    accepted=set(), failed={r.idempotency_key: message for r in records}
                )
            result.batches_sent += 1
            self._commit_batch(
                sync, piece, batch, outcome, result, actor,
                fields_sent=",".join(destination.fields_sent(batch)),
                count_attempt=abort is None or abort.rows_rejected,
            )
            if abort is not None and not abort.rows_rejected:
                result.status = "failed"
                if str(abort)[:1000] not in result.errors:
                    result.errors.insert(0, str(abort))
                return
        if options.replay:
            self.wh.execute(
                f"""
                update {state.DEAD_LETTER}
                set status = 'resolved', resolved_at = ?, resolved_run_id = ?
                where sync_key = ? and status = 'open'
                    and record_key not in (select _cdp_record_key from {WORK})
                """,
                (self.now(), result.run_id, sync.sync_key),
            )

    def _write_ahead(self, sync: AudienceSync, piece: BatchSlice, result: SyncResult) -> None:
        """Note the batch's rows as in flight before they leave (see state.IN_FLIGHT)."""
        self.wh.execute(
            f"""
            insert into {state.IN_FLIGHT} (
                sync_key, record_key, change_type, row_hash, identity_json, idempotency_key,
                run_id, sent_at
            )
            select
                ?, _cdp_record_key, _cdp_change_type, _cdp_row_hash, _cdp_identity_json,
                _cdp_idempotency_key, ?, ?
            from {WORK}
            where _cdp_seq between ? and ?
            on conflict (sync_key, record_key) do update set
                change_type = excluded.change_type,
                row_hash = excluded.row_hash,
                identity_json = excluded.identity_json,
                idempotency_key = excluded.idempotency_key,
                run_id = excluded.run_id,
                sent_at = excluded.sent_at
            """,
            (sync.sync_key, result.run_id, self.now(), piece.first_seq, piece.last_seq),
        )

    def _slices(self, sync: AudienceSync, batch_size: int) -> Iterator[BatchSlice]:
        ranges = self.wh.fetchall(
            f"""
            select _cdp_change_type, min(_cdp_seq), max(_cdp_seq)
            from {WORK}
            group by _cdp_change_type
            """
        )
        by_type = {change: (int(low), int(high)) for change, low, high in ranges}
        groups: list[tuple[str, list[str]]] = [
            ("insert" if sync.mode == "insert" else "upsert", ["add", "change"]),
            ("delete", ["remove"]),
        ]
        for operation, change_types in groups:
            present = [by_type[change] for change in change_types if change in by_type]
            if not present:
                continue
            low = min(low for low, _ in present)
            high = max(high for _, high in present)
            for first in range(low, high + 1, batch_size):
                yield BatchSlice(operation, first, min(first + batch_size - 1, high))

    def _fetch_records(self, sync: AudienceSync, piece: BatchSlice) -> list[SyncRecord]:
        q = self.wh.quote
        columns = ", ".join(q(column) for column in sync.columns)
        rows = self.wh.fetchall(
            f"""
            select
                _cdp_record_key, _cdp_idempotency_key, _cdp_change_type, _cdp_identity_json,
                {columns}
            from {WORK}
            where _cdp_seq between ? and ?
            order by _cdp_seq
            """,
            (piece.first_seq, piece.last_seq),
        )
        self._change_types = {row[1]: row[2] for row in rows}
        operation = piece.operation
        if operation == "delete":
            return [
                SyncRecord(record_key, operation, idempotency_key,  # type: ignore[arg-type]
                           json.loads(identity_json) if identity_json else {}, {})
                for record_key, idempotency_key, _, identity_json, *_ in rows
            ]
        names = sync.columns
        identifier_slots = [(name, names.index(name) + 4) for name in sync.identifiers]
        field_slots = [(name, names.index(name) + 4) for name in sync.fields]
        return [
            SyncRecord(
                row[0], operation, row[1],  # type: ignore[arg-type]
                {name: row[slot] for name, slot in identifier_slots},
                {name: row[slot] for name, slot in field_slots},
            )
            for row in rows
        ]

    def _commit_batch(
        self,
        sync: AudienceSync,
        piece: BatchSlice,
        batch: SyncBatch,
        outcome: BatchResult,
        result: SyncResult,
        actor: str,
        *,
        fields_sent: str,
        count_attempt: bool,
    ) -> None:
        now = self.now()
        by_key = {record.idempotency_key: record for record in batch.records}
        failed = {key: error for key, error in outcome.failed.items() if key in by_key}
        accepted = {key for key in outcome.accepted if key in by_key and key not in failed}
        # Rows the destination neither accepted nor rejected count as failed.
        for key in by_key.keys() - accepted - failed.keys():
            failed[key] = "no answer for this row"
        failed_rows = [
            (by_key[key].record_key, error[:1000],
             canonical_json(record_payload(by_key[key])).decode())
            for key, error in failed.items()
        ]
        range_params = (piece.first_seq, piece.last_seq)
        not_failed = ""
        with self.wh.transaction():
            if failed_rows:
                self.wh.load_temp_table(
                    FAILED,
                    [("record_key", "varchar"), ("error", "varchar"), ("payload_json", "varchar")],
                    failed_rows,
                )
                not_failed = f" and work._cdp_record_key not in (select record_key from {FAILED})"
            accepted_rows = f"""
                from {WORK} as work
                where work._cdp_seq between ? and ?{not_failed}
            """
            if accepted:
                self._commit_accepted(sync, piece, accepted, result, accepted_rows, range_params,
                                      now)
            if failed_rows:
                self._has_failures = True
                result.rows_dead_lettered += self._commit_failed(
                    sync, result, range_params, now, count_attempt
                )
                for _, error, _ in failed_rows[:3]:
                    if len(result.errors) < 20:
                        result.errors.append(error)
            self.wh.execute(
                f"""
                insert into {state.AUDIT} (
                    audit_id, run_id, actor, sync_key, audience, destination, operation,
                    batch_number, rows_sent, rows_accepted, rows_failed, fields_sent,
                    payload_sha256, recorded_at
                ) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                (
                    uuid.uuid4().hex, result.run_id, actor, sync.sync_key, sync.audience,
                    sync.destination, batch.operation, batch.batch_number, len(batch.records),
                    len(accepted), len(failed), fields_sent,
                    outcome.payload_sha256 or batch_sha256(batch), now,
                ),
            )
            if count_attempt:
                # The destination answered for every row: none is in doubt any more. After
                # a transport failure they stay in flight (it may have taken them).
                self.wh.execute(
                    f"""
                    delete from {state.IN_FLIGHT}
                    where sync_key = ? and record_key in (
                        select _cdp_record_key from {WORK} where _cdp_seq between ? and ?
                    )
                    """,
                    (sync.sync_key, *range_params),
                )
            result.rows_failed += len(failed)
            state.update_run(self.wh, result)

    def _commit_accepted(
        self,
        sync: AudienceSync,
        piece: BatchSlice,
        accepted: set[str],
        result: SyncResult,
        accepted_rows: str,
        range_params: tuple[int, int],
        now: dt.datetime,
    ) -> None:
        key = sync.sync_key
        counts = Counter(self._change_types[key] for key in accepted)
        result.rows_added += counts["add"]
        result.rows_changed += counts["change"]
        result.rows_removed += counts["remove"]
        removed = "true" if piece.operation == "delete" else "false"
        self.wh.execute(
            f"""
            insert into {state.STATE} (
                sync_key, record_key, audience, destination, row_hash, identity_json,
                idempotency_key, is_removed, first_synced_at, synced_at, last_run_id
            )
            select
                ?, work._cdp_record_key, ?, ?, work._cdp_row_hash,
                work._cdp_identity_json, work._cdp_idempotency_key, {removed}, ?, ?, ?
            {accepted_rows}
            on conflict (sync_key, record_key) do update set
                row_hash = excluded.row_hash,
                identity_json = excluded.identity_json,
                idempotency_key = excluded.idempotency_key,
                is_removed = excluded.is_removed,
                synced_at = excluded.synced_at,
                last_run_id = excluded.last_run_id
            """,
            (key, sync.audience, sync.destination, now, now, result.run_id, *range_params),
        )
        if piece.operation != "delete":
            event_types = ["audience_entered"] + (["message_sent"] if sync.channel else [])
            for event_type in event_types:
                only_added = (
                    " and work._cdp_change_type = 'add'" if event_type == "audience_entered"
                    else ""
                )
                self.wh.execute(
                    f"""
                    insert into {state.EVENTS} (
                        event_id, customer_id, event_type, audience, destination, channel,
                        sync_key, run_id, occurred_at
                    )
                    select
                        md5(work._cdp_idempotency_key || '|{event_type}'),
                        work._cdp_record_key, '{event_type}', ?, ?, ?, ?, ?, ?
                    {accepted_rows}{only_added}
                    on conflict (event_id) do nothing
                    """,
                    (sync.audience, sync.destination, sync.channel, key, result.run_id, now,
                     *range_params),
                )
        if not self._has_failures:
            return
        self.wh.execute(
            f"delete from {state.ROW_FAILURES} where sync_key = ? and record_key in "
            f"(select work._cdp_record_key {accepted_rows})",
            (key, *range_params),
        )
        self.wh.execute(
            f"""
            update {state.DEAD_LETTER}
            set status = 'replayed', resolved_at = ?, resolved_run_id = ?
            where sync_key = ? and status = 'open' and record_key in (
                select work._cdp_record_key {accepted_rows}
            )
            """,
            (now, result.run_id, key, *range_params),
        )

    def _commit_failed(
        self,
        sync: AudienceSync,
        result: SyncResult,
        range_params: tuple[int, int],
        now: dt.datetime,
        count_attempt: bool,
    ) -> int:
        key = sync.sync_key
        failed_rows = f"""
            from {WORK} as work
            inner join {FAILED} as failed on failed.record_key = work._cdp_record_key
            where work._cdp_seq between ? and ?
        """
        self.wh.execute(
            f"""
            insert into {state.EVENTS} (
                event_id, customer_id, event_type, audience, destination, channel, sync_key,
                run_id, occurred_at
            )
            select
                md5(work._cdp_idempotency_key || '|sync_failed|' || ?),
                work._cdp_record_key, 'sync_failed', ?, ?, ?, ?, ?, ?
            {failed_rows}
            on conflict (event_id) do nothing
            """,
            (result.run_id, sync.audience, sync.destination, sync.channel, key,
             result.run_id, now, *range_params),
        )
        if not count_attempt:
            return 0
        self.wh.execute(
            f"""
            insert into {state.ROW_FAILURES} (
                sync_key, record_key, change_type, row_hash, idempotency_key, attempts,
                last_error, first_failed_at, last_failed_at, last_run_id
            )
            select
                ?, work._cdp_record_key, work._cdp_change_type, work._cdp_row_hash,
                work._cdp_idempotency_key, 1, failed.error, ?, ?, ?
            {failed_rows}
            on conflict (sync_key, record_key) do update set
                attempts = case
                    when cdp_sync_row_failures.row_hash = excluded.row_hash
                        and cdp_sync_row_failures.change_type = excluded.change_type
                    then cdp_sync_row_failures.attempts + 1
                    else 1
                end,
                change_type = excluded.change_type,
                row_hash = excluded.row_hash,
                idempotency_key = excluded.idempotency_key,
                last_error = excluded.last_error,
                last_failed_at = excluded.last_failed_at,
                last_run_id = excluded.last_run_id
            """,
            (key, now, now, result.run_id, *range_params),
        )
        limit = self.policies.dead_letter_after_failures
        dead = int(self.wh.scalar(
            f"""
            select count(*) from {state.ROW_FAILURES}
            where sync_key = ? and attempts >= ?
                and record_key in (select record_key from {FAILED})
            """,
            (key, limit),
        ) or 0)
        if dead:
            self.wh.execute(
                f"""
                insert into {state.DEAD_LETTER} (
                    dead_letter_id, sync_key, record_key, audience, destination, change_type,
                    row_hash, idempotency_key, payload_json, attempts, error, run_id,
                    dead_lettered_at, status
                )
                select
                    md5(fail.sync_key || '|' || fail.record_key || '|' || fail.change_type
                        || '|' || fail.row_hash),
                    fail.sync_key, fail.record_key, ?, ?, fail.change_type, fail.row_hash,
                    fail.idempotency_key, failed.payload_json, fail.attempts, fail.last_error,
                    ?, ?, 'open'
                from {state.ROW_FAILURES} as fail
                inner join {FAILED} as failed on failed.record_key = fail.record_key
                where fail.sync_key = ? and fail.attempts >= ?
                on conflict (dead_letter_id) do update set
                    attempts = excluded.attempts,
                    error = excluded.error,
                    payload_json = excluded.payload_json,
                    run_id = excluded.run_id,
                    dead_lettered_at = excluded.dead_lettered_at,
                    status = 'open',
                    resolved_at = null,
                    resolved_run_id = null
                """,
                (sync.audience, sync.destination, result.run_id, now, key, limit),
            )
        return dead
