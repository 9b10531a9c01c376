"""Webhook delivery against a real local HTTP server: retries, 429, partial acceptance."""

from __future__ import annotations

import time
from typing import Any

import pytest

from .conftest import Project, Receiver, customers


def use_webhook(project: Project, url: str, env: dict[str, str], **settings: Any) -> None:
    project.destinations["esp"] = {
        "type": "webhook", "url": url, "pii": "allowed", "batch_size": 10,
        "retry_backoff_seconds": 0.01, "timeout_seconds": 2, **env, **settings,
    }
    project.add_audience("vip", {"destination": "esp", "mode": "mirror",
                                 "identifiers": ["customer_id", "email"],
                                 "fields": ["first_name", "city"]})


def assert_delivered_once(receiver: Receiver, expected_keys: set[str]) -> None:
    assert set(receiver.store) == expected_keys
    per_record = receiver.applied_keys_per_record()
    assert max(per_record.values()) == 1, per_record


def test_500_then_200_loses_and_duplicates_nothing(
    duck_project: Project, http_server: tuple[str, Receiver], webhook_env: dict[str, str]
) -> None:
    url, receiver = http_server
    use_webhook(duck_project, url, webhook_env)
    rows = customers(25)
    duck_project.wh.audience("vip", rows)
    # Batch 1: plain 500 then OK. Batch 2: applied *and* answered 500 (the nasty case),
    # then OK on the retry, which the receiver drops as duplicates.
    receiver.then({"status": 500}, {}, {"status": 503, "apply": True}, {})
    result = duck_project.run_one("vip")
    assert result.status == "success"
    assert result.rows_added == 25 and result.rows_failed == 0
    assert len(receiver.requests) == 5  # 3 batches + 2 retries
    assert receiver.duplicates == 10
    assert_delivered_once(receiver, {row["customer_id"] for row in rows})
    assert len(duck_project.wh.state("vip__esp")) == 25
    assert all(request["signature_ok"] for request in receiver.requests)
    assert receiver.requests[0]["headers"]["Authorization"] == "Bearer test-token"


def test_429_retry_after_is_respected(
    duck_project: Project, http_server: tuple[str, Receiver], webhook_env: dict[str, str]
) -> None:
    url, receiver = http_server
    use_webhook(duck_project, url, webhook_env)
    duck_project.wh.audience("vip", customers(5))
    receiver.then({"status": 429, "headers": {"Retry-After": "1"}})
    result = duck_project.run_one("vip")
    assert result.status == "success" and result.rows_added == 5
    first, second = receiver.requests
    waited = second["at"] - first["at"]
    assert 1.0 <= waited < 2.0, waited


def test_timeout_is_retried(
    duck_project: Project, http_server: tuple[str, Receiver], webhook_env: dict[str, str]
) -> None:
    url, receiver = http_server
    use_webhook(duck_project, url, webhook_env, timeout_seconds=0.3)
    rows = customers(5)
    duck_project.wh.audience("vip", rows)
    receiver.then({"delay": 1.0, "apply": False})
    result = duck_project.run_one("vip")
    assert result.status == "success" and result.rows_added == 5
    assert len(receiver.requests) == 2
    assert_delivered_once(receiver, {row["customer_id"] for row in rows})


def test_unavailable_destination_marks_nothing_synced(
    duck_project: Project, http_server: tuple[str, Receiver], webhook_env: dict[str, str]
) -> None:
    url, receiver = http_server
    use_webhook(duck_project, url, webhook_env, max_attempts=3)
    rows = customers(15)
    duck_project.wh.audience("vip", rows)
    receiver.then({"status": 500}, {"status": 500}, {"status": 502})
    failed = duck_project.run_one("vip")
    assert failed.status == "failed"
    assert failed.rows_failed == 10 and failed.rows_added == 0
    assert "gave up after 3 attempts" in (failed.error_sample or "")
    assert duck_project.wh.state("vip__esp") == {}
    run = duck_project.wh.runs("vip__esp")[-1]
    assert run["status"] == "failed" and run["rows_failed"] == 10
    # Transport failures are not held against the rows: nothing goes to failures.
    assert duck_project.wh.sql("select count(*) from cdp_sync.cdp_sync_row_failures") == [(0,)]

    recovered = duck_project.run_one("vip")
    assert recovered.status == "success" and recovered.rows_added == 15
    assert_delivered_once(receiver, {row["customer_id"] for row in rows})


def test_malformed_json_answer_is_retried(
    duck_project: Project, http_server: tuple[str, Receiver], webhook_env: dict[str, str]
) -> None:
    url, receiver = http_server
    use_webhook(duck_project, url, webhook_env)
    rows = customers(5)
    duck_project.wh.audience("vip", rows)
    receiver.then({"body": "{not json"})
    result = duck_project.run_one("vip")
    assert result.status == "success" and result.rows_added == 5
    assert len(receiver.requests) == 2 and receiver.duplicates == 5
    assert_delivered_once(receiver, {row["customer_id"] for row in rows})


def test_partial_acceptance_records_only_accepted_rows(
    project: Project, http_server: tuple[str, Receiver], webhook_env: dict[str, str]
) -> None:
    url, receiver = http_server
    use_webhook(project, url, webhook_env)
    project.policies["dead_letter_after_failures"] = 2
    rows = customers(6)
    rows[1]["email"] = "broken-address"
    rows[4]["email"] = "also-broken"
    project.wh.audience("vip", rows)
    receiver.reject = lambda record: (
        None if "@" in record["identifiers"]["email"] else "invalid email address"
    )

    first = project.run_one("vip")
    assert first.status == "partial"
    assert (first.rows_added, first.rows_failed, first.rows_dead_lettered) == (4, 2, 0)
    assert set(project.wh.state("vip__esp")) == {"c00001", "c00003", "c00004", "c00006"}
    failures = project.wh.sql(
        "select record_key, attempts, last_error from cdp_sync.cdp_sync_row_failures "
        "order by record_key"
    )
    assert failures == [("c00002", 1, "invalid email address"),
                        ("c00005", 1, "invalid email address")]

    # Run 2 retries only the two failed rows; the second failure dead-letters them.
    second = project.run_one("vip")
    assert (second.rows_added, second.rows_failed, second.rows_dead_lettered) == (0, 2, 2)
    assert [len(r["body"]["records"]) for r in receiver.requests] == [6, 2]
    dead = project.wh.sql(
        "select record_key, status, attempts from cdp_sync.cdp_sync_dead_letter "
        "order by record_key"
    )
    assert dead == [("c00002", "open", 2), ("c00005", "open", 2)]

    # Run 3 holds dead letters back instead of hammering the destination.
    third = project.run_one("vip")
    assert third.batches_sent == 0 and third.rows_held_in_dead_letter == 2

    # The destination is fixed; replay re-sends the dead letters and resolves them.
    receiver.reject = lambda record: None
    replayed = project.run(replay=True)
    assert [(r.sync_key, r.rows_added) for r in replayed] == [("vip__esp", 2)]
    assert project.wh.sql(
        "select status, count(*) from cdp_sync.cdp_sync_dead_letter group by status"
    ) == [("replayed", 2)]
    assert len(project.wh.state("vip__esp")) == 6
    assert project.wh.sql("select count(*) from cdp_sync.cdp_sync_row_failures") == [(0,)]
    failed_events = project.wh.sql(
        "select count(*) from cdp_sync.sync_events where event_type = 'sync_failed'"
    )
    assert failed_events == [(4,)]


def test_rejected_request_with_row_errors_resends_the_good_rows(
    duck_project: Project, http_server: tuple[str, Receiver], webhook_env: dict[str, str]
) -> None:
    url, receiver = http_server
    use_webhook(duck_project, url, webhook_env)
    duck_project.wh.audience("vip", customers(4))
    receiver.reject = lambda record: (
        "phone number not allowed" if record["record_key"] == "c00002" else None
    )
    # The whole request is refused with 422 listing one row's error (nothing applied): that
    # row fails and the other rows are posted again without it.
    receiver.then({"status": 422, "validate_only": True})
    result = duck_project.run_one("vip")
    assert (result.rows_added, result.rows_failed) == (3, 1)
    assert set(receiver.store) == {"c00001", "c00003", "c00004"}
    assert len(receiver.requests) == 2
    assert len(receiver.requests[1]["body"]["records"]) == 3


def test_client_side_rate_limit(
    duck_project: Project, http_server: tuple[str, Receiver], webhook_env: dict[str, str]
) -> None:
    url, receiver = http_server
    use_webhook(duck_project, url, webhook_env, batch_size=2, rate_limit_per_second=20)
    duck_project.wh.audience("vip", customers(20))
    started = time.monotonic()
    result = duck_project.run_one("vip")
    assert result.rows_added == 20 and len(receiver.requests) == 10
    span = receiver.requests[-1]["at"] - receiver.requests[0]["at"]
    assert span >= 9 / 20 - 0.02, span
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("status", [401])
def test_auth_failure_stops_the_run(
    duck_project: Project, http_server: tuple[str, Receiver], webhook_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch, status: int,
) -> None:
    url, receiver = http_server
    use_webhook(duck_project, url, webhook_env)
    monkeypatch.setenv("CDP_TEST_WEBHOOK_TOKEN", "wrong-token")
    duck_project.wh.audience("vip", customers(25))
    result = duck_project.run_one("vip")
    assert result.status == "failed" and f"HTTP {status}" in (result.error_sample or "")
    assert len(receiver.requests) == 1  # no retry, no further batches
    assert duck_project.wh.state("vip__esp") == {}


def test_member_taken_unconfirmed_then_gone_is_removed(
    duck_project: Project, http_server: tuple[str, Receiver], webhook_env: dict[str, str]
) -> None:
    url, receiver = http_server
    use_webhook(duck_project, url, webhook_env, max_attempts=2)
    rows = customers(20)
    duck_project.wh.audience("vip", rows)
    # Batch 2 is applied by the destination, which then fails until the retries run out:
    # the run fails with those rows in doubt (in flight), not synced.
    receiver.then({}, {"status": 503, "apply": True}, {"status": 500})
    assert duck_project.run_one("vip").status == "failed"
    assert len(duck_project.wh.state("vip__esp")) == 10 and len(receiver.store) == 20
    assert duck_project.wh.sql("select count(*) from cdp_sync.cdp_sync_in_flight") == [(10,)]

    # Two of them leave before the next run: the mirror must delete them all the same.
    kept = [row for row in rows if row["customer_id"] not in ("c00015", "c00016")]
    duck_project.wh.audience("vip", kept)
    result = duck_project.run_one("vip")
    assert result.status == "success" and result.rows_removed == 2
    assert_delivered_once(receiver, {row["customer_id"] for row in kept})
    assert set(duck_project.wh.state("vip__esp")) == {row["customer_id"] for row in kept}
    assert duck_project.wh.sql("select count(*) from cdp_sync.cdp_sync_in_flight") == [(0,)]


def test_member_deleted_unconfirmed_then_back_is_sent_again(
    duck_project: Project, http_server: tuple[str, Receiver], webhook_env: dict[str, str]
) -> None:
    url, receiver = http_server
    use_webhook(duck_project, url, webhook_env, max_attempts=2)
    rows = customers(5)
    duck_project.wh.audience("vip", rows)
    assert duck_project.run_one("vip").rows_added == 5

    # c00003 leaves; the destination applies the delete, then fails until retries run out.
    duck_project.wh.audience("vip", [row for row in rows if row["customer_id"] != "c00003"])
    receiver.then({"status": 503, "apply": True}, {"status": 500})
    assert duck_project.run_one("vip").status == "failed"
    assert "c00003" not in receiver.store and "c00003" in duck_project.wh.state("vip__esp")

    # c00003 is back, unchanged: state says the destination has it, but it may not.
    duck_project.wh.audience("vip", rows)
    result = duck_project.run_one("vip")
    assert result.status == "success" and result.rows_changed == 1
    assert set(receiver.store) == {row["customer_id"] for row in rows}
