"""Hostile raw input through staging and identity, on DuckDB and PostgreSQL.

A seeded generator (``hostile_rows``; seed from CDP_FUZZ_SEED, printed on failure) writes
broken rows into every raw contract table next to known-good ones. One ``dbt build`` of
seeds, staging, identity and the privacy tombstones per warehouse must pass; then every
broken row is in ``stg_quarantine`` with the reason the generator expects, no good row is
lost, every honoured deletion request holds the hash of its normalised identifier and
erases exactly the one person it names, and both engines reach the same verdict on every
row.
"""

from __future__ import annotations

import collections
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from orchestration.syncs.forget import identifier_hash
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
             # the tombstones' post-hook erases the people deletion requests name
             "path:models/privacy",
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
    tombstones: list[tuple[str, str, str]]  # request_id, identifier_type, identifier_hash
    erased_left: list[tuple[str, str]]    # identity_identifiers of the erased person


def read_back(warehouse: Warehouse, data: HostileData) -> Built:
    staged: dict[str, dict[str, Any]] = {}
    staged_rows: dict[str, int] = {}
    raw_rows: dict[str, int] = {}
    for table in TABLES:
        _, probe = table.probe
        rows = warehouse.query(
            f"select {table.staged_key}, {probe} from staging.{table.staged_model}"
        )
        if table.several_per_key:
            probes: dict[Any, set[Any]] = collections.defaultdict(set)
            for key, value in rows:
                probes[key].add(value)
            staged[table.name] = {key: frozenset(values) for key, values in probes.items()}
        else:
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
    tombstones = warehouse.query(
        "select request_id, identifier_type, identifier_hash from privacy.privacy_tombstones"
    )
    erased = ", ".join(f"'{value}'" for _, value in data.erasure.identifiers)
    erased_left = warehouse.query(
        "select identifier_type, identifier_value from identity.identity_identifiers "
        f"where identifier_value in ({erased})"
    )
    return Built(warehouse.target, raw_rows, staged, staged_rows,
                 [tuple(row) for row in quarantine], collided, sorted(identifiers),
                 [tuple(row) for row in tombstones], [tuple(row) for row in erased_left])


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
    # rows without a key: missing_key, or erased (a CRM row keeps no key)
    keyless: dict[str, collections.Counter[tuple[str | None, str]]] = (
        collections.defaultdict(collections.Counter)
    )
    for expectation in data.expectations:
        if expectation.key is None:
            assert expectation.outcome.kind == "rejected"
            keyless[expectation.table][(None, str(expectation.outcome.reason))] += (
                expectation.copies
            )
    for table in HOSTILE_TABLES:
        got = collections.Counter(found.get((table, None), []))
        if got != keyless[table]:
            problems.append(f"{table}: rows without a key expected as {dict(keyless[table])}, "
                            f"quarantine has {dict(got)}")
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
            if (table, key) in data.chaos_verdicts:  # the row's fate is known exactly
                outcome, probe = data.chaos_verdicts[(table, key)]
                assert row_reasons == ([outcome.reason] if outcome.reason else []), (
                    table, short(key), outcome, row_reasons, seed_note(built))
                assert built.staged[table].get(key) == probe, (table, short(key))


def test_a_deletion_request_erases_the_person_it_names_everywhere(built: Built,
                                                                  data: HostileData) -> None:
    """The one request naming somebody (a dedicated CRM member, by email typed otherwise)
    erases their CRM row, their ticket (same phone) and their web event (same member id):
    expected as erasure_request in the row checks above; here, what is left of them."""
    erasure = data.erasure
    assert erasure.member_id not in built.staged["crm_members"], seed_note(built)
    for table, key in erasure.erased_keys.items():
        assert key not in built.staged[table], (table, key)
    assert built.erased_left == [], seed_note(built)
    tombstones = {(kind, hashed) for request_id, kind, hashed in built.tombstones
                  if request_id == erasure.request_id}
    assert {(kind, hashed) for kind, hashed in tombstones if kind != "customer_id"} == {
        (kind, identifier_hash(kind, value)) for kind, value in erasure.identifiers
    }, seed_note(built)
    assert any(kind == "customer_id" for kind, _ in tombstones)


def test_other_deletion_requests_name_nobody_else(built: Built, data: HostileData) -> None:
    """Every other honoured request is tombstoned with its own identifier and nothing more:
    it resolved to no customer, so no row of another table was erased on its account."""
    staged = built.staged["deletion_requests"]
    tombstones: dict[str, set[str]] = collections.defaultdict(set)
    for request_id, _, hashed in built.tombstones:
        tombstones[request_id].add(hashed)
    assert set(tombstones) == set(staged), seed_note(built)
    for request_id, hashes in staged.items():
        if request_id != data.erasure.request_id:
            assert tombstones[request_id] == set(hashes), (short(request_id), seed_note(built))
    erased = collections.Counter(row[0] for row in built.quarantine
                                 if row[3] == "erasure_request")
    assert erased == {"crm_members": 1, **dict.fromkeys(data.erasure.erased_keys, 1)}, (
        seed_note(built))


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
