"""The dbt project as Dagster sees it. Kept in its own module (dagster-dbt's advice).

The manifest must exist before definitions load: `cdp` commands and the test fixtures run
`dbt parse` first (`ensure_manifest`); under `dagster dev` `prepare_if_dev` does it.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from dagster_dbt import DbtProject

PROJECT_DIR = Path(os.environ.get("CDP_PROJECT_DIR", Path(__file__).resolve().parent.parent))


def dbt_target() -> str:
    return os.environ.get("DBT_TARGET", "dev")


def target_path() -> Path:
    return Path(os.environ.get("DBT_TARGET_PATH", PROJECT_DIR / "target"))


cdp_project = DbtProject(
    project_dir=PROJECT_DIR,
    profiles_dir=PROJECT_DIR,
    target=dbt_target(),
    target_path=target_path(),
)
cdp_project.prepare_if_dev()


def dbt_executable() -> str:
    """The dbt installed beside this Python (a venv not on PATH still works), else PATH's."""
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


def ensure_manifest(force: bool = False) -> Path:
    """Parse the dbt project when its manifest is missing (or `force`), return its path."""
    manifest = cdp_project.manifest_path
    if force or not manifest.exists():
        from dbt.cli.main import dbtRunner

        os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")
        result = dbtRunner().invoke([
            "parse", "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
            "--target", dbt_target(), "--target-path", str(target_path()),
        ])
        if not result.success:
            raise RuntimeError(f"dbt parse failed in {PROJECT_DIR}: {result.exception}")
    return manifest
