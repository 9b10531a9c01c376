"""Run syncs from the project configuration: the entry point for `cdp`, the CLI and tests.

    from orchestration.syncs import run_syncs
    results = run_syncs(target="dev")                  # every audience's syncs
    results = run_syncs(["winback"], dry_run=True)     # plan only
    report = forget_people(target="dev")               # right to be forgotten, alone

``cdp demo`` runs ``demo_step(warehouse)`` after ``dbt build`` (a post-build step).

Everything that can fail on configuration (destinations, PII policy, secrets, audience
columns) is checked for all selected syncs before the first row is sent. A run starts with
the forget pass (``forget``) of the selected syncs (every sync's when none is named): its
forget runs come first in the results (mode ``forget``).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from orchestration.resources.warehouse import WarehouseResource
from orchestration.resources.webhook import WebhookDestinationResource
from orchestration.syncs import state
from orchestration.syncs.config import AudienceSync, Policies, SyncProject, load_project
from orchestration.syncs.demo_receiver import (
    DEMO_WEBHOOK,
    DemoReceiver,
    default_log_path,
    receiver_address,
)
from orchestration.syncs.engine import SyncEngine, SyncOptions, SyncResult
from orchestration.syncs.errors import SyncError
from orchestration.syncs.forget import ForgetReport
from orchestration.warehouse import Warehouse


def order_syncs(syncs: Sequence[AudienceSync], policies: Policies) -> list[AudienceSync]:
    """Run order: channel priority first (it wins the frequency cap), then audience priority."""
    return sorted(
        syncs,
        key=lambda sync: (
            policies.channel_rank(sync.channel), sync.priority, sync.audience, sync.index
        ),
    )


def default_warehouse(target: str | None, project_dir: str | Path | None) -> WarehouseResource:
    return WarehouseResource(
        target=target or os.environ.get("DBT_TARGET", "dev"),
        project_dir=str(project_dir) if project_dir else None,
    )


def run_syncs(
    audiences: Sequence[str] | None = None,
    *,
    target: str | None = None,
    dry_run: bool = False,
    replay: bool = False,
    project: SyncProject | None = None,
    warehouse: WarehouseResource | None = None,
    manifest: Mapping[str, Any] | str | Path | None = None,
    destinations_file: str | Path | None = None,
    project_dir: str | Path | None = None,
    now: dt.datetime | None = None,
    actor: str | None = None,
    sample_size: int = 5,
    on_result: Callable[[SyncResult], None] | None = None,
) -> list[SyncResult]:
    """Run the syncs of ``audiences`` (all when empty) and return one result per sync.

    ``replay`` re-sends open dead letters (only syncs that have some are run). A destination
    that fails shows in that sync's result (status ``failed``) and the other syncs still run.
    """
    project = project or load_project(
        manifest=manifest, destinations_file=destinations_file, project_dir=project_dir
    )
    selected = project.select(audiences)
    project.validate(selected)
    warehouse = warehouse or default_warehouse(target, project_dir)
    options = SyncOptions(
        dry_run=dry_run, replay=replay, now=now, actor=actor, sample_size=sample_size,
        forget=False,
    )
    results: list[SyncResult] = []
    with warehouse.connect() as connection:
        engine = SyncEngine(connection, project.policies, all_syncs=project.syncs,
                            tombstones=project.tombstones)
        for sync in selected:
            engine.preflight(sync)
        if not dry_run:
            report = engine.forget(
                project.destinations,
                sync_keys=None if not audiences else [sync.sync_key for sync in selected],
                actor=actor, now=now,
            )
            for result in report.runs:
                results.append(result)
                if on_result is not None:
                    on_result(result)
        if replay:
            selected = [sync for sync in selected if _open_dead_letters(engine, sync)]
        for sync in order_syncs(selected, project.policies):
            result = engine.run(sync, project.destination_for(sync), options)
            results.append(result)
            if on_result is not None:
                on_result(result)
    return results


def forget_people(
    *,
    target: str | None = None,
    project: SyncProject | None = None,
    warehouse: WarehouseResource | None = None,
    manifest: Mapping[str, Any] | str | Path | None = None,
    destinations_file: str | Path | None = None,
    project_dir: str | Path | None = None,
    now: dt.datetime | None = None,
    actor: str | None = None,
) -> ForgetReport:
    """The forget pass alone, over every sync's state (``cdp sync forget``): deletes of the
    people in the privacy tombstones at every destination that delivered them, then a
    purge of ``cdp_sync``. Safe to re-run; a failed destination leaves its deletes pending."""
    project = project or load_project(
        manifest=manifest, destinations_file=destinations_file, project_dir=project_dir
    )
    warehouse = warehouse or default_warehouse(target, project_dir)
    with warehouse.connect() as connection:
        engine = SyncEngine(connection, project.policies, all_syncs=project.syncs,
                            tombstones=project.tombstones)
        return engine.forget(project.destinations, actor=actor, now=now)


def replay_dead_letters(audiences: Sequence[str] | None = None, **kwargs: Any) -> list[SyncResult]:
    """Re-send the open dead letters of the selected syncs (policies are applied again)."""
    return run_syncs(audiences, replay=True, **kwargs)


def _open_dead_letters(engine: SyncEngine, sync: AudienceSync) -> int:
    if engine.wh.relation_columns(state.SCHEMA, "cdp_sync_dead_letter") is None:
        return 0
    return int(engine.wh.scalar(
        f"select count(*) from {state.DEAD_LETTER} where sync_key = ? and status = 'open'",
        (sync.sync_key,),
    ) or 0)


def demo_step(warehouse: Warehouse) -> str:
    """Post-build step of ``cdp demo``: every audience's syncs, one summary line.

    When a sync uses the ``demo_webhook`` destination, a local receiver is started for it
    (unless something already listens on its port). Raises ``SyncError`` when a sync
    failed, so the demo fails."""
    project_dir = Path(warehouse.project_dir)
    project = load_project(project_dir=project_dir)
    with _demo_receiver(project, project_dir) as receiver:
        results = run_syncs(
            project=project,
            warehouse=WarehouseResource.for_warehouse(warehouse),
            project_dir=project_dir,
        )
    failed = [result.sync_key for result in results if result.status == "failed"]
    if failed:
        raise SyncError(f"syncs failed: {', '.join(failed)}")
    summary = (
        f"{len(results)} syncs: {sum(r.rows_sent for r in results):,} rows sent, "
        f"{sum(r.rows_suppressed for r in results):,} suppressed, "
        f"{sum(r.rows_failed for r in results):,} failed"
    )
    if receiver is not None:
        summary += f"; demo webhook received {receiver.accepted:,} new records"
    return summary


@contextmanager
def _demo_receiver(project: SyncProject, project_dir: Path) -> Iterator[DemoReceiver | None]:
    destination = project.destinations.get(DEMO_WEBHOOK)
    used = any(sync.destination == DEMO_WEBHOOK for sync in project.syncs)
    if not used or not isinstance(destination, WebhookDestinationResource):
        yield None
        return
    host, port = receiver_address(destination.url)
    try:
        receiver = DemoReceiver(host, port, default_log_path(project_dir),
                                secret=destination.env_value("signing_secret_env"))
    except OSError:  # already served (e.g. `cdp sync receiver` in another terminal)
        yield None
        return
    with receiver.running():
        yield receiver
