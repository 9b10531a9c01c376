"""Each destination against a real local endpoint: files, ads over HTTP, PostgreSQL, Redis."""

from __future__ import annotations

import csv
import hashlib
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pyarrow.parquet as pq
import pytest

from orchestration.resources.file_export import atomic_write

from .conftest import Project, Receiver, customers, pg_conninfo

# -- file export --------------------------------------------------------------------------


def test_file_export_writes_parts_and_manifest(duck_project: Project, tmp_path: Path) -> None:
    duck_project.destinations["demo_files"] = {
        "type": "file", "path": "exports", "formats": ["csv", "parquet"], "pii": "allowed",
        "batch_size": 3,
    }
    duck_project.add_audience("vip", {"destination": "demo_files", "mode": "mirror",
                                      "identifiers": ["customer_id", "email"],
                                      "fields": ["first_name", "city"]})
    rows = customers(5)
    duck_project.wh.audience("vip", rows)
    first = duck_project.run_one("vip")
    assert first.rows_added == 5 and first.batches_sent == 2

    folder = tmp_path / "exports" / "vip__demo_files"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["run_id"] == first.run_id and manifest["status"] == "success"
    assert manifest["counts"]["rows_added"] == 5
    assert [(f["format"], f["operation"], f["rows"]) for f in manifest["files"]] == [
        ("csv", "upsert", 3), ("parquet", "upsert", 3), ("csv", "upsert", 2),
        ("parquet", "upsert", 2),
    ]
    for entry in manifest["files"]:
        path = folder / entry["path"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]
    (first_csv, _, _, second_parquet) = [folder / f["path"] for f in manifest["files"]]
    with open(first_csv, newline="") as handle:
        exported = list(csv.DictReader(handle))
    assert [row["customer_id"] for row in exported] == ["c00001", "c00002", "c00003"]
    assert exported[0]["email"] == "person1@example.com"
    assert exported[0]["_operation"] == "upsert" and len(exported[0]["_idempotency_key"]) == 32
    assert pq.read_table(second_parquet).column("city").to_pylist() == ["Shanghai"] * 2
    assert (folder / "manifests" / f"{first.run_id}.json").exists()

    duck_project.wh.audience("vip", rows[1:])
    second = duck_project.run_one("vip")
    assert second.rows_removed == 1
    latest = json.loads((folder / "manifest.json").read_text())
    assert latest["run_id"] == second.run_id
    (delete_csv,) = [folder / f["path"] for f in latest["files"] if f["format"] == "csv"]
    assert delete_csv.name.startswith("delete-")
    with open(delete_csv, newline="") as handle:
        (deleted,) = list(csv.DictReader(handle))
    assert deleted["_record_key"] == "c00001" and deleted["email"] == "person1@example.com"
    leftovers = [p for p in folder.rglob("*") if p.name.startswith(".")]
    assert leftovers == []


def test_atomic_write_leaves_old_file_and_no_temp_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "out" / "part.csv"
    atomic_write(target, lambda path: path.write_text("old\n"))

    def crash_halfway(path: Path) -> None:
        path.write_text("half of the new con")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, crash_halfway)
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["part.csv"]


# -- ad platform --------------------------------------------------------------------------


def test_ads_payload_carries_only_hashes(
    duck_project: Project, http_server: tuple[str, Receiver], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, receiver = http_server
    monkeypatch.setenv("CDP_TEST_ADS_TOKEN", "test-token")
    monkeypatch.setenv("CDP_TEST_ADS_SECRET", "test-signing-secret")
    duck_project.destinations["ads"] = {
        "type": "ads", "url": url, "list_id": "winback", "pii": "forbidden",
        "auth_token_env": "CDP_TEST_ADS_TOKEN", "signing_secret_env": "CDP_TEST_ADS_SECRET",
        "default_country_code": "86", "retry_backoff_seconds": 0.01,
    }
    duck_project.add_audience("vip", {"destination": "ads", "mode": "mirror",
                                      "channel": "ads", "identifiers": ["email", "phone"]})
    rows = [
        {"customer_id": "LW-001", "email": "  Li.Wei@Example.COM ", "phone": "138 0013 8000"},
        {"customer_id": "GB-002", "email": None, "phone": "+44 20 7946 0958"},
        {"customer_id": "ZH-003", "email": "zhang@example.cn", "phone": None},
    ]
    duck_project.wh.audience("vip", rows, {"customer_id": "varchar", "email": "varchar",
                                           "phone": "varchar"})
    duck_project.wh.consent([(row["customer_id"], "ads", True) for row in rows])
    result = duck_project.run_one("vip")
    assert result.rows_added == 3
    (request,) = receiver.requests
    body = request["body"]
    raw = json.dumps(body)
    for secret in ("Li.Wei", "li.wei@example.com", "example", "13800138000", "7946",
                   "LW-001", "GB-002", "ZH-003", "customer_id", "\"email\"", "\"phone\""):
        assert secret not in raw, secret
    assert body["list_id"] == "winback" and body["operation"] == "add"
    members = body["members"]
    sha = lambda value: hashlib.sha256(value.encode()).hexdigest()
    assert {m.get("hashed_email") for m in members} == {
        sha("li.wei@example.com"), sha("zhang@example.cn"), None,
    }
    assert {m.get("hashed_phone") for m in members} == {
        sha("+8613800138000"), sha("+442079460958"), None,
    }
    for member in members:
        assert set(member) <= {"idempotency_key", "hashed_email", "hashed_phone"}

    audit = duck_project.wh.sql("select fields_sent from cdp_sync.cdp_sync_audit")
    assert audit == [("sha256(email),sha256(phone)",)]

    duck_project.wh.audience("vip", rows[:2], {"customer_id": "varchar", "email": "varchar",
                                               "phone": "varchar"})
    removed = duck_project.run_one("vip")
    assert removed.rows_removed == 1
    last = receiver.requests[-1]["body"]
    assert last["operation"] == "remove"
    assert last["members"][0]["hashed_email"] == sha("zhang@example.cn")
    assert "zhang" not in json.dumps(last)


# -- PostgreSQL table ---------------------------------------------------------------------


@pytest.mark.pg
def test_postgres_table_upsert_and_delete(
    duck_project: Project, pg_destination_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    conninfo = pg_conninfo(pg_destination_db)
    monkeypatch.setenv("CDP_TEST_CRM_CONNINFO", conninfo)
    duck_project.destinations["crm"] = {
        "type": "postgres", "conninfo_env": "CDP_TEST_CRM_CONNINFO",
        "table": "crm.audience_members", "pii": "allowed", "batch_size": 2,
    }
    duck_project.add_audience("vip", {"destination": "crm", "mode": "mirror",
                                      "identifiers": ["customer_id", "email"],
                                      "fields": ["first_name", "city"]})
    rows = customers(3)
    duck_project.wh.audience("vip", rows)
    assert duck_project.run_one("vip").rows_added == 3

    rows[0]["city"] = None
    duck_project.wh.audience("vip", rows[:2])
    second = duck_project.run_one("vip")
    assert (second.rows_changed, second.rows_removed) == (1, 1)
    # Re-sending is harmless: the table is keyed by customer_id.
    with psycopg.connect(conninfo) as connection:
        table = connection.execute(
            "select customer_id, email, first_name, city, cdp_sync_key from "
            "crm.audience_members order by customer_id"
        ).fetchall()
    assert table == [
        ("c00001", "person1@example.com", "Name1", None, "vip__crm"),
        ("c00002", "person2@example.com", "Name2", "Shanghai", "vip__crm"),
    ]


# -- Redis profile store ------------------------------------------------------------------


@pytest.fixture()
def redis_prefix(redis_client: Any) -> Iterator[str]:
    prefix = f"cdp:test:{uuid.uuid4().hex[:8]}:customer:"
    yield prefix
    keys = list(redis_client.scan_iter(match=prefix + "*"))
    if keys:
        redis_client.delete(*keys)


@pytest.mark.redis
def test_redis_profile_store_hashes_per_customer(
    duck_project: Project, redis_client: Any, redis_prefix: str
) -> None:
    duck_project.destinations["profiles"] = {
        "type": "redis", "host": "127.0.0.1", "port": 6379, "key_prefix": redis_prefix,
        "pii": "forbidden", "batch_size": 2,
    }
    duck_project.add_audience("vip", {"destination": "profiles", "mode": "mirror",
                                      "identifiers": ["customer_id"],
                                      "fields": ["city", "tier"]})
    columns = {"customer_id": "varchar", "city": "varchar", "tier": "varchar"}
    rows = [{"customer_id": f"c{n}", "city": "Suzhou", "tier": "gold"} for n in range(1, 4)]
    duck_project.wh.audience("vip", rows, columns)
    assert duck_project.run_one("vip").rows_added == 3
    profile = redis_client.hgetall(redis_prefix + "c1")
    assert profile["city"] == "Suzhou" and profile["tier"] == "gold"
    assert profile["customer_id"] == "c1" and len(profile["_sync:vip__profiles"]) == 32

    rows[0]["tier"] = None
    duck_project.wh.audience("vip", rows[:2], columns)
    second = duck_project.run_one("vip")
    assert (second.rows_changed, second.rows_removed) == (1, 1)
    assert "tier" not in redis_client.hgetall(redis_prefix + "c1")
    assert redis_client.exists(redis_prefix + "c3") == 0
    assert sorted(redis_client.scan_iter(match=redis_prefix + "*")) == [
        redis_prefix + "c1", redis_prefix + "c2",
    ]


def test_lists_timestamps_and_decimals_travel_as_json(
    duck_project: Project, http_server: tuple[str, Receiver], webhook_env: dict[str, str],
    tmp_path: Path,
) -> None:
    url, receiver = http_server
    duck_project.destinations["esp"] = {"type": "webhook", "url": url, "pii": "allowed",
                                        **webhook_env}
    duck_project.destinations["demo_files"] = {"type": "file", "path": "exports",
                                               "pii": "allowed"}
    sync = {"identifiers": ["customer_id"], "fields": ["tags", "last_order_at", "revenue"]}
    duck_project.add_audience("tagged", {"destination": "esp", **sync},
                              {"destination": "demo_files", **sync})
    duck_project.wh.sql("create schema if not exists audiences")
    duck_project.wh.sql(
        "create table audiences.aud_tagged as select 'c1' as customer_id, "
        "['vip', 'lapsed'] as tags, timestamp '2025-01-02 03:04:05' as last_order_at, "
        "cast(12.5 as decimal(10, 2)) as revenue"
    )
    results = duck_project.run()
    assert [r.rows_added for r in results] == [1, 1]
    (record,) = receiver.store.values()
    assert record["fields"] == {"tags": ["vip", "lapsed"],
                                "last_order_at": "2025-01-02T03:04:05Z", "revenue": 12.5}
    folder = tmp_path / "exports" / "tagged__demo_files" / "parts"
    (parquet,) = folder.glob("*.parquet")
    assert pq.read_table(parquet).column("tags").to_pylist() == [["vip", "lapsed"]]
    (csv_file,) = folder.glob("*.csv")
    with open(csv_file, newline="") as handle:
        (row,) = list(csv.DictReader(handle))
    assert json.loads(row["tags"]) == ["vip", "lapsed"]


def test_file_parts_checksum_the_bytes_written_and_a_resend_reuses_them(tmp_path: Path) -> None:
    from orchestration.resources.base import SyncBatch, SyncRecord
    from orchestration.resources.file_export import FileDestinationResource

    records = tuple(
        SyncRecord(f"c{index:05d}", "upsert", f"key{index:05d}", {"customer_id": f"c{index:05d}"},
                   {"city": None if index % 7 == 0 else f"City {index}"})
        for index in range(2_500)
    )
    batch = SyncBatch(sync_key="vip__files", audience="vip", destination="files", run_id="r1",
                      batch_number=1, operation="upsert", records=records,
                      field_names=["city"], identifier_names=["customer_id"])
    resource = FileDestinationResource(name="files", pii="allowed",
                                       path=str(tmp_path / "exports"))
    answers = []
    for _ in range(2):
        session = resource.open_session()
        answers.append(session.send(batch))
        parts = session.parts  # type: ignore[attr-defined]
        assert [part["format"] for part in parts] == ["csv", "parquet"]
        for part in parts:
            written = tmp_path / "exports" / "vip__files" / part["path"]
            assert hashlib.sha256(written.read_bytes()).hexdigest() == part["sha256"]
            assert part["rows"] == len(records)
    assert answers[0].payload_sha256 == answers[1].payload_sha256
    assert [part["reused_from_earlier_attempt"] for part in parts] == [True, True]
    (parquet,) = (tmp_path / "exports" / "vip__files" / "parts").glob("*.parquet")
    table = pq.read_table(parquet)
    assert table.column("_record_key").to_pylist() == [record.record_key for record in records]
    assert table.column("city").null_count == len(range(0, 2_500, 7))
    with open(parquet.with_suffix(".csv"), newline="") as handle:
        assert len(list(csv.DictReader(handle))) == len(records)
    assert [p.name for p in (tmp_path / "exports").rglob(".*")] == []
