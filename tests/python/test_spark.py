"""The demo on Apache Spark (dbt-spark's in-process `session` method): the generator loads
raw into Spark tables, one `dbt build`, and the identity and marts tables match the DuckDB
and PostgreSQL builds of the same data (the session's `demo` fixture) row for row.

One Spark build only: each dbt command pays the JVM's start-up, and every node costs a
second or more. dbt unit tests are left out (fixed-size fixtures at ~10 s each on Spark);
the models they cover are compared here on real data. Skips without the `spark` extra or
Java, and fails instead in CI (CDP_REQUIRE_SERVICES=1).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from orchestration.warehouse import find_project_dir, spark_session_conf, warehouse_for
from tests.python.cdp_testing import Warehouse
from tests.python.conftest import DEMO_PEOPLE, make_warehouse
from tests.python.engine_comparison import relation_differences

COMPARED = ("identity.customer_identifiers", "marts.dim_customers", "marts.customer_tags")


@pytest.fixture(scope="session")  # once, not once per `demo` warehouse
def spark_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    warehouse = make_warehouse("spark", tmp_path_factory.mktemp("demo_spark"))
    try:
        started = time.perf_counter()
        warehouse.load_generated(people=DEMO_PEOPLE, seed=42)
        loaded = time.perf_counter()
        warehouse.build("--exclude-resource-type", "unit_test")
        print(f"\n[spark] {DEMO_PEOPLE} people: generate + load {loaded - started:.0f} s, "
              f"dbt build {time.perf_counter() - loaded:.0f} s")
        yield warehouse
    finally:
        warehouse.drop()


@pytest.mark.spark
@pytest.mark.parametrize("relation", COMPARED)
def test_spark_build_matches(spark_demo: Warehouse, demo: Warehouse, relation: str) -> None:
    differences = relation_differences(demo, spark_demo, relation)
    assert not differences, "\n".join(differences)


def test_spark_settings_come_from_the_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    """The generator's Spark session is started from profiles.yml's target, so it opens
    the warehouse folder and catalog dbt uses (no Spark needed to check)."""
    project = find_project_dir()
    monkeypatch.setenv("CDP_SPARK_DIR", "elsewhere/spark")
    warehouse = warehouse_for("spark")
    directory = project / "elsewhere" / "spark"
    assert warehouse.engine == "spark" and warehouse.spark is not None
    assert warehouse.spark.directory == directory
    conf = warehouse.spark.session_conf
    assert conf["spark.sql.warehouse.dir"] == f"{directory}/warehouse"
    assert f"-Dderby.system.home={directory}/metastore" in conf["spark.driver.extraJavaOptions"]
    assert conf["spark.sql.session.timeZone"] == "UTC"
    assert conf["spark.driver.bindAddress"] == "127.0.0.1"
    assert warehouse.dbt_env()["CDP_SPARK_DIR"] == str(directory)
    with pytest.raises(ValueError, match="not a Spark target"):
        spark_session_conf(project, "dev")
