"""The diff-based sync of one audience to one destination.

A run:

1. preflight: the audience relation and every declared column exist, and so do the marts
   the policies read (``marts.customer_consent``, ``marts.fct_events``);
2. plan (``planning``): stage the audience, suppress by policy, diff against
   ``cdp_sync_state``, hold back open dead letters and rows over the frequency cap;
3. deliver (``delivery``): batches to the destination session, one transaction per batch
   recording what the destination accepted. Nothing is marked synced before that.

Each row change carries an idempotency key, md5(sync | record | change | row hash): a run
killed after the destination took a batch but before the commit re-sends that batch with
the same keys on the next run, and the destination drops the duplicates. A run log row
(``cdp_sync_runs``) is kept up to date per batch; a run found still ``running`` by the
next run of the same sync is marked ``interrupted``.

Before planning, a run forgets the people of the privacy tombstones in its sync's state
(``forget``: deletes at the destination, then a purge of ``cdp_sync``); ``SyncEngine.forget``
runs that pass for any set of syncs (``run_syncs`` and ``cdp sync forget`` run it first).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence

from orchestration.resources.base import (
    DestinationResource,
    DestinationSession,
    RunSummary,
)
from orchestration.resources.warehouse import WarehouseConnection
from orchestration.syncs import state
from orchestration.syncs.config import AudienceSync, Policies
from orchestration.syncs.delivery import Delivery
from orchestration.syncs.errors import (
    ConfigError,
    SyncAlreadyRunningError,
    WarehouseDataError,
)
from orchestration.syncs.forget import DEFAULT_TOMBSTONES, ForgetPass, ForgetReport
from orchestration.syncs.planning import CONSENT_RELATION, EVENTS_RELATION, Planner
from orchestration.syncs.results import (
    SUPPRESSION_REASONS,
    SyncOptions,
    SyncResult,
    default_actor,
    utc_now,
)

__all__ = [
    "SUPPRESSION_REASONS",
    "SyncEngine",
    "SyncOptions",
    "SyncResult",
    "default_actor",
    "utc_now",
]


class SyncEngine:
    """Runs syncs, one after another, on one open warehouse connection."""

    def __init__(
        self,
        warehouse: WarehouseConnection,
        policies: Policies,
        *,
        all_syncs: Sequence[AudienceSync] = (),
        tombstones: tuple[str, str] = DEFAULT_TOMBSTONES,
    ) -> None:
        self.wh = warehouse
        self.policies = policies
        self.forgetter = ForgetPass(warehouse, tombstones, self._now)
        self.planner = Planner(warehouse, policies, all_syncs, forget=self.forgetter)
        self.delivery = Delivery(warehouse, policies, self._now)
        self._tables_ready = False
        self._clock: dt.datetime | None = None

    def _now(self) -> dt.datetime:
        """The run's clock: ``SyncOptions.now`` when given (tests, backfills), else UTC now."""
        return self._clock or utc_now()

    def _ensure_tables(self) -> None:
        if not self._tables_ready:
            state.ensure_tables(self.wh)
            self._tables_ready = True

    def forget(
        self,
        destinations: Mapping[str, DestinationResource],
        *,
        sync_keys: Sequence[str] | None = None,
        actor: str | None = None,
        now: dt.datetime | None = None,
    ) -> ForgetReport:
        """Forget the people of the privacy tombstones in the state of ``sync_keys`` (every
        sync's when None): deletes at ``destinations`` (by name), then a purge of cdp_sync.
        Destination failures show in the report's runs; the pass never raises for them."""
        if now is not None:
            self._clock = now
        self._ensure_tables()
        return self.forgetter.run(destinations, sync_keys=sync_keys,
                                  actor=actor or default_actor())

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
            self.planner.require(CONSENT_RELATION, sync, "channel consent")
            if self.policies.complaint_suppression_hours > 0:
                self.planner.require(EVENTS_RELATION, sync, "complaint suppression")
        return columns

    def run(
        self,
        sync: AudienceSync,
        destination: DestinationResource,
        options: SyncOptions | None = None,
        session: DestinationSession | None = None,
    ) -> SyncResult:
        """Plan and (unless dry run) send one sync. Destination failures end up in the
        result's status; configuration and warehouse errors raise."""
        options = options or SyncOptions()
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
            started_at=now,
        )
        self.preflight(sync)
        self._ensure_tables()
        if options.forget and not options.dry_run:
            report = self.forget({sync.destination: destination}, sync_keys=[sync.sync_key],
                                 actor=actor)
            result.rows_forgotten = report.rows_deleted
            result.notes.extend(report.notes)
        if not self.wh.try_lock(sync.sync_key):
            raise SyncAlreadyRunningError(f"sync {sync.sync_key!r} is running elsewhere")
        try:
            self.planner.plan(sync, options, now, result)
            if options.dry_run:
                result.sample = self.planner.sample(sync, options.sample_size)
                result.status = "dry_run"
                result.finished_at = self._now()
                return result
            state.start_run(self.wh, sync, result, actor, now)
            self._deliver(sync, destination, session, result, actor, options)
            return result
        finally:
            self.planner.drop_temp_tables()
            self.wh.unlock(sync.sync_key)

    def _deliver(
        self,
        sync: AudienceSync,
        destination: DestinationResource,
        session: DestinationSession | None,
        result: SyncResult,
        actor: str,
        options: SyncOptions,
    ) -> None:
        active = session or destination.open_session()
        try:
            self.delivery.send_all(sync, destination, active, result, actor, options)
        except BaseException as error:
            result.status = "failed"
            result.errors.insert(0, f"{type(error).__name__}: {error}")
            raise
        finally:
            result.finished_at = self._now()
            if result.status == "running":
                result.status = "partial" if result.rows_failed else "success"
            try:
                active.finish(RunSummary(
                    sync_key=sync.sync_key,
                    audience=sync.audience,
                    destination=sync.destination,
                    run_id=result.run_id,
                    mode=sync.mode,
                    status=result.status,
                    started_at=result.started_at,
                    finished_at=result.finished_at,
                    counts=result.counts(),
                ))
            finally:
                if session is None:
                    active.close()
                state.update_run(self.wh, result, final=True)
