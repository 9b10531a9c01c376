from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.python.cdp_testing import (
    Warehouse,
    postgres_answers,
    services_required,
    spark_missing,
)

DEMO_PEOPLE = 400
# Session fixtures that cost a full build: the tests using them share one xdist worker.
SHARED_BUILDS = ("demo", "spark_demo")


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the marks into node ids
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Keep the tests of one costly fixture on one worker under `pytest -n N --dist
    loadgroup` (pyproject's addopts): the demo builds (session) in group `demo`, each
    module-scoped build in a group of its module; tests with function-scoped fixtures only
    go wherever a worker is free. Without xdist the marks do nothing."""
    for item in items:
        fixture_info = getattr(item, "_fixtureinfo", None)
        if fixture_info is None:
            continue
        scopes = {name: definitions[-1].scope
                  for name, definitions in fixture_info.name2fixturedefs.items()
                  if definitions}
        if any(name in scopes for name in SHARED_BUILDS):
            group = "demo"
        elif "module" in scopes.values():
            group = item.module.__name__ if item.module is not None else item.nodeid
        else:
            continue
        item.add_marker(pytest.mark.xdist_group(group))


def _require_postgres() -> None:
    if postgres_answers():
        return
    message = ("PostgreSQL does not answer on 127.0.0.1:5432 (start it with "
               "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`)")
    if services_required():
        pytest.fail(f"CDP_REQUIRE_SERVICES=1 and {message}")
    pytest.skip(message)


def _require_spark() -> None:
    reason = spark_missing()
    if reason is None:
        return
    if services_required():
        pytest.fail(f"CDP_REQUIRE_SERVICES=1 and {reason}")
    pytest.skip(reason)


def make_warehouse(target: str, workdir: Path) -> Warehouse:
    if target == "pg":
        _require_postgres()
    if target == "spark":
        _require_spark()
    return Warehouse(target, workdir)


@pytest.fixture(params=["dev", "pg"])
def warehouse_target(request: pytest.FixtureRequest) -> str:
    """Both warehouses: `dev` (embedded DuckDB) and `pg` (PostgreSQL)."""
    return str(request.param)


@pytest.fixture
def warehouse(warehouse_target: str, tmp_path: Path) -> Iterator[Warehouse]:
    """A fresh, empty warehouse per test on each target."""
    built = make_warehouse(warehouse_target, tmp_path)
    yield built
    built.drop()


@pytest.fixture(scope="session", params=["dev", "pg"])
def demo(request: pytest.FixtureRequest,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    """The demo built once per session on each warehouse: DEMO_PEOPLE generated people
    (seed 42) through raw, then `dbt build` (every model, snapshot and test). Tests only
    read it; a test that changes data works on ``demo.clone(...)``."""
    warehouse = make_warehouse(request.param, tmp_path_factory.mktemp(f"demo_{request.param}"))
    warehouse.load_generated(people=DEMO_PEOPLE, seed=42)
    warehouse.build()
    yield warehouse
    warehouse.drop()
