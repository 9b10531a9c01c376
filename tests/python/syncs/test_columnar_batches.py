"""Batches read column-wise: the values a destination gets do not depend on the engine or on
how the rows were read (Arrow from DuckDB, Python rows from PostgreSQL), and the JSON
encoder (orjson when installed, the stdlib otherwise) writes the same documents."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.resources import base
from orchestration.syncs import state

from .conftest import Project, Receiver, TestWarehouse, customers

TYPED_AUDIENCE = """
    create table audiences.aud_typed as
    select
        'c00001' as customer_id,
        'one@example.com' as email,
        cast(12 as integer) as points,
        cast(12.5 as decimal(10, 2)) as spend,
        cast(0.25 as double precision) as ratio,
        true as is_vip,
        cast('1990-05-01' as date) as born_on,
        cast('2024-01-02 03:04:05' as timestamp) as seen_at,
        cast(null as varchar) as note
    union all
    select
        'c00002', 'two@example.com', cast(-3 as integer), cast(0 as decimal(10, 2)),
        cast(1e-05 as double precision), false, cast('2001-12-31' as date),
        cast('2024-06-30 23:59:59' as timestamp), 'é "quoted", 中文'
"""
FIELDS = ["points", "spend", "ratio", "is_vip", "born_on", "seen_at", "note"]
EXPECTED_FIELDS = {
    "c00001": {"points": 12, "spend": 12.5, "ratio": 0.25, "is_vip": True,
               "born_on": "1990-05-01", "seen_at": "2024-01-02T03:04:05Z", "note": None},
    "c00002": {"points": -3, "spend": 0.0, "ratio": 1e-05, "is_vip": False,
               "born_on": "2001-12-31", "seen_at": "2024-06-30T23:59:59Z",
               "note": 'é "quoted", 中文'},
}


def typed_audience(wh: TestWarehouse, sql: str = TYPED_AUDIENCE) -> None:
    wh.sql("create schema if not exists audiences")
    wh.sql("drop table if exists audiences.aud_typed")
    wh.sql(sql)


def test_typed_columns_reach_webhook_and_files_alike_on_every_engine(
    project: Project, http_server: tuple[str, Receiver], webhook_env: dict[str, str],
    tmp_path: Path,
) -> None:
    url, receiver = http_server
    project.destinations["esp"] = {"type": "webhook", "url": url, "pii": "allowed",
                                   "max_concurrent_batches": 2, **webhook_env}
    project.destinations["files"] = {"type": "file", "path": "exports", "pii": "allowed",
                                     "formats": ["csv", "parquet"], "batch_size": 1}
    sync = {"identifiers": ["customer_id", "email"], "fields": FIELDS}
    project.add_audience("typed", {"destination": "esp", **sync},
                         {"destination": "files", **sync})
    typed_audience(project.wh)
    results = project.run(["typed"])
    assert [result.status for result in results] == ["success", "success"]

    assert {key: record["fields"] for key, record in receiver.store.items()} == (
        EXPECTED_FIELDS
    )
    assert receiver.store["c00002"]["identifiers"] == {
        "customer_id": "c00002", "email": "two@example.com",
    }

    folder = tmp_path / "exports" / "typed__files"
    manifest = json.loads((folder / "manifest.json").read_text())
    parquet = [entry for entry in manifest["files"] if entry["format"] == "parquet"]
    assert [entry["batch_number"] for entry in parquet] == [1, 2]
    table = pa.concat_tables([pq.read_table(folder / entry["path"]) for entry in parquet])
    schema = table.schema
    assert schema.names == ["_operation", "_idempotency_key", "_record_key", "customer_id",
                            "email", *FIELDS]
    assert schema.field("points").type == pa.int64()
    assert schema.field("ratio").type == pa.float64()
    assert schema.field("seen_at").type == pa.timestamp("us")
    assert schema.field("born_on").type == pa.date32()
    assert pa.types.is_decimal(schema.field("spend").type)
    assert table.column("note").to_pylist() == [None, 'é "quoted", 中文']
    assert table.column("seen_at").to_pylist()[0] == dt.datetime(2024, 1, 2, 3, 4, 5)
    csv_text = (folder / manifest["files"][0]["path"]).read_text()
    assert "12.50" in csv_text and "2024-01-02" in csv_text

    # The identity JSON kept for later deletes holds the identifiers as sent.
    identities = project.wh.sql(
        f"select record_key, identity_json from {state.STATE} "
        "where sync_key = 'typed__esp' order by record_key"
    )
    assert [(key, json.loads(text)) for key, text in identities] == [
        ("c00001", {"customer_id": "c00001", "email": "one@example.com"}),
        ("c00002", {"customer_id": "c00002", "email": "two@example.com"}),
    ]


def test_duckdb_types_arrow_would_change_take_the_row_path(
    duck_project: Project, http_server: tuple[str, Receiver], webhook_env: dict[str, str],
    tmp_path: Path,
) -> None:
    """HUGEINT (a sum of integers), MAP and INTERVAL would come back from Arrow as a
    decimal, a list of pairs and a month-day-nano tuple: such batches are read as rows."""
    url, receiver = http_server
    duck_project.destinations["esp"] = {"type": "webhook", "url": url, "pii": "allowed",
                                        **webhook_env}
    duck_project.destinations["files"] = {"type": "file", "path": "exports",
                                          "pii": "allowed", "formats": ["parquet"]}
    sync = {"identifiers": ["customer_id"], "fields": ["orders", "tags", "since"]}
    duck_project.add_audience("typed", {"destination": "esp", **sync},
                              {"destination": "files", **sync})
    typed_audience(duck_project.wh, """
        create table audiences.aud_typed as
        select 'c00001' as customer_id, sum(cast(n as integer)) as orders,
            map {'tier': 'gold'} as tags, interval 3 day as since
        from range(1, 5) as numbers(n)
    """)
    results = duck_project.run(["typed"])
    assert [result.status for result in results] == ["success", "success"]
    fields = receiver.store["c00001"]["fields"]
    assert fields["orders"] == 10 and isinstance(fields["orders"], int)
    assert fields["tags"] == {"tier": "gold"}
    assert fields["since"] == "3 days, 0:00:00"
    (part,) = (tmp_path / "exports" / "typed__files" / "parts").glob("*.parquet")
    assert pq.read_table(part).column("orders").to_pylist() == [10]


def test_in_flight_table_with_a_primary_key_from_earlier_versions(
    project: Project, http_server: tuple[str, Receiver], webhook_env: dict[str, str]
) -> None:
    """cdp_sync_in_flight used to have a primary key; a row a killed run left there is
    replaced, and the record is sent once more with the same key."""
    url, receiver = http_server
    project.destinations["esp"] = {"type": "webhook", "url": url, "pii": "allowed",
                                   "batch_size": 2, **webhook_env}
    project.add_audience("vip", {"destination": "esp", "mode": "mirror",
                                 "identifiers": ["customer_id", "email"]})
    rows = customers(5)
    project.wh.audience("vip", rows)
    with project.wh.connection() as connection:
        connection.execute(f"create schema if not exists {state.SCHEMA}")
        connection.execute(f"""
            create table {state.IN_FLIGHT} (
                sync_key varchar not null, record_key varchar not null,
                change_type varchar not null, row_hash varchar not null,
                identity_json varchar, idempotency_key varchar not null,
                run_id varchar not null, sent_at timestamp not null,
                primary key (sync_key, record_key)
            )
        """)
        connection.execute(
            f"insert into {state.IN_FLIGHT} values "
            "('vip__esp', 'c00003', 'add', 'old-hash', '{}', 'old-key', 'killed', ?)",
            (dt.datetime(2024, 1, 1),),
        )
    result = project.run_one("vip")
    assert result.status == "success" and result.rows_added == 5
    assert set(receiver.store) == {row["customer_id"] for row in rows}
    assert project.wh.sql(f"select count(*) from {state.IN_FLIGHT}")[0][0] == 0
    assert project.run_one("vip").batches_sent == 0


@pytest.mark.parametrize("sort_keys", [False, True])
def test_orjson_and_stdlib_encoders_write_the_same_documents(
    monkeypatch: pytest.MonkeyPatch, sort_keys: bool
) -> None:
    value = {
        "text": 'é "quoted" \x1f 中文', "int": 7, "float": 0.1, "nan": float("nan"),
        "inf": float("-inf"), "none": None, "flag": True, "decimal": decimal.Decimal("12.50"),
        "naive": dt.datetime(2024, 1, 2, 3, 4, 5),
        "aware": dt.datetime(2024, 1, 2, 11, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=8))),
        "date": dt.date(2024, 1, 2), "time": dt.time(1, 2), "uuid": uuid.UUID(int=5),
        "bytes": b"\x01\xff", "tuple": (1, "a"), "nested": {"b": [1, 2.5], "a": {3}},
    }
    fast = base.dumps(value, sort_keys=sort_keys)
    past_64_bits = base.dumps({"big": 2**70, **value}, sort_keys=sort_keys)  # orjson refuses
    monkeypatch.setattr(base, "orjson", None)
    slow = base.dumps(value, sort_keys=sort_keys)
    assert json.loads(fast) == json.loads(slow)
    assert json.loads(past_64_bits) == {"big": 2**70, **json.loads(slow)}
    document = json.loads(slow)
    assert document["naive"] == "2024-01-02T03:04:05Z"
    assert document["aware"] == "2024-01-02T03:04:05Z"
    assert document["nan"] is None and document["decimal"] == 12.5
    assert document["bytes"] == "01ff" and document["nested"]["a"] == [3]
