"""Every dbt model, seed, snapshot and test as Dagster assets and asset checks.

Groups follow the flow (staging, identity, marts, audiences), so the asset graph in the
UI reads raw -> staging -> identity -> marts -> audience -> destination.
"""


import json
from collections.abc import Iterator, Mapping
from typing import Any

from dagster import AssetExecutionContext, AssetSpec
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    dbt_assets,
)

from orchestration.project import cdp_project

LAYERS = ("staging", "identity", "marts", "audiences", "bi")


class CdpDbtTranslator(DagsterDbtTranslator):
    """Groups by layer folder; raw sources form the `raw` group."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props.get("resource_type") == "source":
            return "raw"
        fqn = dbt_resource_props.get("fqn") or []
        for part in fqn[1:]:
            if part in LAYERS:
                return part
        return "reference" if dbt_resource_props.get("resource_type") == "seed" else "dbt_other"


translator = CdpDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


@dbt_assets(manifest=cdp_project.manifest_path, dagster_dbt_translator=translator,
            project=cdp_project)
def cdp_dbt_models(context: AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
    """`dbt build` of the selected models: their tests run as asset checks; a failing
    identity release gate stops customer_identifiers and everything after it."""
    yield from dbt.cli(["build"], context=context).stream()


def raw_source_specs() -> list[AssetSpec]:
    """The raw contract tables as external assets (loaded by users' EL tools), group `raw`."""
    manifest = json.loads(cdp_project.manifest_path.read_text())
    return [
        AssetSpec(
            key=translator.get_asset_key(source),
            group_name="raw",
            description=source.get("description") or None,
            kinds={"dbt"},
        )
        for source in manifest.get("sources", {}).values()
    ]
