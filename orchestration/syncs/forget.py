"""Right to be forgotten on the sync side: deletes at the destinations, then a purge of cdp_sync.

dbt records each erased person in the model ``privacy_tombstones`` (schema ``privacy``; the
relation is looked up in the dbt manifest): one row per request and hashed identifier, among
them the person's current and retired customer ids as identifier_type ``customer_id`` with
identifier_hash = sha256("<salt>:customer_id:<customer id>"), salt = env ``CDP_PII_SALT``
(``demo-salt`` when unset, as the dbt macro ``salted_hash``). The dbt build removes the person
from every model; the sync engine's own tables (schema ``cdp_sync``) are cleared here.

A forget pass (``ForgetPass.run``; ``SyncEngine.forget``) runs before every sync run's diff,
alone as ``cdp sync forget``, and as the Dagster asset ``privacy/forget_synced_people``:

1. Find the forgotten people in ``cdp_sync`` (state, in flight, row failures, dead letters;
   every person with sync events has a row there too), hashing their customer ids in SQL
   with the formula above, matched against the tombstones. Only syncs with a tombstone
   they were not yet checked for are hashed (``cdp_sync_forget_checks``: tombstones are
   append-only, and the planner keeps forgotten people out of every later change), so the
   common case, no new tombstone, costs one small query.
2. For every sync that delivered one of them (a state row not removed, or a row in flight,
   which the destination may hold; for destinations keeping a history, such as file
   exports, also rows a mirror removal already deleted), a run of mode ``forget`` sends
   ``delete`` batches flagged ``forget`` (``SyncBatch.forget``), with the destination's
   batch size, retries and rate limit, an idempotency key per person and sync
   (md5(sync | record | forget | last accepted key): stable until the delete is recorded),
   and one ``cdp_sync_audit`` row per batch (operation ``forget``). Each batch's commit
   drops the people the destination took from ``cdp_sync_state`` and
   ``cdp_sync_in_flight``. Destinations that erase by key (file, postgres, redis) get the
   customer id only; webhook and ads get the identifiers last synced (ads hashes them).
   A destination that cannot delete (or is no longer declared) gets an audit row of
   operation ``forget_unsupported``, a run of status ``forget_unsupported`` and a warning;
   the run goes on.
3. Purge the people from every ``cdp_sync`` table holding per-person data: state and in
   flight (except rows whose delete is still pending: the destination was unavailable or
   rejected it; they are retried next pass), row failures, dead letters (their payload),
   events; and redact their identifiers in ``cdp_sync_runs.error_sample``. The audit table
   holds no per-person data (column names and payload hashes only) and stays append-only.

The pass is idempotent: killed anywhere, the next pass finds what is left (pending deletes
are re-sent with the same keys, so the destination drops duplicates). The planner also drops
forgotten people from every diff (``hash_condition``), so nobody is sent again, nor kept as a
removal tombstone in ``cdp_sync_state``, even before the dbt build has removed them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from orchestration.resources.base import (
    BatchResult,
    DestinationResource,
    DestinationSession,
    RunSummary,
    SyncBatch,
    SyncRecord,
    batch_sha256,
)
from orchestration.resources.warehouse import WarehouseConnection
from orchestration.syncs import state
from orchestration.syncs.errors import DestinationError, SyncError
from orchestration.syncs.results import SyncResult

log = logging.getLogger(__name__)

TOMBSTONES_MODEL = "privacy_tombstones"
DEFAULT_TOMBSTONES = ("privacy", TOMBSTONES_MODEL)
CUSTOMER_ID_TYPE = "customer_id"
SALT_ENV = "CDP_PII_SALT"
DEFAULT_SALT = "demo-salt"
FORGET = "forget"
FORGET_UNSUPPORTED = "forget_unsupported"
REDACTED = "[forgotten]"
FORGOTTEN = "_cdp_forgotten"
HASHES = "_cdp_forget_hashes"
PENDING = "_cdp_forget_pending"
DONE = "_cdp_forget_done"
# Identifier values shorter than this are not redacted from error samples (too ambiguous).
MIN_REDACTED_LENGTH = 4


def pii_salt() -> str:
    """The salt of identifier hashes: env CDP_PII_SALT, as dbt's ``salted_hash`` reads it."""
    return os.environ.get(SALT_ENV, DEFAULT_SALT)


def identifier_hash(identifier_type: str, value: str, salt: str | None = None) -> str:
    """sha256("<salt>:<type>:<value>") in lower-case hex, as privacy_tombstones holds it."""
    salt = pii_salt() if salt is None else salt
    return hashlib.sha256(f"{salt}:{identifier_type}:{value}".encode()).hexdigest()


def tombstone_relation(manifest: Mapping[str, Any] | None) -> tuple[str, str]:
    """(schema, name) of the ``privacy_tombstones`` model in the manifest; the contract's
    ``privacy.privacy_tombstones`` when the manifest has no such model."""
    node = tombstone_node(manifest)
    if node is None:
        return DEFAULT_TOMBSTONES
    return str(node.get("schema") or DEFAULT_TOMBSTONES[0]), str(
        node.get("alias") or node.get("name")
    )


def tombstone_node(manifest: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    for node in ((manifest or {}).get("nodes") or {}).values():
        if node.get("resource_type") == "model" and node.get("name") == TOMBSTONES_MODEL:
            return node
    return None


@dataclass
class ForgetReport:
    """What one forget pass did."""

    people: int = 0                       # forgotten people found in cdp_sync
    runs: list[SyncResult] = field(default_factory=list)
    purged: dict[str, int] = field(default_factory=dict)   # rows deleted per table
    pending: int = 0                      # deletes left for the next pass
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(run.status == "failed" for run in self.runs)

    @property
    def rows_deleted(self) -> int:
        return sum(run.rows_removed for run in self.runs)

    def summary(self) -> str:
        if not self.people:
            return "forget: nobody to forget in the sync state"
        text = (
            f"forget: {self.people} forgotten people; {self.rows_deleted} deletes taken by "
            f"{sum(1 for run in self.runs if run.rows_removed)} syncs' destinations; "
            f"{sum(self.purged.values())} rows purged from {state.SCHEMA}"
        )
        if self.pending:
            text += f"; {self.pending} deletes pending (retried next run)"
        return text


@dataclass
class _Target:
    """One forgotten person as one sync delivered them."""

    record_key: str
    basis_key: str
    identifiers: dict[str, Any]
    delivered: bool


class ForgetPass:
    """Finds forgotten people in cdp_sync, deletes them at destinations, purges them."""

    def __init__(
        self,
        warehouse: WarehouseConnection,
        tombstones: tuple[str, str] = DEFAULT_TOMBSTONES,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.wh = warehouse
        self.tombstones = tombstones
        self.now = clock or _utc_now

    # -- matching -------------------------------------------------------------------------
    def available(self) -> bool:
        """Whether the tombstone relation exists (dbt builds it)."""
        return self.wh.relation_columns(*self.tombstones) is not None

    def hash_condition(self, column: str, hashes: str | None = None) -> tuple[str, list[Any]]:
        """SQL (and params) true when customer id ``column`` belongs to a forgotten person
        (of the tombstones, or of the ``hashes`` table's identifier_hash)."""
        text = f"cast(? as varchar) || ':{CUSTOMER_ID_TYPE}:' || cast({column} as varchar)"
        if self.wh.dialect == "postgres":
            digest = f"encode(sha256(convert_to({text}, 'UTF8')), 'hex')"
        else:
            digest = f"sha256({text})"
        if hashes is not None:
            return f"{digest} in (select identifier_hash from {hashes})", [pii_salt()]
        return f"{digest} in ({self._customer_hashes_sql()})", [pii_salt()]

    def _customer_hashes_sql(self) -> str:
        schema, name = self.tombstones
        return (
            f"select identifier_hash from {self.wh.quote(schema)}.{self.wh.quote(name)} "
            f"where identifier_type = '{CUSTOMER_ID_TYPE}'"
        )

    # -- the pass -------------------------------------------------------------------------
    def run(
        self,
        destinations: Mapping[str, DestinationResource],
        *,
        sync_keys: Sequence[str] | None = None,
        actor: str,
    ) -> ForgetReport:
        """Forget everyone in the tombstones, in the state of ``sync_keys`` (all when None)."""
        report = ForgetReport()
        if not self.available():
            return report
        self.wh.execute(f"drop table if exists {HASHES}")
        self.wh.execute(
            f"create temp table {HASHES} as select distinct identifier_hash "
            f"from ({self._customer_hashes_sql()}) as tombstones"
        )
        unchecked = self._unchecked_syncs(*_scope("sync_key", sync_keys))
        if not unchecked:
            return report
        scope, scope_params = _scope("sync_key", unchecked)
        report.people = self._find(scope, scope_params)
        pending: set[tuple[str, str]] = set()
        if not report.people:
            self._mark_checked(unchecked, pending)
            return report
        targets, values = self._targets(scope, scope_params)
        for sync_key in sorted(targets):
            audience, destination_name, people = targets[sync_key]
            destination = destinations.get(destination_name)
            to_send = [
                person for person in people.values()
                if person.delivered or (destination is not None and destination.keeps_history)
            ]
            if not to_send:
                continue
            if destination is None or not destination.supports_delete:
                report.runs.append(self._unsupported(
                    sync_key, audience, destination_name, destination, len(to_send), actor
                ))
                report.notes.append(report.runs[-1].notes[0])
                continue
            if not self.wh.try_lock(sync_key):
                pending.update((sync_key, person.record_key) for person in to_send)
                report.notes.append(f"{sync_key}: the sync is running elsewhere; its "
                                    f"{len(to_send)} forget deletes are left for the next pass")
                continue
            try:
                result, left = self._send(sync_key, audience, destination, to_send, actor)
            finally:
                self.wh.unlock(sync_key)
            report.runs.append(result)
            pending.update((sync_key, record_key) for record_key in left)
        report.pending = len(pending)
        report.purged = self._purge(scope, scope_params, pending)
        self._redact(values, scope, scope_params)
        self._mark_checked(unchecked, pending)
        if report.pending:
            report.notes.append(f"{report.pending} forget deletes pending: the destination "
                                "was unavailable or rejected them; retried next pass")
        log.info("%s", report.summary())
        return report

    def _unchecked_syncs(self, scope: str, params: list[Any]) -> list[str]:
        """Syncs in scope holding per-person rows and not yet checked for some tombstone."""
        rows = self.wh.fetchall(
            f"""
            select syncs.sync_key
            from (
                select distinct sync_key from {state.STATE} where true{scope}
                union
                select distinct sync_key from {state.IN_FLIGHT} where true{scope}
                union
                select distinct sync_key from {state.ROW_FAILURES} where true{scope}
                union
                select distinct sync_key from {state.DEAD_LETTER} where true{scope}
            ) as syncs
            where exists (
                select 1 from {HASHES} as hashes
                where not exists (
                    select 1 from {state.FORGET_CHECKS} as checks
                    where checks.sync_key = syncs.sync_key
                        and checks.identifier_hash = hashes.identifier_hash
                )
            )
            order by 1
            """,
            params * 4,
        )
        return [sync_key for (sync_key,) in rows]

    def _mark_checked(self, sync_keys: Sequence[str], pending: set[tuple[str, str]]) -> None:
        """Record the syncs left with no pending delete as checked for this pass's hashes."""
        done = sorted(set(sync_keys) - {sync_key for sync_key, _ in pending})
        if not done:
            return
        self.wh.load_temp_table(DONE, [("sync_key", "varchar")], [(key,) for key in done])
        self.wh.execute(
            f"""
            insert into {state.FORGET_CHECKS} (identifier_hash, sync_key, checked_at)
            select hashes.identifier_hash, syncs.sync_key, ?
            from {HASHES} as hashes
            cross join {DONE} as syncs
            where not exists (
                select 1 from {state.FORGET_CHECKS} as checks
                where checks.identifier_hash = hashes.identifier_hash
                    and checks.sync_key = syncs.sync_key
            )
            """,
            (self.now(),),
        )

    def _find(self, scope: str, params: list[Any]) -> int:
        condition, condition_params = self.hash_condition("keys.record_key", HASHES)
        self.wh.execute(f"drop table if exists {FORGOTTEN}")
        self.wh.execute(
            f"""
            create temp table {FORGOTTEN} as
            select keys.record_key
            from (
                select record_key from {state.STATE} where true{scope}
                union
                select record_key from {state.IN_FLIGHT} where true{scope}
                union
                select record_key from {state.ROW_FAILURES} where true{scope}
                union
                select record_key from {state.DEAD_LETTER} where true{scope}
            ) as keys
            where {condition}
            """,
            [*params * 4, *condition_params],
        )
        return int(self.wh.scalar(f"select count(*) from {FORGOTTEN}") or 0)

    def _targets(
        self, scope: str, params: list[Any]
    ) -> tuple[dict[str, tuple[str, str, dict[str, _Target]]], set[str]]:
        """Per sync: (audience, destination, people by record key); and every identifier
        value of the forgotten people (for redaction)."""
        flight_scope = scope.replace("sync_key", "flight.sync_key")
        rows = self.wh.fetchall(
            f"""
            select
                sync_key, record_key, audience, destination, identity_json, idempotency_key,
                is_removed, 0 as source_order
            from {state.STATE}
            where record_key in (select record_key from {FORGOTTEN}){scope}
            union all
            select
                flight.sync_key, flight.record_key, runs.audience, runs.destination,
                flight.identity_json, flight.idempotency_key, false, 1
            from {state.IN_FLIGHT} as flight
            left join {state.RUNS} as runs on runs.run_id = flight.run_id
            where flight.record_key in (select record_key from {FORGOTTEN}){flight_scope}
            order by 8
            """,
            [*params, *params],
        )
        targets: dict[str, tuple[str, str, dict[str, _Target]]] = {}
        values: set[str] = set()
        for (sync_key, record_key, audience, destination, identity_json, key, is_removed,
             source_order) in rows:
            identity = json.loads(identity_json) if identity_json else {}
            values.add(str(record_key))
            values.update(str(value) for value in identity.values() if value is not None)
            known_audience, known_destination, people = targets.get(sync_key, ("", "", {}))
            targets[sync_key] = (
                known_audience or audience or sync_key.split("__")[0],
                known_destination or destination or "",
                people,
            )
            person = people.get(record_key)
            if person is None:
                people[record_key] = _Target(
                    record_key=record_key, basis_key=key, identifiers=dict(identity),
                    delivered=not is_removed,
                )
                continue
            # In flight after a state row: the destination may hold the newer identifiers.
            person.identifiers.update({k: v for k, v in identity.items() if v is not None})
            person.delivered = True
        for payload_json, in self.wh.fetchall(
            f"select payload_json from {state.DEAD_LETTER} "
            f"where record_key in (select record_key from {FORGOTTEN}){scope}",
            params,
        ):
            try:
                identifiers = json.loads(payload_json or "{}").get("identifiers") or {}
            except (ValueError, AttributeError):
                continue
            values.update(str(value) for value in identifiers.values() if value is not None)
        return targets, values

    # -- sending --------------------------------------------------------------------------
    def _send(
        self,
        sync_key: str,
        audience: str,
        destination: DestinationResource,
        people: list[_Target],
        actor: str,
    ) -> tuple[SyncResult, set[str]]:
        """One forget run for one sync; returns it and the record keys still pending."""
        result = self._start(sync_key, audience, destination.name, actor)
        left = {person.record_key for person in people}
        session: DestinationSession | None = None
        try:
            session = destination.open_session()
            people = sorted(people, key=lambda person: person.record_key)
            size = destination.batch_size
            for number, first in enumerate(range(0, len(people), size), start=1):
                batch = self._batch(sync_key, audience, destination, people[first:first + size],
                                    result.run_id, number)
                abort: DestinationError | None = None
                try:
                    outcome = session.send(batch)
                except DestinationError as error:
                    abort = error
                    outcome = BatchResult(
                        accepted=set(),
                        failed={record.idempotency_key: str(error) for record in batch.records},
                    )
                result.batches_sent += 1
                left -= self._commit(batch, outcome, destination, result, actor)
                if abort is not None and not abort.rows_rejected:
                    result.status = "failed"
                    break
        except SyncError as error:   # configuration (a secret not set) or connection
            result.status = "failed"
            result.errors.insert(0, str(error))
        except BaseException as error:
            result.status = "failed"
            result.errors.insert(0, f"{type(error).__name__}: {error}")
            raise
        finally:
            result.finished_at = self.now()
            if result.status == "running":
                result.status = "partial" if left else "success"
            try:
                if session is not None:
                    session.finish(RunSummary(
                        sync_key=sync_key, audience=audience, destination=destination.name,
                        run_id=result.run_id, mode=FORGET, status=result.status,
                        started_at=result.started_at, finished_at=result.finished_at,
                        counts=result.counts(),
                    ))
            finally:
                if session is not None:
                    session.close()
                state.update_run(self.wh, result, final=True)
        if result.status != "success":
            log.warning("forget %s: %s, %d deletes pending: %s", sync_key, result.status,
                        len(left), result.error_sample)
        return result, left

    def _batch(
        self,
        sync_key: str,
        audience: str,
        destination: DestinationResource,
        people: list[_Target],
        run_id: str,
        number: int,
    ) -> SyncBatch:
        if destination.forget_by_key:
            names: tuple[str, ...] = (CUSTOMER_ID_TYPE,)
        else:
            names = tuple(sorted({name for person in people for name in person.identifiers}))
        records = []
        for person in people:
            identifiers = (
                {CUSTOMER_ID_TYPE: person.record_key} if destination.forget_by_key
                else {name: person.identifiers.get(name) for name in names}
            )
            key = hashlib.md5(
                f"{sync_key}|{person.record_key}|{FORGET}|{person.basis_key}".encode()
            ).hexdigest()
            records.append(SyncRecord(person.record_key, "delete", key, identifiers, {}))
        return SyncBatch(
            sync_key=sync_key, audience=audience, destination=destination.name,
            run_id=run_id, batch_number=number, operation="delete", records=tuple(records),
            identifier_names=names, forget=True,
        )

    def _commit(
        self,
        batch: SyncBatch,
        outcome: BatchResult,
        destination: DestinationResource,
        result: SyncResult,
        actor: str,
    ) -> set[str]:
        """Record one batch: taken people out of state and in flight, an audit row, counts.
        Returns the record keys the destination took."""
        by_key = {record.idempotency_key: record for record in batch.records}
        failed = {key: error for key, error in outcome.failed.items() if key in by_key}
        accepted = {key for key in outcome.accepted if key in by_key and key not in failed}
        for key in by_key.keys() - accepted - failed.keys():
            failed[key] = "no answer for this row"
        taken = {by_key[key].record_key for key in accepted}
        with self.wh.transaction():
            if taken:
                self.wh.load_temp_table(DONE, [("record_key", "varchar")],
                                        [(key,) for key in sorted(taken)])
                for table in (state.STATE, state.IN_FLIGHT):
                    self.wh.execute(
                        f"delete from {table} where sync_key = ? "
                        f"and record_key in (select record_key from {DONE})",
                        (batch.sync_key,),
                    )
            self._audit(
                result, actor, operation=FORGET, batch_number=batch.batch_number,
                rows=(len(batch.records), len(accepted), len(failed)),
                fields_sent=",".join(destination.fields_sent(batch)),
                payload_sha256=outcome.payload_sha256 or batch_sha256(batch),
            )
            result.rows_removed += len(accepted)
            result.rows_failed += len(failed)
            for error in list(dict.fromkeys(failed.values()))[:3]:
                if len(result.errors) < 20:
                    result.errors.append(error[:1000])
            state.update_run(self.wh, result)
        return taken

    def _unsupported(
        self,
        sync_key: str,
        audience: str,
        destination_name: str,
        destination: DestinationResource | None,
        people: int,
        actor: str,
    ) -> SyncResult:
        why = (
            f"a {destination.destination_type} destination cannot delete" if destination
            else "the destination is not declared in the destinations file"
        )
        note = (
            f"{FORGET_UNSUPPORTED}: sync {sync_key} -> {destination_name or '?'}: {why}; "
            f"{people} forgotten people removed from the sync state only: erase them at the "
            "destination by other means"
        )
        log.warning("%s", note)
        result = self._start(sync_key, audience, destination_name, actor)
        result.notes.append(note)
        result.errors.append(note)
        result.status = FORGET_UNSUPPORTED
        with self.wh.transaction():
            self._audit(result, actor, operation=FORGET_UNSUPPORTED, batch_number=0,
                        rows=(0, 0, people), fields_sent="",
                        payload_sha256=hashlib.sha256(b"").hexdigest())
            result.finished_at = self.now()
            state.update_run(self.wh, result, final=True)
        return result

    def _start(self, sync_key: str, audience: str, destination: str, actor: str) -> SyncResult:
        now = self.now()
        result = SyncResult(
            run_id=uuid.uuid4().hex, sync_key=sync_key, audience=audience,
            destination=destination, mode=FORGET, channel=None, started_at=now,
        )
        with self.wh.transaction():
            self.wh.execute(
                f"update {state.RUNS} set status = 'interrupted', finished_at = ? "
                "where sync_key = ? and status = 'running'",
                (now, sync_key),
            )
            self.wh.execute(
                f"""
                insert into {state.RUNS} (
                    run_id, sync_key, audience, destination, mode, actor, started_at,
                    suppressed_by_reason, status
                ) values (?, ?, ?, ?, ?, ?, ?, '{{}}', 'running')
                """,
                (result.run_id, sync_key, audience, destination, FORGET, actor, now),
            )
        return result

    def _audit(
        self,
        result: SyncResult,
        actor: str,
        *,
        operation: str,
        batch_number: int,
        rows: tuple[int, int, int],
        fields_sent: str,
        payload_sha256: str,
    ) -> None:
        state.record_audit(self.wh, [(
            result.run_id, actor, result.sync_key, result.audience, result.destination,
            operation, batch_number, *rows, fields_sent, payload_sha256, self.now(),
        )])

    # -- purging --------------------------------------------------------------------------
    def _purge(
        self, scope: str, params: list[Any], pending: set[tuple[str, str]]
    ) -> dict[str, int]:
        """Delete the forgotten people's rows from every per-person table (one transaction);
        state and in-flight rows of pending deletes stay. Returns rows deleted per table."""
        purged: dict[str, int] = {}
        forgotten = f"record_key in (select record_key from {FORGOTTEN})"
        with self.wh.transaction():
            self.wh.load_temp_table(PENDING, [("pair", "varchar")],
                                    [(f"{sync}\x1f{key}",) for sync, key in sorted(pending)])
            not_pending = (
                f" and sync_key || chr(31) || record_key not in (select pair from {PENDING})"
            )
            for table, condition in (
                (state.STATE, forgotten + not_pending),
                (state.IN_FLIGHT, forgotten + not_pending),
                (state.ROW_FAILURES, forgotten),
                (state.DEAD_LETTER, forgotten),
                (state.EVENTS, forgotten.replace("record_key in", "customer_id in", 1)),
            ):
                deleted = self.wh.fetchall(
                    f"delete from {table} where {condition}{scope} returning 1", params
                )
                purged[table.split(".")[-1]] = len(deleted)
        return purged

    def _redact(self, values: set[str], scope: str, params: list[Any]) -> None:
        """Replace the forgotten people's identifiers in run error samples."""
        needles = sorted((value for value in values if len(value) >= MIN_REDACTED_LENGTH),
                         key=len, reverse=True)
        if not needles:
            return
        samples = self.wh.fetchall(
            f"select run_id, error_sample from {state.RUNS} "
            f"where error_sample is not null{scope}",
            params,
        )
        for run_id, sample in samples:
            redacted = sample
            for needle in needles:
                redacted = redacted.replace(needle, REDACTED)
            if redacted != sample:
                self.wh.execute(f"update {state.RUNS} set error_sample = ? where run_id = ?",
                                (redacted, run_id))


def _scope(column: str, sync_keys: Sequence[str] | None) -> tuple[str, list[Any]]:
    if sync_keys is None:
        return "", []
    if not sync_keys:
        return " and false", []
    placeholders = ", ".join("?" for _ in sync_keys)
    return f" and {column} in ({placeholders})", list(sync_keys)


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
