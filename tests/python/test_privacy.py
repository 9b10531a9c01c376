"""Right to be forgotten, end to end on each warehouse.

A deletion request names one identifier. The next `dbt build` resolves it to the customer
holding it, keeps salted hashes of everything that identified them (privacy_tombstones),
and removes them from every relation downstream of raw: staging, identity, marts,
audiences, snapshots, BI views. Raw rows that arrive again for that person are erased in
staging (quarantined as erasure_request, nothing but their key kept). These tests look for
the person in every text and id column of every relation outside `raw` and `truth`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from orchestration.syncs.forget import identifier_hash
from tests.python.cdp_testing import Warehouse

OUTSIDE = ("raw", "truth", "pg_catalog", "information_schema", "pg_toast")


@dataclass(frozen=True)
class Person:
    customer_id: str
    texts: frozenset[str]  # identifiers, customer ids, name, lower-cased
    node_ids: frozenset[int]
    identifiers: frozenset[tuple[str, str]]


def _text_and_id_columns(warehouse: Warehouse) -> dict[tuple[str, str], tuple[list, list]]:
    text_types = ("text", "character varying", "varchar")
    rows = warehouse.query(f"""
        select table_schema, table_name, column_name, lower(data_type)
        from information_schema.columns
        where table_schema not in ({", ".join(f"'{s}'" for s in OUTSIDE)})
            and table_schema not like 'pg_temp%'
        order by table_schema, table_name, ordinal_position
    """)
    columns: dict[tuple[str, str], tuple[list, list]] = {}
    for schema, table, column, data_type in rows:
        texts, ids = columns.setdefault((schema, table), ([], []))
        if data_type in text_types:
            texts.append(column)
        elif data_type == "bigint":
            ids.append(column)
    return columns


def _quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def residue(warehouse: Warehouse, texts: Iterable[str], node_ids: Iterable[int]) -> list[str]:
    """Every relation column outside raw and truth that still holds one of `texts` (as a
    value or inside a longer text, case-insensitive) or one of `node_ids`."""
    texts = sorted({text.lower() for text in texts if text})
    node_ids = sorted(set(node_ids))
    found = []
    for (schema, table), (text_columns, id_columns) in _text_and_id_columns(warehouse).items():
        for column in text_columns:
            inside = " or ".join(
                f'strpos(lower("{column}"), {_quoted(text)}) > 0' for text in texts)
            count = warehouse.query(
                f'select count(*) from "{schema}"."{table}" where {inside}')[0][0]
            if count:
                found.append(f"{schema}.{table}.{column}: {count} rows")
        for column in id_columns:
            if not node_ids:
                continue
            listed = ", ".join(str(node_id) for node_id in node_ids)
            count = warehouse.query(
                f'select count(*) from "{schema}"."{table}" where "{column}" in ({listed})'
            )[0][0]
            if count:
                found.append(f"{schema}.{table}.{column}: {count} rows (node ids)")
    return found


def person_of(warehouse: Warehouse, customer_id: str) -> Person:
    identifiers = warehouse.query(f"""
        select identifier_type, identifier_value, node_id
        from identity.customer_identifiers where customer_id = {_quoted(customer_id)}
    """)
    names = warehouse.query(f"""
        select full_name from marts.dim_customers
        where customer_id = {_quoted(customer_id)} and full_name is not null
    """)
    # Short values (a 2-character name) would match unrelated text; ids are long enough.
    texts = {value for _, value, _ in identifiers} | {customer_id}
    texts |= {name for (name,) in names if len(name) >= 6}
    return Person(customer_id, frozenset(text.lower() for text in texts),
                  frozenset(node_id for _, _, node_id in identifiers),
                  frozenset((kind, value) for kind, value, _ in identifiers))


def forgettable_customers(warehouse: Warehouse, count: int) -> list[str]:
    """Customers with many identifiers of several types, an email among them."""
    rows = warehouse.query(f"""
        select customer_id
        from identity.customer_identifiers
        group by customer_id
        having count(distinct identifier_type) >= 4
            and sum(case when identifier_type = 'email' then 1 else 0 end) > 0
            and sum(case when identifier_type = 'member_id' then 1 else 0 end) > 0
        order by count(*) desc, customer_id
        limit {count}
    """)
    assert len(rows) == count, "the demo must have customers with rich profiles"
    return [customer_id for (customer_id,) in rows]


def messy(identifier_type: str, value: str) -> str:
    """How a requester might type the identifier (staging must normalise it back)."""
    if identifier_type == "email":
        return f"  {value.upper()} "
    return f" {value}\u3000"


@pytest.fixture(scope="module")
def forgotten(demo: Warehouse, tmp_path_factory: pytest.TempPathFactory,
              ) -> Iterator[tuple[Warehouse, list[Person]]]:
    """A copy of the demo where two rich customers asked to be forgotten (one by email,
    one by member id, both typed messily), rebuilt once. Tests only read it."""
    warehouse = demo.clone(tmp_path_factory.mktemp("forgotten"))
    people = [person_of(warehouse, customer_id)
              for customer_id in forgettable_customers(warehouse, 2)]
    requests = []
    for number, (person, kind) in enumerate(zip(people, ["email", "member_id"], strict=True)):
        value = min(value for identifier_type, value in person.identifiers
                       if identifier_type == kind)
        requests.append({"request_id": f"DR-TEST-{number}", "identifier_type": kind.upper(),
                         "identifier_value": messy(kind, value),
                         "requested_at": "2026-01-02T03:04:05+08:00"})
    warehouse.load_raw({"deletion_requests": requests}, append=True)
    warehouse.build()
    yield warehouse, people
    warehouse.drop()


def test_demo_requests_are_honoured_on_the_first_build(demo: Warehouse) -> None:
    """The generator's own requests arrive with the person's data in the first load."""
    requests = demo.query("""
        select request_id, identifier_type, identifier_hash
        from staging.stg_privacy__deletion_requests
    """)
    assert requests, "the demo must contain deletion requests"
    truth = demo.query("select identifier_type, identifier_value from truth.person_identifiers")
    by_hash = {identifier_hash(kind, value): value for kind, value in truth}
    requested = [by_hash[hashed] for _, _, hashed in requests]
    tombstones = {row[0] for row in demo.query(
        "select identifier_hash from privacy.privacy_tombstones")}
    assert {hashed for _, _, hashed in requests} <= tombstones
    forgotten_ids = demo.query("""
        select count(*) from privacy.privacy_tombstones where identifier_type = 'customer_id'
    """)[0][0]
    assert forgotten_ids >= len({request_id for request_id, _, _ in requests})
    assert residue(demo, requested, []) == []


def test_nothing_of_a_forgotten_person_remains_outside_raw(
    forgotten: tuple[Warehouse, list[Person]],
) -> None:
    warehouse, people = forgotten
    texts = set().union(*(person.texts for person in people))
    node_ids = set().union(*(person.node_ids for person in people))
    assert residue(warehouse, texts, node_ids) == []
    # Raw still holds them: retention is the loader's job, and the quarantine tells it what.
    erased = warehouse.query("""
        select source_name, count(*) from staging.stg_quarantine
        where reason = 'erasure_request' group by source_name
    """)
    assert {"crm_members", "ecom_orders"} <= {source for source, _ in erased}


def test_tombstones_hold_only_salted_hashes(
    forgotten: tuple[Warehouse, list[Person]],
) -> None:
    warehouse, people = forgotten
    rows = warehouse.query("""
        select request_id, identifier_type, identifier_hash
        from privacy.privacy_tombstones where request_id like 'DR-TEST-%'
    """)
    for number, person in enumerate(people):
        hashes = {(kind, hashed) for request_id, kind, hashed in rows
                  if request_id == f"DR-TEST-{number}"}
        expected = {(kind, identifier_hash(kind, value)) for kind, value in person.identifiers}
        expected.add(("customer_id", identifier_hash("customer_id", person.customer_id)))
        assert hashes == expected
    columns = {column for (column,) in warehouse.query("""
        select column_name from information_schema.columns
        where table_schema = 'privacy' and table_name = 'privacy_tombstones'
    """)}
    assert "identifier_value" not in columns


def test_other_customers_are_untouched(
    demo: Warehouse, forgotten: tuple[Warehouse, list[Person]],
) -> None:
    warehouse, people = forgotten
    gone = {person.customer_id for person in people}
    query = "select customer_id, identifier_type, identifier_value from identity.customer_identifiers"
    before = {row for row in demo.query(query) if row[0] not in gone}
    assert set(warehouse.query(query)) == before
    customers = "select count(*) from marts.dim_customers"
    assert warehouse.query(customers)[0][0] == demo.query(customers)[0][0] - len(gone)


def test_data_arriving_again_for_a_forgotten_person_stays_out(
    forgotten: tuple[Warehouse, list[Person]], tmp_path: Path,
) -> None:
    warehouse, people = forgotten[0].clone(tmp_path / "again"), forgotten[1]
    email_person, member_person = people
    email = min(value for kind, value in email_person.identifiers if kind == "email")
    member_id = min(value for kind, value in member_person.identifiers
                       if kind == "member_id")
    fresh = ["anon-reborn-7f3a91", "reborn.person@example.org", "+8613987650421"]
    warehouse.load_raw({
        "web_events": [{"event_id": "W-REBORN-1", "anonymous_id": fresh[0],
                        "user_id": f" {member_id} ", "event_name": "page_view",
                        "event_ts": "2026-01-05T10:00:00Z"}],
        "service_tickets": [{"ticket_id": "T-REBORN-1", "email": email.upper(),
                             "phone": fresh[2], "channel": "phone", "category": "complaint",
                             "created_at": "2026-01-05 18:00:00"}],
        "crm_members": [{"member_id": member_id, "email": fresh[1], "name": "Reborn Person",
                         "updated_at": "2026-01-06 09:00:00"}],
    }, append=True)
    warehouse.build()
    texts = set().union(*(person.texts for person in people)) | {text.lower() for text in fresh}
    node_ids = set().union(*(person.node_ids for person in people))
    assert residue(warehouse, texts, node_ids) == []
    erased_keys = {key for (key,) in warehouse.query("""
        select source_key from staging.stg_quarantine where reason = 'erasure_request'
    """)}
    warehouse.drop()
    assert {"W-REBORN-1", "T-REBORN-1"} <= erased_keys
