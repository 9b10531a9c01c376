"""Sync assets: one Dagster asset per (audience, sync), generated from the dbt manifest.

    from orchestration.assets.syncs import (
        build_sync_assets, build_sync_resources, build_sync_schedules,
    )
    sync_assets = build_sync_assets(dbt_project.manifest_path)
    defs = Definitions(
        assets=[my_dbt_assets, *sync_assets],
        schedules=build_sync_schedules(dbt_project.manifest_path),
        resources={"dbt": ..., **build_sync_resources()},
    )

Each asset depends on its dbt model's asset (the key ``DagsterDbtTranslator`` gives the
model node), needs the ``warehouse`` resource and ``destination_<name>`` resource, reports
rows sent / failed / suppressed (by reason) as metadata, and carries two checks:
``failure_rate_below_threshold`` (ERROR) and ``no_new_dead_letters`` (WARN). A destination
that stays unavailable fails the asset. Each sync run first forgets the people of dbt's
privacy tombstones in its own state (metadata ``rows_forgotten``); ``build_forget_asset``
adds ``privacy/forget_synced_people``, the forget pass over every sync's state (also syncs
no longer declared), downstream of the ``privacy_tombstones`` model. Nothing is parsed or
connected at import time.
"""

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    AssetSelection,
    ConfigurableResource,
    Failure,
    MaterializeResult,
    MetadataValue,
    ScheduleDefinition,
    asset,
)

from orchestration.resources.base import DestinationResource
from orchestration.resources.warehouse import WarehouseResource
from orchestration.syncs.config import (
    AudienceSync,
    audience_nodes,
    default_destinations_file,
    load_destinations_file,
    load_manifest,
    parse_audience_syncs,
    validate_sync,
)
from orchestration.syncs.engine import SyncEngine, SyncOptions, SyncResult
from orchestration.syncs.forget import ForgetReport, tombstone_node, tombstone_relation

if TYPE_CHECKING:
    from dagster_dbt import DagsterDbtTranslator

WAREHOUSE_RESOURCE_KEY = "warehouse"
FAILURE_RATE_CHECK = "failure_rate_below_threshold"
DEAD_LETTER_CHECK = "no_new_dead_letters"


def destination_resource_key(destination: str) -> str:
    """Dagster resource key of a destination named in destinations.yml."""
    return "destination_" + re.sub(r"\W", "_", destination)


def sync_asset_key(sync: AudienceSync, key_prefix: str = "syncs") -> AssetKey:
    return AssetKey([key_prefix, sync.audience, sync.name or sync.destination])


def build_sync_assets(
    manifest: Mapping[str, Any] | str | Path,
    *,
    dagster_dbt_translator: "DagsterDbtTranslator | None" = None,
    destinations_file: str | Path | None = None,
    key_prefix: str = "syncs",
    group_name: str = "syncs",
    pool: str | None = None,
) -> list[AssetsDefinition]:
    """One asset per sync declared in ``meta.cdp_audience`` of the manifest's models.

    ``pool`` puts the assets in a Dagster concurrency pool (DuckDB has one writer: a pool
    limited to 1 avoids syncs waiting on each other's file lock)."""
    if dagster_dbt_translator is None:
        from dagster_dbt import DagsterDbtTranslator

        dagster_dbt_translator = DagsterDbtTranslator()
    translator = dagster_dbt_translator
    manifest_data = load_manifest(manifest)
    nodes = {node["unique_id"]: node for node in audience_nodes(manifest_data)}
    syncs = parse_audience_syncs(manifest_data)
    tombstones = tombstone_relation(manifest_data)
    return [
        _sync_asset(
            sync,
            model_key=translator.get_asset_key(nodes[sync.unique_id]),
            all_syncs=syncs,
            tombstones=tombstones,
            destinations_file=destinations_file,
            key_prefix=key_prefix,
            group_name=group_name,
            pool=pool,
        )
        for sync in syncs
    ]


def build_forget_asset(
    manifest: Mapping[str, Any] | str | Path,
    *,
    dagster_dbt_translator: "DagsterDbtTranslator | None" = None,
    destinations_file: str | Path | None = None,
    key_prefix: str = "privacy",
    group_name: str = "privacy",
    pool: str | None = None,
) -> AssetsDefinition:
    """``privacy/forget_synced_people``: the right-to-be-forgotten pass over every sync's
    state (deletes at every destination declared, then a purge of ``cdp_sync``), downstream
    of the dbt model ``privacy_tombstones`` when the manifest has it. Needs the
    ``warehouse`` resource and every ``destination_<name>`` resource (``build_sync_resources``);
    fails when a destination stayed unavailable (its deletes stay pending for the next run)."""
    if dagster_dbt_translator is None:
        from dagster_dbt import DagsterDbtTranslator

        dagster_dbt_translator = DagsterDbtTranslator()
    manifest_data = load_manifest(manifest)
    node = tombstone_node(manifest_data)
    tombstones = tombstone_relation(manifest_data)
    syncs = parse_audience_syncs(manifest_data)
    declared = Path(destinations_file) if destinations_file else default_destinations_file()
    _, destinations = load_destinations_file(declared)
    resource_keys = {name: destination_resource_key(name) for name in destinations}

    @asset(
        key=AssetKey([key_prefix, "forget_synced_people"]),
        deps=[dagster_dbt_translator.get_asset_key(node)] if node is not None else [],
        group_name=group_name,
        required_resource_keys={WAREHOUSE_RESOURCE_KEY, *resource_keys.values()},
        description=(
            "Right to be forgotten in the activation engine: the people of "
            f"{tombstones[0]}.{tombstones[1]} are deleted at every destination a sync "
            "delivered them to, then purged from schema cdp_sync (every sync run does the "
            "same for its own sync first)."
        ),
        kinds={"python"},
        pool=pool,
    )
    def _forget(context: AssetExecutionContext) -> MaterializeResult:
        warehouse: WarehouseResource = getattr(context.resources, WAREHOUSE_RESOURCE_KEY)
        path = Path(destinations_file) if destinations_file else default_destinations_file(
            warehouse.project_dir
        )
        policies, _ = load_destinations_file(path)
        resources = {name: getattr(context.resources, key) for name, key in resource_keys.items()}
        with warehouse.connect() as connection:
            engine = SyncEngine(connection, policies, all_syncs=syncs, tombstones=tombstones)
            report = engine.forget(resources, actor=f"dagster:{context.run.run_id}")
        metadata = forget_metadata(report)
        if report.failed:
            raise Failure(description=f"forget: {report.summary()}", metadata=metadata)
        return MaterializeResult(metadata=metadata)

    return _forget


def forget_metadata(report: ForgetReport) -> dict[str, Any]:
    """Dagster metadata of a forget pass: counts only, never who."""
    metadata: dict[str, Any] = {
        "people_forgotten": report.people,
        "rows_deleted_at_destinations": report.rows_deleted,
        "deletes_pending": report.pending,
        "rows_purged": MetadataValue.json(dict(report.purged)),
        "forget_runs": MetadataValue.json(
            {run.sync_key: run.status for run in report.runs}
        ),
    }
    if report.notes:
        metadata["notes"] = MetadataValue.text("\n".join(report.notes))
    return metadata


def build_sync_resources(
    destinations_file: str | Path | None = None,
    *,
    warehouse: WarehouseResource | None = None,
) -> dict[str, ConfigurableResource]:
    """``warehouse`` plus one ``destination_<name>`` resource per destination declared."""
    path = Path(destinations_file) if destinations_file else default_destinations_file()
    _, destinations = load_destinations_file(path)
    resources: dict[str, ConfigurableResource] = {
        WAREHOUSE_RESOURCE_KEY: warehouse or WarehouseResource(),
    }
    for name, destination in destinations.items():
        resources[destination_resource_key(name)] = destination
    return resources


def build_sync_schedules(
    manifest: Mapping[str, Any] | str | Path, *, key_prefix: str = "syncs"
) -> list[ScheduleDefinition]:
    """A schedule (UTC cron from the sync's ``schedule``) for each scheduled sync."""
    return [
        ScheduleDefinition(
            name=f"sync_{sync.sync_key}_schedule",
            cron_schedule=sync.schedule,
            target=AssetSelection.assets(sync_asset_key(sync, key_prefix)),
            execution_timezone="UTC",
        )
        for sync in parse_audience_syncs(load_manifest(manifest))
        if sync.schedule
    ]


def _sync_asset(
    sync: AudienceSync,
    *,
    model_key: AssetKey,
    all_syncs: Sequence[AudienceSync],
    tombstones: tuple[str, str],
    destinations_file: str | Path | None,
    key_prefix: str,
    group_name: str,
    pool: str | None,
) -> AssetsDefinition:
    key = sync_asset_key(sync, key_prefix)
    destination_key = destination_resource_key(sync.destination)

    @asset(
        key=key,
        deps=[model_key],
        group_name=group_name,
        required_resource_keys={WAREHOUSE_RESOURCE_KEY, destination_key},
        description=(
            f"Sync of audience {sync.audience} ({sync.model_name}) to destination "
            f"{sync.destination}, mode {sync.mode}"
            + (f", channel {sync.channel}" if sync.channel else "")
            + f". Declared in {sync.source_file} ({sync.key_path})."
        ),
        metadata={
            "audience": sync.audience,
            "destination": sync.destination,
            "mode": sync.mode,
            "channel": sync.channel or "",
            "identifiers": list(sync.identifiers),
            "fields": list(sync.fields),
            "schedule": sync.schedule or "",
        },
        check_specs=[
            AssetCheckSpec(FAILURE_RATE_CHECK, asset=key,
                           description="Rows rejected / rows attempted stays under the "
                                       "sync's max_failure_rate (or the policy's)."),
            AssetCheckSpec(DEAD_LETTER_CHECK, asset=key,
                           description="No row reached the dead letter table in this run."),
        ],
        kinds={"python"},
        pool=pool,
    )
    def _compute(context: AssetExecutionContext) -> Any:
        warehouse: WarehouseResource = getattr(context.resources, WAREHOUSE_RESOURCE_KEY)
        destination: DestinationResource = getattr(context.resources, destination_key)
        path = Path(destinations_file) if destinations_file else default_destinations_file(
            warehouse.project_dir
        )
        policies, _ = load_destinations_file(path)
        validate_sync(sync, destination, policies, str(path))
        options = SyncOptions(actor=f"dagster:{context.run.run_id}")
        with warehouse.connect() as connection:
            engine = SyncEngine(connection, policies, all_syncs=all_syncs,
                                tombstones=tombstones)
            result = engine.run(sync, destination, options)
        metadata = sync_metadata(result)
        if result.status == "failed":
            raise Failure(
                description=f"sync {sync.sync_key} failed: {result.error_sample}",
                metadata=metadata,
            )
        threshold = (
            sync.max_failure_rate if sync.max_failure_rate is not None
            else policies.max_failure_rate
        )
        yield MaterializeResult(metadata=metadata)
        yield AssetCheckResult(
            check_name=FAILURE_RATE_CHECK,
            passed=result.failure_rate <= threshold,
            severity=AssetCheckSeverity.ERROR,
            metadata={"failure_rate": result.failure_rate, "threshold": threshold,
                      "rows_failed": result.rows_failed},
        )
        yield AssetCheckResult(
            check_name=DEAD_LETTER_CHECK,
            passed=result.rows_dead_lettered == 0,
            severity=AssetCheckSeverity.WARN,
            metadata={"rows_dead_lettered": result.rows_dead_lettered,
                      "rows_held_in_dead_letter": result.rows_held_in_dead_letter},
        )

    return _compute


def sync_metadata(result: SyncResult) -> dict[str, Any]:
    """Dagster metadata of a sync run: rows sent / failed / suppressed by reason."""
    metadata: dict[str, Any] = {
        "run_id": result.run_id,
        "status": result.status,
        "rows_sent": result.rows_sent,
        **result.counts(),
        "rows_held_in_dead_letter": result.rows_held_in_dead_letter,
        "failure_rate": float(result.failure_rate),
        "batches_sent": result.batches_sent,
        "rows_forgotten": result.rows_forgotten,
        "suppressed_by_reason": MetadataValue.json(dict(result.suppressed_by_reason)),
    }
    for reason, count in sorted(result.suppressed_by_reason.items()):
        metadata[f"suppressed_{reason}"] = count
    if result.error_sample:
        metadata["error_sample"] = MetadataValue.text(result.error_sample)
    if result.notes:
        metadata["notes"] = MetadataValue.text("\n".join(result.notes))
    return metadata
