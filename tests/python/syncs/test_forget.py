"""Right to be forgotten on the sync side: deletes at every destination, nothing left in cdp_sync.

A customer is synced to a file export (mirror), a webhook, Redis and a PostgreSQL table;
then dbt's ``privacy.privacy_tombstones`` (laid out here as a plain table, the model's
contract) names them and the next sync run deletes them at each destination and purges them
from every ``cdp_sync`` table, on DuckDB and PostgreSQL. A re-run is a no-op; a forget pass
killed mid-way resumes; a destination that cannot delete is noted, not failed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import psycopg
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from orchestration.resources.file_export import sha256_file
from orchestration.resources.webhook import WebhookDestinationResource
from orchestration.syncs.cli import sync
from orchestration.syncs.forget import identifier_hash

from .conftest import Project, Receiver, TestWarehouse, customers, pg_conninfo

PROJECT_ROOT = Path(__file__).resolve().parents[3]
NOW = dt.datetime(2025, 6, 1, 12, 0)
VICTIM = customers(5)[1]          # c00002, person2@example.com, +8613800000002
RETIRED_ID = "c-retired-0002"     # a customer id merged into c00002 earlier


def forget(wh: TestWarehouse, *people: dict[str, Any], request_id: str = "req-1") -> None:
    """(Re)create privacy.privacy_tombstones naming ``people`` (the dbt model's contract)."""
    rows = []
    for person in people:
        for identifier_type, value in (("customer_id", person["customer_id"]),
                                       ("customer_id", RETIRED_ID),
                                       ("email", person["email"]), ("phone", person["phone"])):
            rows.append({
                "request_id": request_id, "identifier_type": identifier_type,
                "identifier_hash": identifier_hash(identifier_type, value),
                "requested_at": NOW, "completed_at": NOW, "dbt_invocation_id": "test",
            })
    wh.table(
        "privacy.privacy_tombstones",
        {"request_id": "varchar", "identifier_type": "varchar", "identifier_hash": "varchar",
         "requested_at": "timestamp", "completed_at": "timestamp",
         "dbt_invocation_id": "varchar"},
        rows,
    )


def cdp_sync_text(wh: TestWarehouse) -> str:
    """Every value of every cdp_sync table, as one text (for searching a person's data)."""
    with wh.connection() as connection:
        if connection.dialect == "duckdb":
            tables = connection.fetchall(
                "select table_name from duckdb_tables() where schema_name = 'cdp_sync' "
                "and database_name = current_database()"
            )
        else:
            tables = connection.fetchall(
                "select table_name from information_schema.tables "
                "where table_schema = 'cdp_sync'"
            )
        assert {name for (name,) in tables} >= {
            "cdp_sync_state", "cdp_sync_runs", "cdp_sync_row_failures", "cdp_sync_dead_letter",
            "cdp_sync_in_flight", "cdp_sync_audit", "sync_events",
        }
        text = []
        for (name,) in sorted(tables):
            for row in connection.fetchall(f"select * from cdp_sync.{name}"):
                text.append(f"{name}: " + "|".join(str(value) for value in row))
    return "\n".join(text)


def person_traces(text: str, person: dict[str, Any]) -> list[str]:
    """Lines naming the person (not merely hex digests that happen to contain the id)."""
    needles = (person["customer_id"], person["email"], person["phone"], RETIRED_ID)
    pattern = re.compile(
        "|".join(rf"(?<![0-9A-Za-z]){re.escape(needle)}(?![0-9A-Za-z])" for needle in needles)
    )
    return [line for line in text.splitlines() if pattern.search(line)]


@pytest.fixture()
def redis_prefix(redis_client: Any) -> Iterator[str]:
    prefix = f"cdp:test:{uuid.uuid4().hex[:8]}:customer:"
    yield prefix
    keys = list(redis_client.scan_iter(match=prefix + "*"))
    if keys:
        redis_client.delete(*keys)


def export_rows(folder: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(rows of the sync's ordinary parts, rows of its forget parts), from every file."""
    ordinary: list[dict[str, Any]] = []
    forgotten: list[dict[str, Any]] = []
    for part in sorted((folder / "parts").iterdir()):
        table = (pq.read_table(part) if part.suffix == ".parquet"
                 else pa_csv.read_csv(part))
        rows = table.to_pylist()
        (forgotten if part.name.startswith("forget-") else ordinary).extend(rows)
    return ordinary, forgotten


def assert_manifests_match_files(folder: Path) -> None:
    for manifest_path in [folder / "manifest.json", *(folder / "manifests").glob("*.json")]:
        for entry in json.loads(manifest_path.read_text())["files"]:
            assert sha256_file(folder / entry["path"]) == entry["sha256"], manifest_path


@pytest.mark.pg
@pytest.mark.redis
def test_forgotten_customer_is_deleted_at_every_destination_and_purged(
    project: Project,
    http_server: tuple[str, Receiver],
    webhook_env: dict[str, str],
    redis_client: Any,
    redis_prefix: str,
    pg_destination_db: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    url, receiver = http_server
    crm = pg_conninfo(pg_destination_db)
    monkeypatch.setenv("CDP_TEST_CRM_CONNINFO", crm)
    project.destinations.update({
        "files": {"type": "file", "path": "exports", "formats": ["csv", "parquet"],
                  "pii": "allowed", "batch_size": 2},
        "esp": {"type": "webhook", "url": url, "pii": "allowed", "batch_size": 2,
                "retry_backoff_seconds": 0.01, **webhook_env},
        "profiles": {"type": "redis", "host": "127.0.0.1", "port": 6379,
                     "key_prefix": redis_prefix, "pii": "forbidden"},
        "crm": {"type": "postgres", "conninfo_env": "CDP_TEST_CRM_CONNINFO",
                "table": "crm.audience_members", "pii": "allowed"},
    })
    project.policies["dead_letter_after_failures"] = 1
    contact = {"identifiers": ["customer_id", "email", "phone"]}
    project.add_audience(
        "vip",
        {"destination": "files", "mode": "mirror", "identifiers": ["customer_id", "email"],
         "fields": ["first_name", "city"]},
        {"destination": "esp", "mode": "upsert", "channel": "email", **contact,
         "fields": ["city"]},
        {"destination": "profiles", "mode": "upsert", "fields": ["city"]},
        {"destination": "crm", "mode": "insert", **contact, "fields": ["first_name"]},
    )
    project.add_audience("lapsed", {"destination": "esp", "mode": "mirror", **contact})
    people = customers(5)
    project.wh.audience("vip", people)
    project.wh.audience("lapsed", people[:3])
    project.wh.consent([(person["customer_id"], "email", True) for person in people])

    first = project.run(["vip"], now=NOW)
    assert [(r.sync_key, r.rows_added) for r in first] == [
        ("vip__esp", 5), ("vip__files", 5), ("vip__profiles", 5), ("vip__crm", 5),
    ]
    # The lapsed sync's webhook refuses the victim: a row failure, a dead letter (payload
    # with their email) and an error sample naming them.
    receiver.reject = lambda record: (
        f"mailbox full for {record['identifiers']['email']}"
        if record["record_key"] == VICTIM["customer_id"] else None
    )
    (lapsed,) = project.run(["lapsed"], now=NOW)
    assert (lapsed.rows_added, lapsed.rows_dead_lettered) == (2, 1)
    receiver.reject = lambda record: None
    victim_key = redis_prefix + VICTIM["customer_id"]
    assert redis_client.exists(victim_key)
    assert len(person_traces(cdp_sync_text(project.wh), VICTIM)) > 8

    # The deletion request went through dbt: tombstones written, the victim gone from the
    # audiences (vip rebuilt; lapsed not yet rebuilt, so only the engine keeps them out).
    forget(project.wh, VICTIM)
    project.wh.audience("vip", [p for p in people if p is not VICTIM])
    requests_before = len(receiver.requests)
    results = project.run(now=NOW + dt.timedelta(hours=1))

    forget_runs = {r.sync_key: r for r in results if r.mode == "forget"}
    assert sorted(forget_runs) == ["vip__crm", "vip__esp", "vip__files", "vip__profiles"]
    for run in forget_runs.values():
        assert (run.status, run.rows_removed, run.rows_failed) == ("success", 1, 0), run
    syncs = [r for r in results if r.mode != "forget"]
    assert all(r.rows_sent == 0 and r.status == "success" for r in syncs), syncs

    # Redis: the victim's key is gone, the others stay.
    assert not redis_client.exists(victim_key)
    assert redis_client.exists(redis_prefix + "c00001")
    # PostgreSQL (an insert-mode sync): the row is gone.
    with psycopg.connect(crm) as connection:
        keys = [row[0] for row in connection.execute(
            "select customer_id from crm.audience_members order by 1").fetchall()]
    assert keys == ["c00001", "c00003", "c00004", "c00005"]
    # Webhook: one delete call flagged forget, for the victim only.
    new_requests = [request["body"] for request in receiver.requests[requests_before:]]
    assert len(new_requests) == 1
    (body,) = new_requests
    assert (body["operation"], body["forget"], body["sync"]) == ("delete", True, "vip__esp")
    assert [record["record_key"] for record in body["records"]] == [VICTIM["customer_id"]]
    assert VICTIM["customer_id"] not in receiver.store
    # File export: a forget part with the key only; no earlier part holds the victim any
    # more; the manifests still describe the files.
    folder = tmp_path / "exports" / "vip__files"
    ordinary, forgotten = export_rows(folder)
    assert {row["_record_key"] for row in ordinary} == {"c00001", "c00003", "c00004", "c00005"}
    assert all(VICTIM["email"] not in json.dumps(row, default=str) for row in ordinary)
    assert forgotten == [{"_operation": "delete", "_idempotency_key": forgotten[0]["_idempotency_key"],
                          "_record_key": VICTIM["customer_id"], "_forget": True}] * 2
    assert_manifests_match_files(folder)

    # Nothing of the person is left in any cdp_sync table, audit included.
    text = cdp_sync_text(project.wh)
    assert person_traces(text, VICTIM) == []
    assert "[forgotten]" in text   # the lapsed run's error sample, redacted
    audit = project.wh.sql(
        "select sync_key, operation, rows_sent, rows_accepted, fields_sent "
        "from cdp_sync.cdp_sync_audit where operation = 'forget' order by sync_key"
    )
    assert audit == [
        ("vip__crm", "forget", 1, 1, "customer_id"),
        ("vip__esp", "forget", 1, 1, "customer_id,email,phone"),
        ("vip__files", "forget", 1, 1, "customer_id"),
        ("vip__profiles", "forget", 1, 1, "customer_id"),
    ]
    # Each sync's state is checked once per tombstone hash (customer id and retired id).
    assert project.wh.sql("select count(*) from cdp_sync.cdp_sync_forget_checks") == [(10,)]
    # The others are untouched.
    assert sorted(project.wh.state("vip__esp")) == ["c00001", "c00003", "c00004", "c00005"]
    assert sorted(project.wh.state("lapsed__esp")) == ["c00001", "c00003"]

    # Re-run: nothing to forget, nothing sent, nothing changed.
    audit_rows = project.wh.sql("select count(*) from cdp_sync.cdp_sync_audit")
    again = project.run(now=NOW + dt.timedelta(hours=2))
    assert [r for r in again if r.mode == "forget"] == []
    assert all(r.rows_sent == 0 for r in again)
    assert len(receiver.requests) == requests_before + 1
    assert project.wh.sql("select count(*) from cdp_sync.cdp_sync_audit") == audit_rows
    assert person_traces(cdp_sync_text(project.wh), VICTIM) == []


# -- without services: a webhook and a file export on DuckDB ------------------------------


def cli_args(project: Project) -> list[str]:
    manifest = project.tmp_path / "manifest.json"
    manifest.write_text(json.dumps(project.manifest()))
    project.write()
    return ["--target", "dev", "--manifest", str(manifest),
            "--destinations", str(project.destinations_file),
            "--project-dir", str(project.tmp_path)]


def webhook_project(project: Project, url: str, env: dict[str, str]) -> list[dict[str, Any]]:
    project.destinations["esp"] = {"type": "webhook", "url": url, "pii": "allowed",
                                   "batch_size": 1, "retry_backoff_seconds": 0.01, **env}
    project.destinations["files"] = {"type": "file", "path": "exports", "formats": ["csv"],
                                     "pii": "allowed"}
    project.add_audience(
        "vip",
        {"destination": "esp", "mode": "upsert", "identifiers": ["customer_id", "email"]},
        {"destination": "files", "mode": "mirror", "identifiers": ["customer_id", "email"]},
    )
    people = customers(6)
    project.wh.audience("vip", people)
    project.run(now=NOW)
    return people


def test_forget_pass_killed_midway_resumes(
    duck_project: Project, http_server: tuple[str, Receiver], webhook_env: dict[str, str]
) -> None:
    url, receiver = http_server
    people = webhook_project(duck_project, url, webhook_env)
    victims = people[1:4]
    forget(duck_project.wh, *victims)

    # `cdp sync forget` in a process killed while the webhook holds its second delete:
    # the first is recorded, the second taken by the destination but not recorded.
    receiver.then({}, {"hold": True})
    duck_project.wh.close()   # the subprocess needs the DuckDB file to itself
    args = cli_args(duck_project)
    env = {**os.environ, "CDP_DUCKDB_PATH": str(duck_project.wh.resource.duckdb_file()),
           "PYTHONPATH": str(PROJECT_ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "orchestration.syncs.cli", "forget", *args],
        env=env, cwd=duck_project.tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        assert receiver.holding.wait(timeout=60), process.communicate(timeout=5)[0]
        process.kill()
        process.wait(timeout=10)
    finally:
        receiver.release.set()
    assert sorted(duck_project.wh.state("vip__esp")) == ["c00001", "c00003", "c00004",
                                                         "c00005", "c00006"]
    assert duck_project.wh.sql(
        "select status from cdp_sync.cdp_sync_runs where mode = 'forget'"
    ) == [("running",)]
    assert {v["customer_id"] for v in victims} & set(receiver.store) == {"c00004"}

    resumed = CliRunner().invoke(sync, ["forget", *args],
                                 env={"CDP_DUCKDB_PATH": env["CDP_DUCKDB_PATH"]})
    assert resumed.exit_code == 0, resumed.output
    assert "vip__esp forget success: 2 forgotten people deleted at esp" in resumed.output
    assert "vip__files forget success: 3 forgotten people deleted at files" in resumed.output
    assert receiver.duplicates == 1                 # the held delete, re-sent with its key
    assert set(receiver.store) == {"c00001", "c00005", "c00006"}
    runs = duck_project.wh.sql(
        "select status from cdp_sync.cdp_sync_runs where sync_key = 'vip__esp' "
        "and mode = 'forget' order by started_at"
    )
    assert runs == [("interrupted",), ("success",)]
    text = cdp_sync_text(duck_project.wh)
    for victim in victims:
        assert person_traces(text, victim) == []
    ordinary, _ = export_rows(duck_project.tmp_path / "exports" / "vip__files")
    assert sorted(row["_record_key"] for row in ordinary) == ["c00001", "c00005", "c00006"]

    # Safe to re-run: nothing left to do.
    again = CliRunner().invoke(sync, ["forget", *args],
                               env={"CDP_DUCKDB_PATH": env["CDP_DUCKDB_PATH"]})
    assert again.exit_code == 0, again.output
    assert "forget: nobody to forget in the sync state" in again.output
    assert len(receiver.requests) == 6 + 2 + 2   # adds, killed pass, resumed pass


def test_unavailable_destination_keeps_deletes_pending_and_nobody_is_resent(
    duck_project: Project, http_server: tuple[str, Receiver], webhook_env: dict[str, str]
) -> None:
    url, receiver = http_server
    people = webhook_project(duck_project, url, webhook_env)
    duck_project.destinations["esp"]["max_attempts"] = 2
    forget(duck_project.wh, VICTIM)
    # dbt has not rebuilt the audience yet, and the victim's row changed meanwhile.
    duck_project.wh.audience("vip", [
        {**person, "city": "Hangzhou"} if person is people[1] else person for person in people
    ])
    receiver.then({"status": 503}, {"status": 503})
    results = duck_project.run(now=NOW + dt.timedelta(hours=1))
    by_key = {(r.sync_key, r.mode): r for r in results}
    assert by_key[("vip__esp", "forget")].status == "failed"
    assert by_key[("vip__files", "forget")].status == "success"
    # Neither sync sends the victim again (nor keeps a removal tombstone); the pending
    # delete keeps only its state row.
    assert by_key[("vip__esp", "upsert")].rows_sent == 0
    assert by_key[("vip__files", "mirror")].rows_sent == 0
    traces = person_traces(cdp_sync_text(duck_project.wh), VICTIM)
    assert traces and all(line.startswith("cdp_sync_state: vip__esp|") for line in traces)

    retried = duck_project.run(now=NOW + dt.timedelta(hours=2))
    assert [(r.sync_key, r.status, r.rows_removed) for r in retried if r.mode == "forget"] == [
        ("vip__esp", "success", 1),
    ]
    assert person_traces(cdp_sync_text(duck_project.wh), VICTIM) == []
    assert VICTIM["customer_id"] not in receiver.store
    assert len(receiver.store) == len(people) - 1


def test_destination_that_cannot_delete_is_noted_not_failed(
    duck_project: Project, http_server: tuple[str, Receiver], webhook_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, receiver = http_server
    webhook_project(duck_project, url, webhook_env)
    forget(duck_project.wh, VICTIM)
    monkeypatch.setattr(WebhookDestinationResource, "supports_delete", False)
    requests_before = len(receiver.requests)
    result = CliRunner().invoke(
        sync, ["forget", *cli_args(duck_project)],
        env={"CDP_DUCKDB_PATH": str(duck_project.wh.resource.duckdb_file())},
    )
    assert result.exit_code == 0, result.output
    assert "forget_unsupported: sync vip__esp -> esp: a webhook destination cannot delete" \
        in result.output
    assert len(receiver.requests) == requests_before
    audit = duck_project.wh.sql(
        "select sync_key, operation, rows_sent, rows_failed from cdp_sync.cdp_sync_audit "
        "where operation like 'forget%' order by sync_key"
    )
    assert audit == [("vip__esp", "forget_unsupported", 0, 1), ("vip__files", "forget", 1, 0)]
    assert duck_project.wh.sql(
        "select status from cdp_sync.cdp_sync_runs where sync_key = 'vip__esp' "
        "and mode = 'forget'"
    ) == [("forget_unsupported",)]
    assert person_traces(cdp_sync_text(duck_project.wh), VICTIM) == []


def test_identifier_hash_matches_the_warehouse(wh: TestWarehouse) -> None:
    """The Python formula and the engine's SQL (DuckDB and PostgreSQL) agree."""
    from orchestration.syncs.forget import ForgetPass

    forget(wh, VICTIM)
    with wh.connection() as connection:
        condition, params = ForgetPass(connection).hash_condition("customer_id")
        rows: Sequence[tuple[Any, ...]] = connection.fetchall(
            "select customer_id from (select cast(? as varchar) as customer_id "
            f"union all select cast(? as varchar)) as ids "
            f"where {condition}",
            [VICTIM["customer_id"], "c00001", *params],
        )
    assert rows == [(VICTIM["customer_id"],)]


def test_dagster_sync_assets_forget_first_and_the_forget_asset_covers_every_sync(
    duck_project: Project, http_server: tuple[str, Receiver], webhook_env: dict[str, str]
) -> None:
    from dagster import AssetKey, materialize

    from orchestration.assets.syncs import (
        build_forget_asset,
        build_sync_assets,
        build_sync_resources,
    )

    url, receiver = http_server
    people = webhook_project(duck_project, url, webhook_env)
    manifest = duck_project.manifest()
    manifest["nodes"]["model.cdp.privacy_tombstones"] = {
        "unique_id": "model.cdp.privacy_tombstones", "resource_type": "model",
        "name": "privacy_tombstones", "schema": "privacy", "alias": "privacy_tombstones",
        "package_name": "cdp", "fqn": ["cdp", "privacy", "privacy_tombstones"],
        "original_file_path": "models/privacy/privacy_tombstones.sql", "config": {},
    }
    destinations_file = duck_project.write()
    resources = build_sync_resources(destinations_file, warehouse=duck_project.wh.resource)

    # A sync asset forgets the people of its own sync before its diff.
    forget(duck_project.wh, people[1])
    assets = build_sync_assets(manifest, destinations_file=destinations_file)
    result = materialize(assets, resources=resources, raise_on_error=True)
    metadata = {
        event.event_specific_data.materialization.asset_key.path[-1]:
            event.event_specific_data.materialization.metadata
        for event in result.get_asset_materialization_events()
    }
    assert {name: values["rows_forgotten"].value for name, values in metadata.items()} == {
        "esp": 1, "files": 1,
    }

    # The forget asset: downstream of the tombstones model, every sync at once.
    forget(duck_project.wh, people[1], people[2], request_id="req-2")
    forget_asset = build_forget_asset(manifest, destinations_file=destinations_file)
    (deps,) = forget_asset.asset_deps.values()
    assert deps == {AssetKey(["privacy_tombstones"])}
    result = materialize([forget_asset], resources=resources, raise_on_error=True)
    (event,) = result.get_asset_materialization_events()
    values = {k: v.value for k, v in event.event_specific_data.materialization.metadata.items()}
    assert (values["people_forgotten"], values["rows_deleted_at_destinations"]) == (1, 2)
    assert values["forget_runs"] == {"vip__esp": "success", "vip__files": "success"}
    assert "person3@example.com" not in json.dumps(values)
    assert set(receiver.store) == {"c00001", "c00004", "c00005", "c00006"}
    for person in people[1:3]:
        assert person_traces(cdp_sync_text(duck_project.wh), person) == []


def test_demo_receiver_forgets_the_person_it_logged(tmp_path: Path) -> None:
    import httpx

    from orchestration.syncs.demo_receiver import DemoReceiver

    log_path = tmp_path / "received.jsonl"
    receiver = DemoReceiver("127.0.0.1", 0, log_path)

    def record(key: str, person: dict[str, Any], operation: str) -> dict[str, Any]:
        return {"idempotency_key": key, "record_key": person["customer_id"],
                "operation": operation, "identifiers": {"email": person["email"]},
                "fields": {}}

    first, second = customers(2)
    with receiver.running(), httpx.Client() as client:
        url = f"http://127.0.0.1:{receiver.port}/v1/contacts"
        client.post(url, json={"sync": "vip__demo_webhook", "operation": "upsert",
                               "records": [record("k1", first, "upsert"),
                                           record("k2", second, "upsert")]})
        answer = client.post(url, json={"sync": "vip__demo_webhook", "operation": "delete",
                                        "forget": True,
                                        "records": [record("k3", second, "delete")]})
    assert answer.status_code == 200
    lines = [json.loads(line) for line in log_path.read_text().splitlines()]
    assert [(line["record_key"], line["operation"]) for line in lines] == [
        ("c00001", "upsert"), ("c00002", "delete"),
    ]
    assert second["email"] not in log_path.read_text()
    assert lines[1]["forget"] is True
