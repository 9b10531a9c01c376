"""The Dagster code location loads, validates, and shows the whole flow as lineage."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.python.cdp_testing import PROJECT_DIR

LINEAGE_PROBE = """
import json
from orchestration.definitions import defs
graph = defs.resolve_asset_graph()
keys = {key.to_user_string(): [p.to_user_string() for p in graph.get(key).parent_keys]
        for key in graph.get_all_asset_keys()}
groups = {key.to_user_string(): graph.get(key).group_name for key in graph.get_all_asset_keys()}
checks = len(list(graph.asset_check_keys))
jobs = [job.name for job in defs.resolve_all_job_defs()]
schedules = [schedule.name for schedule in defs.schedules or []]
sensors = [sensor.name for sensor in defs.sensors or []]
print("PROBE" + json.dumps({"parents": keys, "groups": groups, "checks": checks,
                            "jobs": jobs, "schedules": schedules, "sensors": sensors}))
"""


@pytest.fixture(scope="module")
def dagster_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    workdir = tmp_path_factory.mktemp("dagster")
    (workdir / "home").mkdir()
    (workdir / "home" / "dagster.yaml").write_text("")
    env = {**os.environ, "DBT_TARGET_PATH": str(workdir / "target"),
           "DBT_LOG_PATH": str(workdir / "logs"), "DAGSTER_HOME": str(workdir / "home"),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
           "CDP_DUCKDB_PATH": str(workdir / "cdp.duckdb")}
    subprocess.run([sys.executable, "-c",
                    "from orchestration.project import ensure_manifest; ensure_manifest(force=True)"],
                   cwd=PROJECT_DIR, env=env, check=True, capture_output=True)
    return env


def test_definitions_validate(dagster_env: dict[str, str]) -> None:
    dagster = Path(sys.executable).parent / "dagster"
    completed = subprocess.run(
        [str(dagster), "definitions", "validate", "-m", "orchestration.definitions"],
        cwd=PROJECT_DIR, env=dagster_env, capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]


def test_lineage_runs_from_raw_to_destinations(dagster_env: dict[str, str]) -> None:
    completed = subprocess.run([sys.executable, "-c", LINEAGE_PROBE], cwd=PROJECT_DIR,
                               env=dagster_env, capture_output=True, text=True, check=True)
    probe = json.loads(completed.stdout.split("PROBE", 1)[1])
    parents, groups = probe["parents"], probe["groups"]

    def layers_upstream(key: str) -> set[str]:
        seen, stack = set(), [key]
        while stack:
            for parent in parents.get(stack.pop(), []):
                if parent not in seen:
                    seen.add(parent)
                    stack.append(parent)
        return {groups.get(node) for node in seen}

    syncs = [key for key, group in groups.items() if group == "syncs"]
    assert len(syncs) >= 5, f"expected a sync asset per audience sync, got {syncs}"
    for sync in syncs:
        assert {"raw", "staging", "identity", "marts", "audiences"} <= layers_upstream(sync), sync
    assert probe["checks"] > 50  # dbt tests and sync checks
    assert "cdp_nightly_build" in probe["jobs"]
    assert "cdp_nightly_build_schedule" in probe["schedules"]
    assert "syncs_when_audiences_change" in probe["sensors"]
