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

from tests.python.cdp_testing import Warehouse
from tests.python.conftest import DEMO_PEOPLE, make_warehouse
from tests.python.engine_comparison import relation_differences

pytestmark = pytest.mark.spark

COMPARED = ("identity.customer_identifiers", "marts.dim_customers", "marts.customer_tags")


@pytest.fixture(scope="module")
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


@pytest.mark.parametrize("relation", COMPARED)
def test_spark_build_matches(spark_demo: Warehouse, demo: Warehouse, relation: str) -> None:
    differences = relation_differences(demo, spark_demo, relation)
    assert not differences, "\n".join(differences)
