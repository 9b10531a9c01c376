"""The sync asset factory: keys, dependencies, resources, metadata and asset checks."""

from __future__ import annotations

from typing import Any

import pytest
from dagster import AssetKey, Definitions, materialize
from dagster_dbt import DagsterDbtTranslator

from orchestration.assets.syncs import (
    DEAD_LETTER_CHECK,
    FAILURE_RATE_CHECK,
    build_sync_assets,
    build_sync_resources,
    build_sync_schedules,
)

from .conftest import Project, Receiver, customers


def test_one_asset_per_sync_depending_on_the_dbt_model(duck_project: Project) -> None:
    duck_project.add_audience(
        "winback",
        {"destination": "demo_files", "mode": "mirror", "schedule": "0 7 * * *"},
        {"destination": "esp", "channel": "email", "identifiers": ["customer_id", "email"]},
    )
    manifest = duck_project.manifest()
    assets = build_sync_assets(manifest)
    keys = {key for definition in assets for key in definition.keys}
    assert keys == {AssetKey(["syncs", "winback", "demo_files"]),
                    AssetKey(["syncs", "winback", "esp"])}
    node = manifest["nodes"]["model.cdp.aud_winback"]
    model_key = DagsterDbtTranslator().get_asset_key(node)
    assert model_key == AssetKey(["aud_winback"])
    for definition in assets:
        (deps,) = definition.asset_deps.values()
        assert deps == {model_key}
        assert {check.name for check in definition.check_specs} == {
            FAILURE_RATE_CHECK, DEAD_LETTER_CHECK,
        }
    (schedule,) = build_sync_schedules(manifest)
    assert schedule.cron_schedule == "0 7 * * *"


def test_materialize_reports_metadata_and_checks(
    duck_project: Project, http_server: tuple[str, Receiver], webhook_env: dict[str, str]
) -> None:
    url, receiver = http_server
    duck_project.destinations["esp"] = {"type": "webhook", "url": url, "pii": "allowed",
                                        "retry_backoff_seconds": 0.01, **webhook_env}
    duck_project.destinations["demo_files"] = {"type": "file", "path": "exports",
                                               "pii": "allowed"}
    duck_project.add_audience(
        "vip",
        {"destination": "esp", "channel": "email", "identifiers": ["customer_id", "email"],
         "fields": ["city"]},
        {"destination": "demo_files", "identifiers": ["customer_id"], "fields": ["city"]},
    )
    rows = customers(10)
    rows[0]["email"] = "not-an-address"
    duck_project.wh.audience("vip", rows)
    duck_project.wh.consent([(row["customer_id"], "email", row["customer_id"] != "c00002")
                             for row in rows])
    receiver.reject = lambda record: None if "@" in record["identifiers"]["email"] else "bad"
    destinations_file = duck_project.write()

    assets = build_sync_assets(duck_project.manifest(), destinations_file=destinations_file)
    resources = build_sync_resources(destinations_file, warehouse=duck_project.wh.resource)
    assert set(resources) == {"warehouse", "destination_esp", "destination_demo_files"}
    Definitions(assets=assets, resources=resources)  # validates resource wiring
    result = materialize(assets, resources=resources, raise_on_error=True)
    assert result.success

    by_asset: dict[str, Any] = {}
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        by_asset[materialization.asset_key.path[-1]] = {
            key: value.value for key, value in materialization.metadata.items()
        }
    assert by_asset["esp"]["rows_added"] == 8
    assert by_asset["esp"]["rows_failed"] == 1
    assert by_asset["esp"]["suppressed_no_consent"] == 1
    assert by_asset["demo_files"]["rows_added"] == 10
    checks = {
        (evaluation.asset_key.path[-1], evaluation.check_name): evaluation.passed
        for evaluation in result.get_asset_check_evaluations()
    }
    assert checks == {
        ("esp", FAILURE_RATE_CHECK): False,   # 1 of 9 rows failed > 5 %
        ("esp", DEAD_LETTER_CHECK): True,
        ("demo_files", FAILURE_RATE_CHECK): True,
        ("demo_files", DEAD_LETTER_CHECK): True,
    }


def test_unavailable_destination_fails_the_asset(
    duck_project: Project, http_server: tuple[str, Receiver], webhook_env: dict[str, str]
) -> None:
    url, receiver = http_server
    duck_project.destinations["esp"] = {"type": "webhook", "url": url, "pii": "allowed",
                                        "retry_backoff_seconds": 0.01, "max_attempts": 2,
                                        **webhook_env}
    duck_project.add_audience("vip", {"destination": "esp"})
    duck_project.wh.audience("vip", customers(3))
    receiver.then({"status": 500}, {"status": 500})
    destinations_file = duck_project.write()
    assets = build_sync_assets(duck_project.manifest(), destinations_file=destinations_file)
    resources = build_sync_resources(destinations_file, warehouse=duck_project.wh.resource)
    result = materialize(assets, resources=resources, raise_on_error=False)
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data.error
    assert failure is not None and "gave up after 2 attempts" in failure.message


@pytest.mark.parametrize("prefix", [["cdp"]])
def test_translator_prefix_is_followed(duck_project: Project, prefix: list[str]) -> None:
    class Prefixed(DagsterDbtTranslator):
        def get_asset_key(self, dbt_resource_props: Any) -> AssetKey:
            return super().get_asset_key(dbt_resource_props).with_prefix(prefix)

    duck_project.add_audience("vip", {"destination": "demo_files"})
    (definition,) = build_sync_assets(duck_project.manifest(),
                                      dagster_dbt_translator=Prefixed())
    (deps,) = definition.asset_deps.values()
    assert deps == {AssetKey([*prefix, "aud_vip"])}
