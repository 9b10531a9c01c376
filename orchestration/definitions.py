"""Dagster definitions: composes dbt assets, sync assets, jobs, schedules, automation and
resources. No logic lives here.

    dagster dev -m orchestration.definitions
"""

from __future__ import annotations

from dagster import (
    AssetSelection,
    AutomationCondition,
    AutomationConditionSensorDefinition,
    Definitions,
    ScheduleDefinition,
    define_asset_job,
)
from dagster_dbt import DbtCliResource

from orchestration.assets.dbt_models import cdp_dbt_models, raw_source_specs, translator
from orchestration.assets.syncs import (
    build_forget_asset,
    build_sync_assets,
    build_sync_resources,
    build_sync_schedules,
)
from orchestration.project import cdp_project, dbt_executable

NIGHTLY_BUILD_CRON = "0 2 * * *"
NIGHTLY_TIMEZONE = "Asia/Shanghai"

# A sync runs again whenever its audience model was rebuilt (and on its own schedule).
sync_assets = [
    assets.map_asset_specs(
        lambda spec: spec.replace_attributes(automation_condition=AutomationCondition.eager())
    )
    for assets in build_sync_assets(cdp_project.manifest_path, dagster_dbt_translator=translator)
]
# Right to be forgotten: deletes at destinations and a purge of cdp_sync as soon as dbt has
# written new privacy tombstones (every sync run also does it for its own sync first).
forget_asset = build_forget_asset(
    cdp_project.manifest_path, dagster_dbt_translator=translator
).map_asset_specs(
    lambda spec: spec.replace_attributes(automation_condition=AutomationCondition.eager())
)

nightly_build = define_asset_job(
    "cdp_nightly_build",
    selection=AssetSelection.assets(cdp_dbt_models),
    description="dbt build of every model and test: staging, identity, marts, audiences.",
)

defs = Definitions(
    assets=[*raw_source_specs(), cdp_dbt_models, *sync_assets, forget_asset],
    jobs=[nightly_build],
    schedules=[
        ScheduleDefinition(
            name="cdp_nightly_build_schedule",
            job=nightly_build,
            cron_schedule=NIGHTLY_BUILD_CRON,
            execution_timezone=NIGHTLY_TIMEZONE,
        ),
        *build_sync_schedules(cdp_project.manifest_path),
    ],
    sensors=[
        AutomationConditionSensorDefinition(
            "syncs_when_audiences_change",
            target=AssetSelection.groups("syncs", "privacy") - AssetSelection.assets(
                cdp_dbt_models
            ),
            description="Runs a sync as soon as its audience model has been rebuilt, and "
            "the forget pass as soon as the privacy tombstones have.",
        )
    ],
    resources={
        "dbt": DbtCliResource(project_dir=cdp_project, dbt_executable=dbt_executable()),
        **build_sync_resources()},
)
