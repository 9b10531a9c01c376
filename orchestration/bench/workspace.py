"""A scratch warehouse for benchmarks, and ``dbt`` run against it as a subprocess.

``Scratch.open("dev", workdir)`` is a DuckDB file in ``workdir`` (never the project's
``.cdp/cdp.duckdb``); ``Scratch.open("pg", workdir)`` creates a throw-away PostgreSQL
database that ``drop()`` removes. dbt's target and log folders live in ``workdir`` too, so
a benchmark never touches the project's own ``target/``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from orchestration.resources.warehouse import WarehouseResource
from orchestration.warehouse import (
    TARGET_ENGINES,
    PostgresSettings,
    Warehouse,
    find_project_dir,
)

DUCKDB_FILE = "cdp_bench.duckdb"


class DbtError(RuntimeError):
    """A dbt command failed; the message ends with the tail of its output."""


@dataclass
class DbtRun:
    """One finished dbt subprocess."""

    args: tuple[str, ...]
    returncode: int
    seconds: float
    peak_rss_mb: float
    log_path: Path
    run_results: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def tail(self, characters: int = 4000) -> str:
        return self.output()[-characters:]


@dataclass
class Scratch:
    """A warehouse that exists only for one benchmark run."""

    warehouse: Warehouse
    workdir: Path
    created_database: str | None = None
    runs: list[DbtRun] = field(default_factory=list)

    @classmethod
    def open(cls, target: str, workdir: Path, project_dir: Path | None = None,
             *, keep: bool = False) -> Scratch:
        """Create the scratch warehouse of ``target`` (``dev`` or ``pg``) in ``workdir``;
        with ``keep`` (DuckDB only), open the file a previous run left there instead."""
        if TARGET_ENGINES.get(target) not in ("duckdb", "postgres"):
            raise ValueError(f"cdp bench runs on dev or pg, not {target!r}")
        workdir = workdir.resolve()
        workdir.mkdir(parents=True, exist_ok=True)
        project_dir = project_dir or find_project_dir()
        if TARGET_ENGINES[target] == "duckdb":
            path = workdir / DUCKDB_FILE
            if keep and not path.exists():
                raise FileNotFoundError(f"{path}: no scratch database to reuse")
            for stale in () if keep else (path, path.with_name(path.name + ".wal")):
                stale.unlink(missing_ok=True)
            warehouse = Warehouse(target, "duckdb", project_dir, duckdb_path=path)
            return cls(warehouse, workdir)
        name = f"cdp_bench_{uuid.uuid4().hex[:10]}"
        settings = dataclasses.replace(PostgresSettings.from_env(), database=name)
        with psycopg.connect(settings.conninfo("postgres"), autocommit=True) as connection:
            connection.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        warehouse = Warehouse(target, "postgres", project_dir, postgres=settings)
        return cls(warehouse, workdir, created_database=name)

    def drop(self) -> None:
        """Remove the throw-away PostgreSQL database (DuckDB files stay in the workdir)."""
        if self.created_database is None or self.warehouse.postgres is None:
            return
        admin = self.warehouse.postgres.conninfo("postgres")
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(
                sql.SQL("drop database if exists {} with (force)").format(
                    sql.Identifier(self.created_database)
                )
            )
        self.created_database = None

    @property
    def target(self) -> str:
        return self.warehouse.target

    @property
    def target_path(self) -> Path:
        return self.workdir / "target"

    def resource(self) -> WarehouseResource:
        return WarehouseResource.for_warehouse(self.warehouse)

    def dbt_env(self) -> dict[str, str]:
        env = {
            **os.environ,
            **self.warehouse.dbt_env(),
            "DBT_TARGET_PATH": str(self.target_path),
            "DBT_LOG_PATH": str(self.workdir / "logs"),
        }
        if self.warehouse.postgres is not None:
            env["CDP_PG_DATABASE"] = self.warehouse.postgres.database
        return env

    def dbt(self, *args: str, check: bool = True) -> DbtRun:
        """Run ``dbt <args>`` (the dbt beside this Python) and wait for it.

        Output goes to a log file in the workdir; the child's peak memory comes from
        ``wait4``. ``run_results`` holds target/run_results.json when the command wrote
        one. With ``check``, a failing command raises ``DbtError``.
        """
        project_dir = str(self.warehouse.project_dir)
        command = [
            str(Path(sys.executable).parent / "dbt"), *args,
            "--project-dir", project_dir, "--profiles-dir", project_dir,
            "--target", self.target,
        ]
        log_path = self.workdir / "logs" / f"dbt-{len(self.runs) + 1:02d}-{args[0]}.out"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        results_path = self.target_path / "run_results.json"
        results_path.unlink(missing_ok=True)
        started = time.perf_counter()
        with open(log_path, "w") as log:
            process = subprocess.Popen(
                command, env=self.dbt_env(), stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
            _, status, usage = os.wait4(process.pid, 0)
            process.returncode = os.waitstatus_to_exitcode(status)
        run = DbtRun(
            tuple(args), process.returncode, time.perf_counter() - started,
            usage.ru_maxrss / 1024, log_path,
            json.loads(results_path.read_text()) if results_path.exists() else None,
        )
        self.runs.append(run)
        if check and not run.ok:
            raise DbtError(
                f"dbt {' '.join(args)} failed (exit {run.returncode}, log {log_path}):\n"
                f"{run.tail()}"
            )
        return run

    def manifest(self) -> dict[str, Any]:
        path = self.target_path / "manifest.json"
        if not path.exists():
            raise FileNotFoundError(f"{path}: no dbt manifest yet; run dbt first")
        return json.loads(path.read_text())
