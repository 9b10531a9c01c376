"""Hostile raw input through staging and identity, on DuckDB and PostgreSQL.

A seeded generator (``hostile_rows``; seed from CDP_FUZZ_SEED, printed on failure) writes
broken rows into every raw contract table next to known-good ones. One ``dbt build`` of
seeds, staging and identity per warehouse must pass; then every broken row is in
``stg_quarantine`` with the reason the generator expects, no good row is lost, and both
engines reach the same verdict on every row.
"""

from __future__ import annotations

import collections
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.python.cdp_testing import Warehouse, postgres_answers
from tests.python.conftest import make_warehouse
from tests.python.hostile_rows import (
    HOSTILE_TABLES,
    TABLES,
    HostileData,
    Outcome,
    generate,
)

SEED = int(os.environ.get("CDP_FUZZ_SEED", "20240229"))
SELECTION = ("--select", "path:seeds", "path:models/staging", "path:models/identity",
             "--indirect-selection", "cautious",
             # unit tests feed their own rows, not these: they run in every other build
             "--exclude-resource-type", "unit_test")

QuarantineRow = tuple[str, str | None, str | None, str, bool]


@dataclass
class Built:
    """What one warehouse made of the hostile data (read once, then the warehouse goes)."""

    target: str
    raw_rows: dict[str, int]
    staged: dict[str, dict[str, Any]]     # table -> staged key -> probe column value
    staged_rows: dict[str, int]
    quarantine: list[QuarantineRow]       # source_name, source_key, column, reason, rejected
    collided: dict[str, tuple[str | None, str | None]]  # member_id -> (email, phone)
    identifiers: list[tuple[str, str]]    # identity_identifiers of the colliding values


def read_back(warehouse: Warehouse, data: HostileData) -> Built:
    staged: dict[str, dict[str, Any]] = {}
    staged_rows: dict[str, int] = {}
    raw_rows: dict[str, int] = {}
    for table in TABLES:
        _, probe = table.probe
        rows = warehouse.query(
            f"select {table.staged_key}, {probe} from staging.{table.staged_model}"
        )
        staged[table.name] = dict(rows)
        staged_rows[table.name] = len(rows)
        raw_rows[table.name] = warehouse.query(f"select count(*) from raw.{table.name}")[0][0]
    quarantine = warehouse.query(
        "select source_name, source_key, column_name, reason, is_row_rejected "
        "from staging.stg_quarantine"
    )
    collided = {
        member_id: (email, phone)
        for member_id, email, phone in warehouse.query(
            "select member_id, email, phone from staging.stg_crm__members "
            "where member_id like 'collide-%'"
        )
    }
    values = ", ".join(f"'{value}'" for value in data.collisions)
    identifiers = warehouse.query(
        "select identifier_type, identifier_value from identity.identity_identifiers "
        f"where identifier_value in ({values})"
    )
    return Built(warehouse.target, raw_rows, staged, staged_rows,
                 [tuple(row) for row in quarantine], collided, sorted(identifiers))


@pytest.fixture(scope="module")
def data() -> HostileData:
    return generate(SEED)


@pytest.fixture(scope="module")
def builds(data: HostileData, tmp_path_factory: pytest.TempPathFactory) -> Iterator[
    dict[str, Built]
]:
    """One build per reachable warehouse (PostgreSQL absent: its tests skip or fail)."""
    built: dict[str, Built] = {}
    for target in ("dev", "pg"):
        if target == "pg" and not postgres_answers():
            continue
        warehouse = Warehouse(target, Path(tmp_path_factory.mktemp(f"hostile_{target}")))
        try:
            warehouse.load_raw(data.rows)
            warehouse.build(*SELECTION)
            built[target] = read_back(warehouse, data)
        finally:
            warehouse.drop()
    yield built


@pytest.fixture(params=["dev", "pg"])
def built(request: pytest.FixtureRequest, builds: dict[str, Built],
          tmp_path: Path) -> Built:
    if request.param not in builds:
        make_warehouse(request.param, tmp_path)  # skips, or fails under CDP_REQUIRE_SERVICES
    return builds[request.param]


def seed_note(built: Built) -> str:
    return f"(seed {SEED}, target {built.target}; rerun with CDP_FUZZ_SEED={SEED})"


def short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:40]}...{len(text)} chars"


def quarantined(built: Built) -> dict[tuple[str, str | None], list[tuple[str | None, str]]]:
    by_key: dict[tuple[str, str | None], list[tuple[str | None, str]]] = (
        collections.defaultdict(list)
    )
    for source_name, source_key, column_name, reason, _ in built.quarantine:
        by_key[(source_name, source_key)].append((column_name, reason))
    return by_key


def expected_quarantine(outcome: Outcome, column: str | None,
                        copies: int) -> list[tuple[str | None, str]]:
    if outcome.kind == "rejected":
        return [(None, str(outcome.reason))] * copies
    if outcome.kind == "field":
        return [(column, str(outcome.reason))]
    return [(None, "duplicate_key")] * (copies - 1)


def test_every_raw_row_is_staged_or_rejected(built: Built, data: HostileData) -> None:
    rejected = collections.Counter(row[0] for row in built.quarantine if row[4])
    for table in HOSTILE_TABLES:
        assert built.raw_rows[table] == data.count(table), table
        assert built.raw_rows[table] == built.staged_rows[table] + rejected[table], (
            f"{table}: raw {built.raw_rows[table]} != staged {built.staged_rows[table]} + "
            f"rejected {rejected[table]} {seed_note(built)}"
        )


def test_every_broken_row_is_quarantined_with_its_reason(built: Built,
                                                         data: HostileData) -> None:
    found = quarantined(built)
    problems: list[str] = []
    for expectation in data.expectations:
        if expectation.key is None:
            continue  # keyless rows are counted below
        wanted = expected_quarantine(expectation.outcome, expectation.column,
                                     expectation.copies)
        got = sorted(found.get((expectation.table, expectation.key), []), key=str)
        is_staged = expectation.key in built.staged[expectation.table]
        if got != sorted(wanted, key=str) or is_staged != (
            expectation.outcome.kind != "rejected"
        ):
            problems.append(
                f"{expectation.table}.{expectation.column} = {short(expectation.value)}: "
                f"expected {expectation.outcome.kind} {wanted}, got {got} "
                f"(staged: {is_staged})"
            )
    missing_keys = collections.Counter()
    for expectation in data.expectations:
        if expectation.key is None:
            assert expectation.outcome.reason == "missing_key"
            missing_keys[expectation.table] += expectation.copies
    for table in HOSTILE_TABLES:
        got = [reason for reason in found.get((table, None), [])]
        if got != [(None, "missing_key")] * missing_keys[table]:
            problems.append(f"{table}: {missing_keys[table]} rows without a key expected as "
                            f"missing_key, quarantine has {collections.Counter(got)}")
    assert not problems, (f"{len(problems)} rows not judged as expected {seed_note(built)}:\n"
                          + "\n".join(problems[:40]))


def test_no_good_row_is_lost_or_altered(built: Built, data: HostileData) -> None:
    problems = []
    for expectation in data.expectations:
        if expectation.outcome.kind == "rejected" or expectation.key is None:
            continue
        staged = built.staged[expectation.table]
        if expectation.key not in staged:
            problems.append(f"{expectation.table}: {short(expectation.key)} is not staged")
        elif expectation.probe is not None and staged[expectation.key] != expectation.probe:
            problems.append(f"{expectation.table}: {short(expectation.key)} staged text "
                            f"{short(staged[expectation.key])}, raw {short(expectation.probe)}")
    assert not problems, f"{seed_note(built)}:\n" + "\n".join(problems[:40])


def test_chaos_rows_are_staged_or_rejected_for_a_known_reason(built: Built,
                                                             data: HostileData) -> None:
    found = quarantined(built)
    reasons = {table.name: table.row_reasons for table in TABLES}
    for table, keys in data.chaos_keys.items():
        for key in keys:
            verdicts = found.get((table, key), [])
            row_reasons = [reason for column, reason in verdicts if column is None]
            staged = key in built.staged[table]
            assert staged != bool(row_reasons), (table, key, verdicts, seed_note(built))
            assert set(row_reasons) <= reasons[table], (table, key, row_reasons)


def test_identifiers_equal_once_normalised_are_one_identifier(built: Built,
                                                              data: HostileData) -> None:
    for value, member_ids in data.collisions.items():
        for member_id in member_ids:
            assert value in built.collided[member_id], (member_id, built.collided[member_id])
    assert built.identifiers == [("email", "a@b.com"), ("phone", "+8613800138000")]


def test_both_engines_reach_the_same_verdicts(builds: dict[str, Built]) -> None:
    if len(builds) < 2:
        pytest.skip("needs both warehouses (PostgreSQL does not answer)")
    duckdb, postgres = builds["dev"], builds["pg"]
    only_duckdb = collections.Counter(duckdb.quarantine) - collections.Counter(postgres.quarantine)
    only_postgres = collections.Counter(postgres.quarantine) - collections.Counter(
        duckdb.quarantine
    )
    assert not only_duckdb and not only_postgres, (
        f"quarantine differs (seed {SEED}): DuckDB only {list(only_duckdb)[:20]}, "
        f"PostgreSQL only {list(only_postgres)[:20]}"
    )
    for table in HOSTILE_TABLES:
        assert duckdb.staged[table] == postgres.staged[table], table
