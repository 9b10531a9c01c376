"""Planning a sync run in the warehouse: stage, suppress, diff, cap, number the work.

Everything here is set-based SQL over temporary tables on the run's connection:

- ``_cdp_aud``: the audience (record key, declared columns, row hash);
- ``_cdp_supp``: one suppression reason per member (first reason wins: no_consent,
  recent_complaint, campaign_duplicate, missing_identifier; frequency_cap is added after
  the diff, for rows that would be sent);
- ``_cdp_changes`` then ``_cdp_work``: added / changed / removed rows, numbered in send
  order with their idempotency key, md5(sync | record | change | row hash | previous key),
  where the previous key is the one of the record's last accepted change. The key is the
  same when a crashed run is planned again (state unchanged) and new for every later
  change, also for a member who leaves and comes back with the same values.

Eligible = audience minus suppressed. Added = eligible and not in state (or removed);
changed = hash differs (upsert, mirror); removed = in state and not eligible (mirror): a
member whose consent was withdrawn since the last run is removed from a mirrored
destination. A removal leaves a tombstone (``is_removed``) in ``cdp_sync_state``.
People in the privacy tombstones (right to be forgotten, see ``forget``) are dropped from
the changes whatever their kind: never sent again, never kept as a removal tombstone.
Rows left in ``cdp_sync_in_flight`` (a killed run, an outage after the destination took
the batch) are in doubt: eligible ones are sent again (same key when unchanged, so the
destination drops the duplicate), and in mirror mode those that were never recorded as
synced and are no longer eligible are removed, so no member the destination took
unconfirmed stays there after leaving the audience.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from orchestration.resources.warehouse import WarehouseConnection
from orchestration.syncs import state
from orchestration.syncs.config import AudienceSync, Policies
from orchestration.syncs.errors import ConfigError, WarehouseDataError
from orchestration.syncs.forget import ForgetPass
from orchestration.syncs.results import SyncOptions, SyncResult

CONSENT_RELATION = ("marts", "customer_consent")
EVENTS_RELATION = ("marts", "fct_events")
COMPLAINT_EVENT = "ticket_complaint"
AUD = "_cdp_aud"
SUPP = "_cdp_supp"
CHANGES = "_cdp_changes"
WORK = "_cdp_work"
SCOPE = "_cdp_scope"
CAPPED = "_cdp_capped"
TEMP_TABLES = (AUD, SUPP, CHANGES, WORK, SCOPE, CAPPED)


class Planner:
    """Builds the work table of one sync run."""

    def __init__(
        self,
        warehouse: WarehouseConnection,
        policies: Policies,
        all_syncs: Sequence[AudienceSync] = (),
        forget: ForgetPass | None = None,
    ) -> None:
        self.wh = warehouse
        self.policies = policies
        self.all_syncs = list(all_syncs)
        self.forget = forget

    def plan(
        self, sync: AudienceSync, options: SyncOptions, now: dt.datetime, result: SyncResult
    ) -> None:
        self.drop_temp_tables()
        self._stage_audience(sync, options)
        self._suppress(sync, now)
        self._diff(sync, options)
        self._drop_forgotten()
        if not options.replay:
            result.rows_held_in_dead_letter = self._hold_dead_letters(sync)
        self._apply_frequency_cap(sync, now)
        self._number_work(sync)
        for change_type, count in self.wh.fetchall(
            f"select _cdp_change_type, count(*) from {WORK} group by _cdp_change_type"
        ):
            result.planned[change_type] = int(count)
        result.suppressed_by_reason = {
            reason: int(count)
            for reason, count in self.wh.fetchall(
                f"select reason, count(*) from {SUPP} group by reason order by reason"
            )
        }

    def _stage_audience(self, sync: AudienceSync, options: SyncOptions) -> None:
        q = self.wh.quote
        columns = sync.columns
        listing = ",".join(columns).replace("'", "''")
        hashed = ", ".join(
            f"coalesce(cast({q(column)} as varchar), chr(30))" for column in columns
        )
        select_columns = ", ".join(q(column) for column in columns)
        relation = f"{q(sync.schema)}.{q(sync.relation_name)}"
        self.wh.execute(
            f"""
            create temp table {AUD} as
            select
                {self.wh.key_sql("customer_id")} as _cdp_record_key,
                {select_columns},
                md5(concat_ws(chr(31), '{listing}', {hashed})) as _cdp_row_hash
            from {relation}
            where customer_id is not null
            """
        )
        duplicates = self.wh.scalar(
            f"select count(*) - count(distinct _cdp_record_key) from {AUD}"
        )
        if duplicates:
            raise WarehouseDataError(
                f"{sync.source_file}: audience {sync.schema}.{sync.relation_name} has "
                f"{duplicates} duplicate customer_id rows; an audience has one row per customer"
            )
        if options.replay:
            self.wh.execute(
                f"create temp table {SCOPE} as select distinct record_key from "
                f"{state.DEAD_LETTER} where sync_key = ? and status = 'open'",
                (sync.sync_key,),
            )
            self.wh.execute(
                f"delete from {AUD} where _cdp_record_key not in "
                f"(select record_key from {SCOPE})"
            )

    def _require_consent_rows(self, sync: AudienceSync) -> None:
        """marts.customer_consent holds a row per customer for each channel of dbt var
        consent_defaults and purpose of var consent_purposes. No row at all for the sync's
        channel and purpose means the two files disagree: every member would be suppressed
        as no_consent, so fail and say where to fix it."""
        purpose = self.policies.consent_purpose
        rows = self.wh.scalar(
            "select count(*) from marts.customer_consent where channel = ? and purpose = ?",
            (sync.channel, purpose),
        )
        if rows or not self.wh.scalar(f"select count(*) from {AUD}"):
            return
        raise ConfigError(
            "dbt_project.yml", "vars.consent_defaults",
            f"marts.customer_consent has no row for channel {sync.channel!r} and purpose "
            f"{purpose!r} (sync {sync.sync_key}, {sync.source_file}): add the channel to var "
            f"consent_defaults and the purpose to var consent_purposes, or change "
            f"policies.consent_purpose in destinations.yml, then rebuild customer_consent",
        )

    def _suppress(self, sync: AudienceSync, now: dt.datetime) -> None:
        q = self.wh.quote
        parts: list[tuple[str, list[Any]]] = []
        if sync.channel:
            self._require_consent_rows(sync)
            # customer_consent decides (dbt var consent_defaults when a customer has no
            # consent event); a member without a row for the channel is not contactable.
            parts.append((
                f"""
                select aud._cdp_record_key, 'no_consent' as reason, 1 as reason_rank
                from {AUD} as aud
                left join (
                    select
                        cast(customer_id as varchar) as record_key,
                        min(case when is_contactable then 1 else 0 end) as contactable
                    from marts.customer_consent
                    where channel = ? and purpose = ?
                    group by cast(customer_id as varchar)
                ) as consent on consent.record_key = aud._cdp_record_key
                where coalesce(consent.contactable, 0) = 0
                """,
                [sync.channel, self.policies.consent_purpose],
            ))
            hours = self.policies.complaint_suppression_hours
            if hours > 0:
                parts.append((
                    f"""
                    select aud._cdp_record_key, 'recent_complaint' as reason, 2 as reason_rank
                    from {AUD} as aud
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
                from {AUD} as aud
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
                from {AUD} as aud
                where {missing}
                """,
                [],
            ))
        if not parts:
            self.wh.execute(f"create temp table {SUPP} (_cdp_record_key varchar, reason varchar)")
            return
        union = "\nunion all\n".join(sql for sql, _ in parts)
        params = [param for _, part_params in parts for param in part_params]
        self.wh.execute(
            f"""
            create temp table {SUPP} as
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

    def require(self, relation: tuple[str, str], sync: AudienceSync, purpose: str) -> None:
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
        # Insert mode sends each customer once; the others re-add tombstoned members, send
        # changed hashes, and send again rows left in flight (the destination may hold
        # their last change, or not). Changes carry the audience columns (null for
        # removals) and whether the record has a state row / an in-flight row, so the
        # delivery inserts new rows without a conflict check.
        q = self.wh.quote
        compare = "" if sync.mode == "insert" else (
            " or state.is_removed or state.row_hash <> aud._cdp_row_hash"
            " or flight.record_key is not null"
        )
        eligible = (
            f"not exists (select 1 from {SUPP} as supp "
            f"where supp._cdp_record_key = aud._cdp_record_key)"
        )
        audience_columns = ", ".join(f"aud.{q(column)}" for column in sync.columns)
        no_columns = ", ".join(f"null as {q(column)}" for column in sync.columns)
        removals = ""
        params: list[Any] = [sync.sync_key, sync.sync_key]
        if sync.mode == "mirror":
            scope = (
                f" and state.record_key in (select record_key from {SCOPE})"
                if options.replay else ""
            )
            flight_scope = scope.replace("state.record_key", "flight.record_key")
            # Removed: members in state who are no longer eligible, and members whose add
            # is in flight (perhaps taken by the destination) who are no longer eligible.
            removals = f"""
            union all
            select
                state.record_key as _cdp_record_key,
                'remove' as _cdp_change_type,
                state.row_hash as _cdp_row_hash,
                state.identity_json as _cdp_identity_json,
                state.idempotency_key as _cdp_previous_key,
                true as _cdp_in_state,
                flight.record_key is not null as _cdp_in_flight,
                {no_columns}
            from {state.STATE} as state
            left join {state.IN_FLIGHT} as flight
                on flight.sync_key = state.sync_key and flight.record_key = state.record_key
            where state.sync_key = ?{scope}
                and not state.is_removed
                and not exists (
                    select 1 from {AUD} as aud
                    where aud._cdp_record_key = state.record_key and {eligible}
                )
            union all
            select
                flight.record_key as _cdp_record_key,
                'remove' as _cdp_change_type,
                flight.row_hash as _cdp_row_hash,
                flight.identity_json as _cdp_identity_json,
                coalesce(state.idempotency_key, '') as _cdp_previous_key,
                state.record_key is not null as _cdp_in_state,
                true as _cdp_in_flight,
                {no_columns}
            from {state.IN_FLIGHT} as flight
            left join {state.STATE} as state
                on state.sync_key = flight.sync_key and state.record_key = flight.record_key
            where flight.sync_key = ?{flight_scope}
                and (state.record_key is null or state.is_removed)
                and not exists (
                    select 1 from {AUD} as aud
                    where aud._cdp_record_key = flight.record_key and {eligible}
                )
            """
            params += [sync.sync_key, sync.sync_key]
        self.wh.execute(
            f"""
            create temp table {CHANGES} as
            select
                aud._cdp_record_key,
                case
                    when state.record_key is null or state.is_removed then 'add'
                    else 'change'
                end as _cdp_change_type,
                aud._cdp_row_hash,
                {self.wh.key_sql("null")} as _cdp_identity_json,
                coalesce(state.idempotency_key, '') as _cdp_previous_key,
                state.record_key is not null as _cdp_in_state,
                flight.record_key is not null as _cdp_in_flight,
                {audience_columns}
            from {AUD} as aud
            left join {state.STATE} as state
                on state.sync_key = ? and state.record_key = aud._cdp_record_key
            left join {state.IN_FLIGHT} as flight
                on flight.sync_key = ? and flight.record_key = aud._cdp_record_key
            where {eligible}
                and (state.record_key is null{compare})
            {removals}
            """,
            params,
        )

    def _drop_forgotten(self) -> None:
        """Forgotten people leave the changes (adds, changes and removals alike)."""
        if self.forget is None or not self.forget.available():
            return
        condition, params = self.forget.hash_condition("_cdp_record_key")
        self.wh.execute(f"delete from {CHANGES} where {condition}", params)

    def _hold_dead_letters(self, sync: AudienceSync) -> int:
        condition = (
            f"exists (select 1 from {state.DEAD_LETTER} as dead "
            f"where dead.sync_key = ? and dead.status = 'open' "
            f"and dead.record_key = {CHANGES}._cdp_record_key "
            f"and dead.row_hash = {CHANGES}._cdp_row_hash "
            f"and dead.change_type = {CHANGES}._cdp_change_type)"
        )
        held = int(self.wh.scalar(
            f"select count(*) from {CHANGES} where {condition}", (sync.sync_key,)
        ) or 0)
        if held:
            self.wh.execute(f"delete from {CHANGES} where {condition}", (sync.sync_key,))
        return held

    def _apply_frequency_cap(self, sync: AudienceSync, now: dt.datetime) -> None:
        cap = self.policies.frequency_cap
        if not cap.max_messages or not sync.channel or sync.channel not in cap.channels:
            return
        placeholders = ", ".join("?" for _ in cap.channels)
        self.wh.execute(
            f"""
            create temp table {CAPPED} as
            select changes._cdp_record_key
            from {CHANGES} as changes
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
            f"insert into {SUPP} (_cdp_record_key, reason) "
            f"select _cdp_record_key, 'frequency_cap' from {CAPPED}"
        )
        self.wh.execute(
            f"delete from {CHANGES} where _cdp_change_type in ('add', 'change') "
            f"and _cdp_record_key in (select _cdp_record_key from {CAPPED})"
        )

    def _number_work(self, sync: AudienceSync) -> None:
        q = self.wh.quote
        columns = ", ".join(q(column) for column in sync.columns)
        # The identity JSON of added and changed rows is made here, for them only; removals
        # carry the one last synced.
        identity = self.wh.json_object_sql(
            [(column.replace("'", "''"), q(column)) for column in sync.identifiers]
        )
        # Ordered by the window's own keys, so the engine sorts once (by _cdp_seq it would
        # sort again); written in that order, so ranges of _cdp_seq are cheap to read.
        send_order = """
            case _cdp_change_type when 'add' then 0 when 'change' then 1 else 2 end,
            _cdp_record_key
        """
        self.wh.execute(
            f"""
            create temp table {WORK} as
            select
                row_number() over (order by {send_order}) as _cdp_seq,
                _cdp_record_key,
                _cdp_change_type,
                _cdp_row_hash,
                case
                    when _cdp_change_type = 'remove' then _cdp_identity_json
                    else {identity}
                end as _cdp_identity_json,
                md5(
                    ? || '|' || _cdp_record_key || '|' || _cdp_change_type
                    || '|' || _cdp_row_hash || '|' || _cdp_previous_key
                ) as _cdp_idempotency_key,
                _cdp_in_state,
                _cdp_in_flight,
                {columns}
            from {CHANGES}
            order by {send_order}
            """,
            (sync.sync_key,),
        )
        self.wh.index_temp_table(WORK, "_cdp_seq")

    def sample(self, sync: AudienceSync, size: int) -> list[dict[str, Any]]:
        q = self.wh.quote
        columns = ["_cdp_change_type", "_cdp_record_key", *sync.columns]
        rows = self.wh.fetchall(
            f"select {', '.join(q(c) for c in columns)} from {WORK} "
            f"order by _cdp_seq limit {int(size)}"
        )
        names = ["change", "record_key", *sync.columns]
        return [dict(zip(names, row, strict=True)) for row in rows]

    def drop_temp_tables(self) -> None:
        for table in TEMP_TABLES:
            self.wh.execute(f"drop table if exists {table}")
