"""Where the warehouse is, for each dbt target — the one place that reads the settings.

Mirrors ``profiles.yml``: target ``dev`` is DuckDB at ``CDP_DUCKDB_PATH`` (default
``.cdp/cdp.duckdb``; relative paths are relative to the project folder, not the cwd);
target ``pg`` is PostgreSQL from ``CDP_PG_HOST`` (127.0.0.1), ``CDP_PG_PORT`` (5432),
``CDP_PG_USER`` (postgres), ``CDP_PG_PASSWORD`` ('') and ``CDP_PG_DATABASE`` (cdp);
target ``spark`` is Apache Spark in-process (PySpark local mode) with its tables and
catalog under ``CDP_SPARK_DIR`` (default ``.cdp/spark``, relative to the project folder).
The Spark session parameters are read from ``profiles.yml`` itself, so the generator's
session and dbt's are the same. The default target is ``DBT_TARGET`` or ``dev``. Nothing
here connects to anything.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import jinja2
import yaml
from psycopg.conninfo import make_conninfo

Engine = Literal["duckdb", "postgres", "spark"]
TARGET_ENGINES: dict[str, Engine] = {"dev": "duckdb", "pg": "postgres", "spark": "spark"}
DEFAULT_DUCKDB_PATH = Path(".cdp") / "cdp.duckdb"
DEFAULT_SPARK_DIR = Path(".cdp") / "spark"
PROJECT_FILE = "dbt_project.yml"
PROFILES_FILE = "profiles.yml"
PROFILE_NAME = "cdp"
LOOPBACK = "127.0.0.1"  # in-process Spark listens here only


def default_target(env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    return env.get("DBT_TARGET") or "dev"


def find_project_dir(
    start: Path | None = None, env: Mapping[str, str] | None = None
) -> Path:
    """The folder holding ``dbt_project.yml``: ``CDP_PROJECT_DIR``, else the nearest one
    above ``start`` (the cwd), else the repository this package lives in."""
    env = os.environ if env is None else env
    if env.get("CDP_PROJECT_DIR"):
        project_dir = Path(env["CDP_PROJECT_DIR"]).expanduser().resolve()
        if not (project_dir / PROJECT_FILE).is_file():
            raise FileNotFoundError(
                f"CDP_PROJECT_DIR={project_dir} has no {PROJECT_FILE}"
            )
        return project_dir
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / PROJECT_FILE).is_file():
            return folder
    package_root = Path(__file__).resolve().parent.parent
    if (package_root / PROJECT_FILE).is_file():
        return package_root
    raise FileNotFoundError(
        f"no {PROJECT_FILE} above {here} nor in {package_root}; set CDP_PROJECT_DIR"
    )


@dataclass(frozen=True)
class PostgresSettings:
    host: str = "127.0.0.1"
    port: int = 5432
    user: str = "postgres"
    password: str = ""
    database: str = "cdp"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> PostgresSettings:
        env = os.environ if env is None else env
        return cls(
            host=env.get("CDP_PG_HOST", cls.host),
            port=int(env.get("CDP_PG_PORT", cls.port)),
            user=env.get("CDP_PG_USER", cls.user),
            password=env.get("CDP_PG_PASSWORD", cls.password),
            database=env.get("CDP_PG_DATABASE", cls.database),
        )

    def conninfo(self, database: str | None = None, connect_timeout: int = 10) -> str:
        """libpq connection string (for psycopg), optionally for another database."""
        return make_conninfo(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password or None,
            dbname=database or self.database,
            connect_timeout=connect_timeout,
        )


@dataclass(frozen=True)
class SparkSettings:
    """The in-process Spark warehouse: a folder holding the tables (``warehouse/``) and
    the catalog (``metastore/``), and the session parameters of the profile's target."""

    directory: Path
    session_conf: dict[str, str]

    @classmethod
    def for_target(
        cls, project_dir: Path, target: str, env: Mapping[str, str] | None = None
    ) -> SparkSettings:
        env = dict(os.environ if env is None else env)
        directory = spark_dir(project_dir, env)
        env["CDP_SPARK_DIR"] = str(directory)
        return cls(directory, spark_session_conf(project_dir, target, env))


@dataclass(frozen=True)
class Warehouse:
    """The warehouse of one dbt target."""

    target: str
    engine: Engine
    project_dir: Path
    duckdb_path: Path | None = None
    postgres: PostgresSettings | None = None
    spark: SparkSettings | None = None

    def describe(self) -> str:
        if self.engine == "duckdb":
            return f"DuckDB {self.duckdb_path}"
        if self.engine == "spark":
            assert self.spark is not None
            master = self.spark.session_conf.get("spark.master", "local")
            return f"Spark ({master}) {self.spark.directory}"
        assert self.postgres is not None
        settings = self.postgres
        return f"PostgreSQL {settings.user}@{settings.host}:{settings.port}/{settings.database}"

    def dbt_env(self) -> dict[str, str]:
        """Environment for a dbt run against this warehouse (absolute DuckDB path, so dbt
        and Python open the same file whatever the cwd)."""
        env = {"DBT_SEND_ANONYMOUS_USAGE_STATS": "False", "DBT_TARGET": self.target}
        if self.duckdb_path is not None:
            env["CDP_DUCKDB_PATH"] = str(self.duckdb_path)
        if self.spark is not None:
            env["CDP_SPARK_DIR"] = str(self.spark.directory)
            env["SPARK_LOCAL_IP"] = LOOPBACK
        return env


def duckdb_path(project_dir: Path, env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    path = Path(env.get("CDP_DUCKDB_PATH") or DEFAULT_DUCKDB_PATH).expanduser()
    return path if path.is_absolute() else (project_dir / path).resolve()


def spark_dir(project_dir: Path, env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    path = Path(env.get("CDP_SPARK_DIR") or DEFAULT_SPARK_DIR).expanduser()
    return path if path.is_absolute() else (project_dir / path).resolve()


def spark_session_conf(
    project_dir: Path, target: str, env: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The ``server_side_parameters`` of a ``method: session`` Spark target in
    ``profiles.yml``, rendered as dbt renders them (``env_var`` from ``env``)."""
    env = os.environ if env is None else env
    path = project_dir / PROFILES_FILE
    outputs = yaml.safe_load(path.read_text())[PROFILE_NAME]["outputs"]
    output = outputs.get(target) or {}
    if output.get("type") != "spark" or output.get("method") != "session":
        raise ValueError(
            f"{path}: target {target!r} is not a Spark target with method: session"
        )
    missing = object()

    def env_var(name: str, default: object = missing) -> str:
        if name in env:
            return env[name]
        if default is missing:
            raise KeyError(f"{path}: env var {name} is not set and has no default")
        return str(default)

    renderer = jinja2.Environment(undefined=jinja2.StrictUndefined)
    return {
        str(key): renderer.from_string(str(value)).render(env_var=env_var).strip()
        for key, value in (output.get("server_side_parameters") or {}).items()
    }


def warehouse_for(
    target: str | None = None,
    project_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Warehouse:
    """Settings for a dbt target (default: ``DBT_TARGET`` or ``dev``)."""
    target = target or default_target(env)
    if target not in TARGET_ENGINES:
        raise ValueError(
            f"unknown target {target!r}: profiles.yml defines {sorted(TARGET_ENGINES)}"
        )
    project_dir = project_dir or find_project_dir(env=env)
    engine = TARGET_ENGINES[target]
    if engine == "duckdb":
        return Warehouse(
            target, engine, project_dir, duckdb_path=duckdb_path(project_dir, env)
        )
    if engine == "spark":
        return Warehouse(
            target, engine, project_dir,
            spark=SparkSettings.for_target(project_dir, target, env),
        )
    return Warehouse(
        target, engine, project_dir, postgres=PostgresSettings.from_env(env)
    )
