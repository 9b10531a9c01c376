"""The uniqueness data tests of incremental models check a run's batch against every row.

`unique_combination_of_columns` with `batch_column` (tests/generic) checks only the keys of
the rows carrying the latest stamp when they are under a quarter of the table. On a copy of
the demo build (a full build: one stamp per model, so the whole-table form runs), rows are
added with a later stamp, as an incremental run would write them:
- a copy of an old row (a run that failed to replace it): the test fails, in batch form;
- two copies of a new key inside the batch: fails (on PostgreSQL the tables' unique
  indexes refuse both);
- a new key alone: passes, in batch form (so the form is the one that ran).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest
from dbt.cli.main import dbtRunner

from tests.python.cdp_testing import PROJECT_DIR, Warehouse, patched_environ

LATER = "cast('2999-01-01 00:00:00' as timestamp)"


@dataclass(frozen=True)
class Keyed:
    relation: str            # schema.table
    keys: tuple[str, ...]    # the unique combination
    stamp: str               # batch_column
    test: str                # the dbt data test's name

    def copy_of_a_row(self, warehouse: Warehouse, keys: dict[str, str] | None = None) -> str:
        """insert ... select of one existing row with a later stamp (and ``keys`` set)."""
        columns = [row[0] for row in warehouse.query(
            "select column_name from information_schema.columns where table_schema = "
            f"'{self.relation.split('.')[0]}' and table_name = '{self.relation.split('.')[1]}'"
            " order by ordinal_position")]
        values = [
            LATER if column == self.stamp
            else f"'{keys[column]}'" if keys and column in keys
            else column
            for column in columns
        ]
        order = ", ".join(self.keys)
        return (f"insert into {self.relation} ({', '.join(columns)}) "
                f"select {', '.join(values)} from {self.relation} order by {order} limit 1")


CASES = [
    Keyed("marts.fct_events", ("event_id",), "processed_at",
          "unique_combination_of_columns_fct_events_processed_at__event_id"),
    Keyed("identity.identity_source_records", ("source_name", "source_key"), "resolved_at",
          "unique_combination_of_columns_identity_source_records_resolved_at__source_name__source_key"),
]


@pytest.fixture(scope="module")
def copy(demo: Warehouse, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    warehouse = demo.clone(tmp_path_factory.mktemp(f"batch_unique_{demo.target}"))
    try:
        yield warehouse
    finally:
        warehouse.drop()


def _run(warehouse: Warehouse, case: Keyed) -> tuple[str, str]:
    """(status, compiled SQL) of the case's data test: "pass" or "fail"."""
    with patched_environ(warehouse.env):
        result = dbtRunner().invoke(["test", "--select", case.test, "--project-dir",
                                     str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
                                     "--target", warehouse.target])
    assert result.result is not None, result.exception
    (node_result,) = [item for item in result.result.results
                      if item.node.unique_id.startswith("test.")]
    status = str(node_result.status)
    assert status in ("pass", "fail"), (case.test, status, node_result.message)
    return status, node_result.node.compiled_code or ""


@pytest.mark.parametrize("case", CASES, ids=[case.relation for case in CASES])
def test_batch_uniqueness_catches_what_a_run_can_duplicate(copy: Warehouse, case: Keyed) -> None:
    assert copy.query(f"select count(*) from {case.relation}")[0][0] > 100
    later_rows = f"delete from {case.relation} where {case.stamp} = {LATER}"
    # The full build: one stamp, the whole table checked.
    status, compiled = _run(copy, case)
    assert status == "pass" and "batch_keys" not in compiled

    new_key = {column: f"batch-test-{column}" for column in case.keys}
    duplicates = {
        # An old row written again by a later run, beside the one it should have replaced.
        "old row again": [case.copy_of_a_row(copy)],
        # A new key, twice in one batch.
        "new key twice": [case.copy_of_a_row(copy, new_key)] * 2,
    }
    for name, inserts in duplicates.items():
        try:
            for insert in inserts:
                copy.execute(insert)
        except psycopg.errors.UniqueViolation:
            # PostgreSQL tables carry a unique index on the key: the duplicate cannot be.
            assert copy.target == "pg", name
        else:
            status, compiled = _run(copy, case)
            assert status == "fail" and "batch_keys" in compiled, name
        finally:
            copy.execute(later_rows)

    # A new key once: unique, and checked in batch form.
    copy.execute(case.copy_of_a_row(copy, new_key))
    status, compiled = _run(copy, case)
    assert status == "pass" and "batch_keys" in compiled
    copy.execute(later_rows)
