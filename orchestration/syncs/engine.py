"""The diff-based sync of one audience to one destination.

A run, all set-based in the warehouse until rows are sent:

1. stage the audience (record key, declared columns, row hash, identity JSON);
2. suppress members by policy (consent, recent complaint, campaign de-duplication, missing
   identifier), one reason per member, first reason wins;
3. diff the eligible members against ``cdp_sync_state``: added, changed (upsert, mirror),
   removed (mirror; a member suppressed since the last run counts as removed);
4. hold back rows over the cross-channel frequency cap and open dead letters;
5. send in batches, one operation per batch; after each batch, in one transaction: state for
   the accepted rows, failures for the rejected ones (dead letter after N attempts), closed-
   loop events and an audit row. Nothing is marked synced before the destination took it.

Each row change carries an idempotency key, md5(sync | record | change | row hash): a run
killed after the destination took a batch but before the state commit re-sends that batch
with the same keys, and the destination drops the duplicates.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import os
import socket
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from orchestration.resources.base import (
    BatchResult,
    DestinationResource,
    DestinationSession,
    RunSummary,
    SyncBatch,
    SyncRecord,
    canonical_json,
    record_payload,
)
from orchestration.resources.warehouse import WarehouseConnection
from orchestration.syncs import state
from orchestration.syncs.config import AudienceSync, Policies
from orchestration.syncs.errors import (
    ConfigError,
    DestinationError,
    SyncAlreadyRunningError,
    WarehouseDataError,
)

CONSENT_RELATION = ("marts", "customer_consent")
EVENTS_RELATION = ("marts", "fct_events")
COMPLAINT_EVENT = "ticket_complaint"
SUPPRESSION_REASONS = (
    "no_consent", "recent_complaint", "campaign_duplicate", "missing_identifier",
    "frequency_cap",
)
_AUD = "_cdp_aud"
_SUPP = "_cdp_supp"
_CHANGES = "_cdp_changes"
_WORK = "_cdp_work"
_FAILED = "_cdp_failed"
_SCOPE = "_cdp_scope"
_TEMP_TABLES = (_AUD, _SUPP, _CHANGES, _WORK, _FAILED, _SCOPE, "_cdp_capped")


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def default_actor() -> str:
    """Who runs the sync: ``CDP_ACTOR`` or ``user@host``."""
    if os.environ.get("CDP_ACTOR"):
        return os.environ["CDP_ACTOR"]
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


@dataclass(frozen=True)
class SyncOptions:
    dry_run: bool = False
    replay: bool = False
    now: dt.datetime | None = None
    actor: str | None = None
    sample_size: int = 5


@dataclass
class SyncResult:
    """What a run did (or, for a dry run, would do)."""

    run_id: str
    sync_key: str
    audience: str
    destination: str
    mode: str
    channel: str | None
    dry_run: bool = False
    status: str = "running"
    planned: dict[str, int] = field(default_factory=lambda: {"add": 0, "change": 0, "remove": 0})
    rows_added: int = 0
    rows_changed: int = 0
    rows_removed: int = 0
    rows_failed: int = 0
    rows_dead_lettered: int = 0
    rows_held_in_dead_letter: int = 0
    suppressed_by_reason: dict[str, int] = field(default_factory=dict)
    batches_sent: int = 0
    errors: list[str] = field(default_factory=list)
    sample: list[dict[str, Any]] = field(default_factory=list)
    started_at: dt.datetime = field(default_factory=utc_now)
    finished_at: dt.datetime | None = None

    @property
    def rows_suppressed(self) -> int:
        return sum(self.suppressed_by_reason.values())

    @property
    def rows_sent(self) -> int:
        return self.rows_added + self.rows_changed + self.rows_removed

    @property
    def failure_rate(self) -> float:
        attempted = self.rows_sent + self.rows_failed
        return self.rows_failed / attempted if attempted else 0.0

    @property
    def error_sample(self) -> str | None:
        return "\n".join(self.errors[:5]) or None

    def counts(self) -> dict[str, int]:
        return {
            "rows_added": self.rows_added,
            "rows_changed": self.rows_changed,
            "rows_removed": self.rows_removed,
            "rows_failed": self.rows_failed,
            "rows_suppressed": self.rows_suppressed,
            "rows_dead_lettered": self.rows_dead_lettered,
        }


@dataclass(frozen=True)
class _BatchSlice:
    operation: str
    first_seq: int
    last_seq: int


class SyncEngine:
    """Runs syncs against one open warehouse connection."""

    def __init__(
        self,
        warehouse: WarehouseConnection,
        policies: Policies,
        *,
        all_syncs: Sequence[AudienceSync] = (),
    ) -> None:
        self.wh = warehouse
        self.policies = policies
        self.all_syncs = list(all_syncs)
        self._tables_ready = False
        self._clock: dt.datetime | None = None

    def _now(self) -> dt.datetime:
        """The run's clock: ``SyncOptions.now`` when given (tests, backfills), else UTC now."""
        return self._clock or utc_now()

    # -- checks ---------------------------------------------------------------------------
    def preflight(self, sync: AudienceSync) -> list[str]:
        """Check the audience relation has every declared column; returns its columns."""
        columns = self.wh.relation_columns(sync.schema, sync.relation_name)
        if columns is None:
            raise WarehouseDataError(
                f"{sync.source_file}: relation {sync.schema}.{sync.relation_name} of model "
                f"{sync.model_name} does not exist in {self.wh.description}; build it with dbt"
            )
        if "customer_id" not in columns:
            raise ConfigError(
                sync.source_file, f"model {sync.model_name}",
                f"audience {sync.schema}.{sync.relation_name} has no customer_id column",
            )
        for key in ("identifiers", "fields"):
            for column in getattr(sync, key):
                if column not in columns:
                    raise ConfigError(
                        sync.source_file, f"{sync.key_path}.{key}",
                        f"column {column!r} is not in {sync.schema}.{sync.relation_name} "
                        f"(model {sync.model_name}; columns: {columns})",
                    )
        if sync.channel:
            self._require(CONSENT_RELATION, sync, "channel consent")
            if self.policies.complaint_suppression_hours > 0:
                self._require(EVENTS_RELATION, sync, "complaint suppression")
        return columns

    def _ensure_tables(self) -> None:
        if not self._tables_ready:
            state.ensure_tables(self.wh)
            self._tables_ready = True

    # -- run ------------------------------------------------------------------------------
    def run(
        self,
        sync: AudienceSync,
        destination: DestinationResource,
        options: SyncOptions = SyncOptions(),
        session: DestinationSession | None = None,
    ) -> SyncResult:
        """Plan and (unless dry run) send one sync. Destination failures end up in the
        result's status; configuration and warehouse errors raise."""
        self._clock = options.now
        now = self._now()
        actor = options.actor or default_actor()
        result = SyncResult(
            run_id=uuid.uuid4().hex,
            sync_key=sync.sync_key,
            audience=sync.audience,
            destination=sync.destination,
            mode=sync.mode,
            channel=sync.channel,
            dry_run=options.dry_run,
            started_at=now if options.now else utc_now(),
        )
        self.preflight(sync)
        self._ensure_tables()
        if not self.wh.try_lock(sync.sync_key):
            raise SyncAlreadyRunningError(f"sync {sync.sync_key!r} is running elsewhere")
        try:
            self._plan(sync, options, now, result)
            if options.dry_run:
                result.sample = self._sample(sync, options.sample_size)
                result.status = "dry_run"
                result.finished_at = utc_now()
                return result
            self._start_run(sync, result, actor)
            own_session = session is None
            active = session or destination.open_session()
            try:
                self._send_all(sync, destination, active, result, actor, options)
            except BaseException as error:
                result.status = "failed"
                result.errors.insert(0, f"{type(error).__name__}: {error}")
                raise
            finally:
                result.finished_at = utc_now()
                if result.status == "running":
                    result.status = "partial" if result.rows_failed else "success"
                try:
                    active.finish(self._summary(sync, result))
                finally:
                    if own_session:
                        active.close()
                self._finish_run(result)
            return result
        finally:
            self._drop_temp_tables()
            self.wh.unlock(sync.sync_key)

    # -- planning -------------------------------------------------------------------------
    def _plan(
        self, sync: AudienceSync, options: SyncOptions, now: dt.datetime, result: SyncResult
    ) -> None:
        self._drop_temp_tables()
        self._stage_audience(sync, options)
        self._suppress(sync, now)
        self._diff(sync, options)
        if not options.replay:
            result.rows_held_in_dead_letter = self._hold_dead_letters(sync)
        self._apply_frequency_cap(sync, now)
        self._number_work(sync)
        for change_type, count in self.wh.fetchall(
            f"select _cdp_change_type, count(*) from {_WORK} group by _cdp_change_type"
        ):
            result.planned[change_type] = int(count)
        result.suppressed_by_reason = {
            reason: int(count)
            for reason, count in self.wh.fetchall(
                f"select reason, count(*) from {_SUPP} group by reason order by reason"
            )
        }

    def _stage_audience(self, sync: AudienceSync, options: SyncOptions) -> None:
        q = self.wh.quote
        columns = sync.columns
        listing = ",".join(columns).replace("'", "''")
        hashed = ", ".join(
            f"coalesce(cast({q(column)} as varchar), chr(30))" for column in columns
        )
        identity = self.wh.json_object_sql(
            [(column.replace("'", "''"), q(column)) for column in sync.identifiers]
        )
        select_columns = ", ".join(q(column) for column in columns)
        relation = f"{q(sync.schema)}.{q(sync.relation_name)}"
        self.wh.execute(
            f"""
            create temp table {_AUD} as
            select
                cast(customer_id as varchar) as _cdp_record_key,
                {select_columns},
                md5(concat_ws(chr(31), '{listing}', {hashed})) as _cdp_row_hash,
                {identity} as _cdp_identity_json
            from {relation}
            where customer_id is not null
            """
        )
        duplicates = self.wh.scalar(
            f"select count(*) - count(distinct _cdp_record_key) from {_AUD}"
        )
        if duplicates:
            raise WarehouseDataError(
                f"{sync.source_file}: audience {sync.schema}.{sync.relation_name} has "
                f"{duplicates} duplicate customer_id rows; an audience has one row per customer"
            )
        if options.replay:
            self.wh.execute(
                f"create temp table {_SCOPE} as select distinct record_key from "
                f"{state.DEAD_LETTER} where sync_key = ? and status = 'open'",
                (sync.sync_key,),
            )
            self.wh.execute(
                f"delete from {_AUD} where _cdp_record_key not in "
                f"(select record_key from {_SCOPE})"
            )

    def _suppress(self, sync: AudienceSync, now: dt.datetime) -> None:
        q = self.wh.quote
        parts: list[tuple[str, list[Any]]] = []
        if sync.channel:
            default = 1 if self.policies.default_consent.get(sync.channel, False) else 0
            parts.append((
                f"""
                select aud._cdp_record_key, 'no_consent' as reason, 1 as reason_rank
                from {_AUD} as aud
                left join (
                    select
                        cast(customer_id as varchar) as record_key,
                        min(case when is_contactable then 1 else 0 end) as contactable
                    from marts.customer_consent
                    where channel = ? and purpose = ?
                    group by cast(customer_id as varchar)
                ) as consent on consent.record_key = aud._cdp_record_key
                where coalesce(consent.contactable, {default}) = 0
                """,
                [sync.channel, self.policies.consent_purpose],
            ))
            hours = self.policies.complaint_suppression_hours
            if hours > 0:
                parts.append((
                    f"""
                    select aud._cdp_record_key, 'recent_complaint' as reason, 2 as reason_rank
                    from {_AUD} as aud
                    where aud._cdp_record_key in (
                        select cast(customer_id as varchar)
                        from marts.fct_events
                        where event_type = ? and occurred_at >= ? and customer_id is not null
                    )
                    """,
                    [COMPLAINT_EVENT, now - dt.timedelta(hours=hours)],
                ))
        for sibling in self._higher_priority_siblings(sync):
            parts.append((
                f"""
                select aud._cdp_record_key, 'campaign_duplicate' as reason, 3 as reason_rank
                from {_AUD} as aud
                where aud._cdp_record_key in (
                    select cast(customer_id as varchar)
                    from {q(sibling.schema)}.{q(sibling.relation_name)}
                    where customer_id is not null
                )
                """,
                [],
            ))
        addressable = [column for column in sync.identifiers if column != "customer_id"]
        if addressable:
            missing = " and ".join(f"aud.{q(column)} is null" for column in addressable)
            parts.append((
                f"""
                select aud._cdp_record_key, 'missing_identifier' as reason, 4 as reason_rank
                from {_AUD} as aud
                where {missing}
                """,
                [],
            ))
        if not parts:
            self.wh.execute(f"create temp table {_SUPP} (_cdp_record_key varchar, reason varchar)")
            return
        union = "\nunion all\n".join(sql for sql, _ in parts)
        params = [param for _, part_params in parts for param in part_params]
        self.wh.execute(
            f"""
            create temp table {_SUPP} as
            select _cdp_record_key, reason
            from (
                select
                    _cdp_record_key,
                    reason,
                    row_number() over (
                        partition by _cdp_record_key order by reason_rank
                    ) as reason_order
                from ({union}) as reasons
            ) as ranked
            where reason_order = 1
            """,
            params,
        )

    def _require(self, relation: tuple[str, str], sync: AudienceSync, purpose: str) -> None:
        if self.wh.relation_columns(*relation) is None:
            raise WarehouseDataError(
                f"{sync.source_file}: {sync.key_path}.channel: {purpose} needs "
                f"{relation[0]}.{relation[1]}, which does not exist in {self.wh.description}; "
                "build the marts with dbt first"
            )

    def _higher_priority_siblings(self, sync: AudienceSync) -> list[AudienceSync]:
        if not sync.campaign:
            return []
        siblings: dict[str, AudienceSync] = {}
        for other in self.all_syncs:
            if (
                other.campaign == sync.campaign
                and other.audience != sync.audience
                and (other.priority, other.audience) < (sync.priority, sync.audience)
                and self.wh.relation_columns(other.schema, other.relation_name) is not None
            ):
                siblings.setdefault(other.audience, other)
        return list(siblings.values())

    def _diff(self, sync: AudienceSync, options: SyncOptions) -> None:
        compare = "" if sync.mode == "insert" else " or state.row_hash <> aud._cdp_row_hash"
        eligible = (
            f"not exists (select 1 from {_SUPP} as supp "
            f"where supp._cdp_record_key = aud._cdp_record_key)"
        )
        removals = ""
        params: list[Any] = [sync.sync_key]
        if sync.mode == "mirror":
            scope = (
                f" and state.record_key in (select record_key from {_SCOPE})"
                if options.replay else ""
            )
            removals = f"""
            union all
            select
                state.record_key as _cdp_record_key,
                'remove' as _cdp_change_type,
                state.row_hash as _cdp_row_hash,
                state.identity_json as _cdp_identity_json
            from {state.STATE} as state
            where state.sync_key = ?{scope}
                and not exists (
                    select 1 from {_AUD} as aud
                    where aud._cdp_record_key = state.record_key and {eligible}
                )
            """
            params.append(sync.sync_key)
        self.wh.execute(
            f"""
            create temp table {_CHANGES} as
            select
                aud._cdp_record_key,
                case when state.record_key is null then 'add' else 'change' end
                    as _cdp_change_type,
                aud._cdp_row_hash,
                aud._cdp_identity_json
            from {_AUD} as aud
            left join {state.STATE} as state
                on state.sync_key = ? and state.record_key = aud._cdp_record_key
            where {eligible}
                and (state.record_key is null{compare})
            {removals}
            """,
            params,
        )

    def _hold_dead_letters(self, sync: AudienceSync) -> int:
        condition = (
            f"exists (select 1 from {state.DEAD_LETTER} as dead "
            f"where dead.sync_key = ? and dead.status = 'open' "
            f"and dead.record_key = {_CHANGES}._cdp_record_key "
            f"and dead.row_hash = {_CHANGES}._cdp_row_hash "
            f"and dead.change_type = {_CHANGES}._cdp_change_type)"
        )
        held = int(self.wh.scalar(
            f"select count(*) from {_CHANGES} where {condition}", (sync.sync_key,)
        ) or 0)
        if held:
            self.wh.execute(f"delete from {_CHANGES} where {condition}", (sync.sync_key,))
        return held

    def _apply_frequency_cap(self, sync: AudienceSync, now: dt.datetime) -> None:
        cap = self.policies.frequency_cap
        if not cap.max_messages or not sync.channel or sync.channel not in cap.channels:
            return
        placeholders = ", ".join("?" for _ in cap.channels)
        self.wh.execute(
            f"""
            create temp table _cdp_capped as
            select changes._cdp_record_key
            from {_CHANGES} as changes
            where changes._cdp_change_type in ('add', 'change')
                and changes._cdp_record_key in (
                    select customer_id
                    from {state.EVENTS}
                    where event_type = 'message_sent'
                        and channel in ({placeholders})
                        and occurred_at > ?
                    group by customer_id
                    having count(*) >= ?
                )
            """,
            [*cap.channels, now - dt.timedelta(hours=cap.window_hours), cap.max_messages],
        )
        self.wh.execute(
            f"insert into {_SUPP} (_cdp_record_key, reason) "
            f"select _cdp_record_key, 'frequency_cap' from _cdp_capped"
        )
        self.wh.execute(
            f"delete from {_CHANGES} where _cdp_change_type in ('add', 'change') "
            f"and _cdp_record_key in (select _cdp_record_key from _cdp_capped)"
        )

    def _number_work(self, sync: AudienceSync) -> None:
        q = self.wh.quote
        columns = ", ".join(f"aud.{q(column)}" for column in sync.columns)
        self.wh.execute(
            f"""
            create temp table {_WORK} as
            select
                row_number() over (
                    order by
                        case changes._cdp_change_type
                            when 'add' then 0 when 'change' then 1 else 2
                        end,
                        changes._cdp_record_key
                ) as _cdp_seq,
                changes._cdp_record_key,
                changes._cdp_change_type,
                changes._cdp_row_hash,
                changes._cdp_identity_json,
                md5(
                    ? || '|' || changes._cdp_record_key || '|' || changes._cdp_change_type
                    || '|' || changes._cdp_row_hash
                ) as _cdp_idempotency_key,
                {columns}
            from {_CHANGES} as changes
            left join {_AUD} as aud on aud._cdp_record_key = changes._cdp_record_key
            order by _cdp_seq
            """,
            (sync.sync_key,),
        )

    # -- sending --------------------------------------------------------------------------
    def _slices(self, sync: AudienceSync, batch_size: int) -> Iterator[_BatchSlice]:
        ranges = self.wh.fetchall(
            f"""
            select _cdp_change_type, min(_cdp_seq), max(_cdp_seq)
            from {_WORK}
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
                yield _BatchSlice(operation, first, min(first + batch_size - 1, high))

    def _fetch_records(self, sync: AudienceSync, piece: _BatchSlice) -> list[SyncRecord]:
        q = self.wh.quote
        columns = ", ".join(q(column) for column in sync.columns)
        rows = self.wh.fetchall(
            f"""
            select _cdp_record_key, _cdp_idempotency_key, _cdp_identity_json, {columns}
            from {_WORK}
            where _cdp_seq between ? and ?
            order by _cdp_seq
            """,
            (piece.first_seq, piece.last_seq),
        )
        names = sync.columns
        identifier_positions = [names.index(name) for name in sync.identifiers]
        field_positions = [names.index(name) for name in sync.fields]
        records = []
        for record_key, idempotency_key, identity_json, *values in rows:
            if piece.operation == "delete":
                identifiers = json.loads(identity_json) if identity_json else {}
                fields: dict[str, Any] = {}
            else:
                identifiers = {names[i]: values[i] for i in identifier_positions}
                fields = {names[i]: values[i] for i in field_positions}
            records.append(SyncRecord(
                record_key=record_key,
                operation=piece.operation,  # type: ignore[arg-type]
                idempotency_key=idempotency_key,
                identifiers=identifiers,
                fields=fields,
            ))
        return records

    def _send_all(
        self,
        sync: AudienceSync,
        destination: DestinationResource,
        session: DestinationSession,
        result: SyncResult,
        actor: str,
        options: SyncOptions,
    ) -> None:
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
                count_attempt=abort is None or abort.rows_rejected,
            )
            if abort is not None and not abort.rows_rejected:
                result.status = "failed"
                result.errors.insert(0, str(abort))
                return
        if options.replay:
            self.wh.execute(
                f"""
                update {state.DEAD_LETTER}
                set status = 'resolved', resolved_at = ?, resolved_run_id = ?
                where sync_key = ? and status = 'open'
                    and record_key not in (select _cdp_record_key from {_WORK})
                """,
                (self._now(), result.run_id, sync.sync_key),
            )

    def _commit_batch(
        self,
        sync: AudienceSync,
        piece: _BatchSlice,
        batch: SyncBatch,
        outcome: BatchResult,
        result: SyncResult,
        actor: str,
        *,
        count_attempt: bool,
    ) -> None:
        now = self._now()
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
                    _FAILED,
                    [("record_key", "varchar"), ("error", "varchar"), ("payload_json", "varchar")],
                    failed_rows,
                )
                not_failed = f" and work._cdp_record_key not in (select record_key from {_FAILED})"
            accepted_rows = f"""
                from {_WORK} as work
                where work._cdp_seq between ? and ?{not_failed}
            """
            if accepted:
                self._commit_accepted(sync, piece, batch, result, accepted_rows, range_params, now)
            if failed_rows:
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
                    len(accepted), len(failed), ",".join(sync.columns),
                    payload_sha256(batch), now,
                ),
            )
            result.rows_failed += len(failed)
            self._update_run_counts(result)

    def _commit_accepted(
        self,
        sync: AudienceSync,
        piece: _BatchSlice,
        batch: SyncBatch,
        result: SyncResult,
        accepted_rows: str,
        range_params: tuple[int, int],
        now: dt.datetime,
    ) -> None:
        key = sync.sync_key
        counts = dict(self.wh.fetchall(
            f"select work._cdp_change_type, count(*) {accepted_rows} "
            "group by work._cdp_change_type",
            range_params,
        ))
        result.rows_added += int(counts.get("add", 0))
        result.rows_changed += int(counts.get("change", 0))
        result.rows_removed += int(counts.get("remove", 0))
        if piece.operation == "delete":
            self.wh.execute(
                f"""
                delete from {state.STATE}
                where sync_key = ? and record_key in (
                    select work._cdp_record_key {accepted_rows}
                )
                """,
                (key, *range_params),
            )
        else:
            self.wh.execute(
                f"""
                insert into {state.STATE} (
                    sync_key, record_key, audience, destination, row_hash, identity_json,
                    idempotency_key, first_synced_at, synced_at, last_run_id
                )
                select
                    ?, work._cdp_record_key, ?, ?, work._cdp_row_hash,
                    work._cdp_identity_json, work._cdp_idempotency_key, ?, ?, ?
                {accepted_rows}
                on conflict (sync_key, record_key) do update set
                    row_hash = excluded.row_hash,
                    identity_json = excluded.identity_json,
                    idempotency_key = excluded.idempotency_key,
                    synced_at = excluded.synced_at,
                    last_run_id = excluded.last_run_id
                """,
                (key, sync.audience, sync.destination, now, now, result.run_id, *range_params),
            )
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
            from {_WORK} as work
            inner join {_FAILED} as failed on failed.record_key = work._cdp_record_key
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
                and record_key in (select record_key from {_FAILED})
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
                inner join {_FAILED} as failed on failed.record_key = fail.record_key
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

    # -- run log --------------------------------------------------------------------------
    def _start_run(self, sync: AudienceSync, result: SyncResult, actor: str) -> None:
        with self.wh.transaction():
            self.wh.execute(
                f"update {state.RUNS} set status = 'interrupted', finished_at = ? "
                "where sync_key = ? and status = 'running'",
                (utc_now(), sync.sync_key),
            )
            self.wh.execute(
                f"""
                insert into {state.RUNS} (
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

    def _update_run_counts(self, result: SyncResult, *, final: bool = False) -> None:
        counts = result.counts()
        assignments = ", ".join(f"{name} = ?" for name in counts)
        params: list[Any] = [*counts.values(), result.batches_sent]
        extra = ", batches_sent = ?"
        if final:
            extra += ", status = ?, finished_at = ?, error_sample = ?"
            params += [result.status, result.finished_at, result.error_sample]
        self.wh.execute(
            f"update {state.RUNS} set {assignments}{extra} where run_id = ?",
            [*params, result.run_id],
        )

    def _finish_run(self, result: SyncResult) -> None:
        self._update_run_counts(result, final=True)

    def _summary(self, sync: AudienceSync, result: SyncResult) -> RunSummary:
        return RunSummary(
            sync_key=sync.sync_key,
            audience=sync.audience,
            destination=sync.destination,
            run_id=result.run_id,
            mode=sync.mode,
            status=result.status,
            started_at=result.started_at,
            finished_at=result.finished_at or utc_now(),
            counts=result.counts(),
        )

    def _sample(self, sync: AudienceSync, size: int) -> list[dict[str, Any]]:
        q = self.wh.quote
        columns = ["_cdp_change_type", "_cdp_record_key", *sync.columns]
        rows = self.wh.fetchall(
            f"select {', '.join(q(c) for c in columns)} from {_WORK} "
            f"order by _cdp_seq limit {int(size)}"
        )
        names = ["change", "record_key", *sync.columns]
        return [dict(zip(names, row, strict=True)) for row in rows]

    def _drop_temp_tables(self) -> None:
        for table in _TEMP_TABLES:
            self.wh.execute(f"drop table if exists {table}")


def payload_sha256(batch: SyncBatch) -> str:
    """SHA-256 of the canonical JSON of what a batch carries (for the audit table)."""
    digest = hashlib.sha256()
    digest.update(canonical_json({
        "sync": batch.sync_key, "operation": batch.operation, "batch_id": batch.batch_id,
    }))
    for record in batch.records:
        digest.update(canonical_json(record_payload(record)))
    return digest.hexdigest()


def summarise_reasons(results: Sequence[SyncResult]) -> Mapping[str, int]:
    total: Counter[str] = Counter()
    for result in results:
        total.update(result.suppressed_by_reason)
    return dict(total)
