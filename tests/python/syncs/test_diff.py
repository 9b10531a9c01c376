"""Diff correctness: adds, changes and removes over several runs, in each mode."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Project, Receiver, customers

EXPECTED = {
    # mode: (run 2 added, changed, removed), (run 3 added, changed, removed)
    "upsert": ((1, 2, 0), (0, 0, 0)),
    "mirror": ((1, 2, 0), (0, 0, 2)),
    "insert": ((1, 0, 0), (0, 0, 0)),
}


def webhook(url: str, env: dict[str, str], **settings: Any) -> dict[str, Any]:
    return {"type": "webhook", "url": url, "pii": "allowed", "batch_size": 2,
            "retry_backoff_seconds": 0.01, **env, **settings}


def counts(result: Any) -> tuple[int, int, int]:
    return result.rows_added, result.rows_changed, result.rows_removed


@pytest.mark.parametrize("mode", ["upsert", "mirror", "insert"])
def test_add_change_remove_over_runs(
    project: Project, http_server: tuple[str, Receiver], webhook_env: dict[str, str], mode: str
) -> None:
    url, receiver = http_server
    project.destinations["esp"] = webhook(url, webhook_env)
    project.add_audience("vip", {"destination": "esp", "mode": mode,
                                 "identifiers": ["customer_id", "email"],
                                 "fields": ["first_name", "city"]})
    rows = customers(5)
    project.wh.audience("vip", rows)

    first = project.run_one("vip")
    assert first.status == "success"
    assert counts(first) == (5, 0, 0)
    assert set(project.wh.state("vip__esp")) == {row["customer_id"] for row in rows}

    # Run 2: two people move city, one joins.
    rows[2]["city"] = "Beijing"
    rows[3]["first_name"] = "Renamed"
    rows.append(customers(1, start=6)[0])
    project.wh.audience("vip", rows)
    second = project.run_one("vip")
    assert counts(second) == EXPECTED[mode][0]

    # Run 3: two people leave the audience.
    kept = rows[2:]
    project.wh.audience("vip", kept)
    third = project.run_one("vip")
    assert counts(third) == EXPECTED[mode][1]

    # Run 4: nothing changed, nothing sent.
    fourth = project.run_one("vip")
    assert counts(fourth) == (0, 0, 0)
    assert fourth.batches_sent == 0

    state = project.wh.state("vip__esp")
    if mode == "mirror":
        assert set(state) == {row["customer_id"] for row in kept}
        assert set(receiver.store) == {row["customer_id"] for row in kept}
    else:
        assert set(state) == {row["customer_id"] for row in rows}
        assert set(receiver.store) == {row["customer_id"] for row in rows}
    if mode == "insert":
        # Each customer delivered exactly once, never updated.
        assert all(record["operation"] == "insert" for record in receiver.applied.values())
        assert receiver.store["c00003"]["fields"]["city"] == "Shanghai"
    else:
        assert receiver.store["c00003"]["fields"]["city"] == "Beijing"
    assert receiver.duplicates == 0
    assert max(receiver.deliveries.values()) == 1
    runs = project.wh.runs("vip__esp")
    assert [run["status"] for run in runs] == ["success"] * 4
    assert [run["rows_added"] for run in runs] == [5, 1, 0, 0]


def test_member_who_leaves_and_returns_gets_fresh_keys(
    project: Project, http_server: tuple[str, Receiver], webhook_env: dict[str, str]
) -> None:
    url, receiver = http_server
    project.destinations["esp"] = webhook(url, webhook_env)
    project.add_audience("vip", {"destination": "esp", "mode": "mirror",
                                 "identifiers": ["customer_id", "email"], "fields": ["city"]})
    rows = customers(2)
    project.wh.audience("vip", rows)
    project.run_one("vip")
    project.wh.audience("vip", rows[:1])
    assert project.run_one("vip").rows_removed == 1
    project.wh.audience("vip", rows)          # back, with exactly the same values
    back = project.run_one("vip")
    assert back.rows_added == 1
    assert receiver.duplicates == 0          # not mistaken for a re-sent earlier add
    assert set(receiver.store) == {"c00001", "c00002"}
    assert len(set(receiver.deliveries)) == 4


def test_dry_run_reports_diff_without_sending(
    project: Project, http_server: tuple[str, Receiver], webhook_env: dict[str, str]
) -> None:
    url, receiver = http_server
    project.destinations["esp"] = webhook(url, webhook_env)
    project.add_audience("vip", {"destination": "esp", "mode": "mirror",
                                 "identifiers": ["customer_id", "email"], "fields": ["city"]})
    project.wh.audience("vip", customers(3))
    planned = project.run_one("vip", dry_run=True)
    assert planned.status == "dry_run"
    assert planned.planned == {"add": 3, "change": 0, "remove": 0}
    assert [row["record_key"] for row in planned.sample] == ["c00001", "c00002", "c00003"]
    assert receiver.requests == []
    assert project.wh.state("vip__esp") == {}
    assert project.wh.runs("vip__esp") == []


def test_events_written_for_the_closed_loop(
    project: Project, http_server: tuple[str, Receiver], webhook_env: dict[str, str]
) -> None:
    url, _ = http_server
    project.destinations["esp"] = webhook(url, webhook_env)
    project.add_audience("vip", {"destination": "esp", "mode": "upsert", "channel": "email",
                                 "identifiers": ["customer_id", "email"], "fields": ["city"]})
    rows = customers(2)
    project.wh.audience("vip", rows)
    project.wh.consent([(row["customer_id"], "email", True) for row in rows])
    project.run_one("vip")
    rows[0]["city"] = "Hangzhou"
    project.wh.audience("vip", rows)
    project.run_one("vip")
    events = project.wh.sql(
        "select customer_id, event_type, audience, destination from cdp_sync.sync_events "
        "order by customer_id, event_type"
    )
    assert events == [
        ("c00001", "audience_entered", "vip", "esp"),
        ("c00001", "message_sent", "vip", "esp"),
        ("c00001", "message_sent", "vip", "esp"),
        ("c00002", "audience_entered", "vip", "esp"),
        ("c00002", "message_sent", "vip", "esp"),
    ]
    audit = project.wh.sql(
        "select count(*), sum(rows_accepted), min(length(payload_sha256)) "
        "from cdp_sync.cdp_sync_audit"
    )
    assert audit[0][0] == 2 and int(audit[0][1]) == 3 and audit[0][2] == 64


@pytest.mark.pg
def test_same_sync_cannot_run_twice_at_once_on_postgres(pg_project: Project) -> None:
    """DuckDB allows one writing process anyway; on PostgreSQL a session lock per sync."""
    from orchestration.syncs.errors import SyncAlreadyRunningError

    project = pg_project
    project.destinations["demo_files"] = {"type": "file", "path": "exports", "pii": "allowed"}
    project.add_audience("vip", {"destination": "demo_files"})
    project.wh.audience("vip", customers(2))
    holder = project.wh.connect()
    try:
        assert holder.try_lock("vip__demo_files")
        with pytest.raises(SyncAlreadyRunningError, match="vip__demo_files"):
            project.run_one("vip")
    finally:
        holder.close()
    assert project.run_one("vip").rows_added == 2
