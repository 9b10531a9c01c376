"""Policies applied before sending: consent, complaints, frequency cap, campaign de-dup."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from orchestration.syncs.errors import ConfigError

from .conftest import Project, Receiver, customers

NOW = dt.datetime(2025, 6, 1, 12, 0, 0)


def webhook(url: str, env: dict[str, str]) -> dict[str, Any]:
    return {"type": "webhook", "url": url, "pii": "allowed", "batch_size": 50,
            "retry_backoff_seconds": 0.01, **env}


def test_consent_revoked_between_runs_removes_the_person(
    project: Project, http_server: tuple[str, Receiver], webhook_env: dict[str, str]
) -> None:
    url, receiver = http_server
    project.destinations["esp"] = webhook(url, webhook_env)
    project.add_audience("vip", {"destination": "esp", "mode": "mirror", "channel": "sms",
                                 "identifiers": ["customer_id", "phone"], "fields": ["city"]})
    rows = customers(4)
    project.wh.audience("vip", rows)
    # sms defaults to not contactable: c00004 has no consent row and is never sent.
    project.wh.consent([("c00001", "sms", True), ("c00002", "sms", True),
                        ("c00003", "sms", True), ("c00002", "email", False)])
    first = project.run_one("vip", now=NOW)
    assert first.rows_added == 3
    assert first.suppressed_by_reason == {"no_consent": 1}
    assert set(receiver.store) == {"c00001", "c00002", "c00003"}

    project.wh.consent([("c00001", "sms", True), ("c00002", "sms", False),
                        ("c00003", "sms", True)])
    for row in rows:
        row["city"] = "Chengdu"
    project.wh.audience("vip", rows)
    second = project.run_one("vip", now=NOW)
    assert (second.rows_changed, second.rows_removed) == (2, 1)
    assert second.suppressed_by_reason == {"no_consent": 2}
    sent = [record for request in receiver.requests[1:] for record in request["body"]["records"]]
    assert {(r["record_key"], r["operation"]) for r in sent} == {
        ("c00001", "upsert"), ("c00003", "upsert"), ("c00002", "delete"),
    }
    # The delete carries the identifiers the destination knows.
    delete = next(r for r in sent if r["operation"] == "delete")
    assert delete["identifiers"] == {"customer_id": "c00002", "phone": "+8613800000002"}
    assert set(receiver.store) == {"c00001", "c00003"}
    run = project.wh.runs("vip__esp")[-1]
    assert run["rows_suppressed"] == 2 and '"no_consent": 2' in run["suppressed_by_reason"]


def test_recent_complaint_suppresses(
    project: Project, http_server: tuple[str, Receiver], webhook_env: dict[str, str]
) -> None:
    url, receiver = http_server
    project.destinations["esp"] = webhook(url, webhook_env)
    project.policies["complaint_suppression_hours"] = 2
    project.add_audience("vip", {"destination": "esp", "mode": "upsert", "channel": "email",
                                 "identifiers": ["customer_id", "email"]})
    project.wh.audience("vip", customers(3))
    project.wh.consent([(f"c0000{n}", "email", True) for n in (1, 2, 3)])
    project.wh.events([
        {"customer_id": "c00001", "event_type": "ticket_complaint",
         "occurred_at": NOW - dt.timedelta(minutes=90)},
        {"customer_id": "c00002", "event_type": "ticket_complaint",
         "occurred_at": NOW - dt.timedelta(hours=3)},
        {"customer_id": "c00003", "event_type": "order_completed",
         "occurred_at": NOW - dt.timedelta(minutes=5)},
    ])
    result = project.run_one("vip", now=NOW)
    assert result.suppressed_by_reason == {"recent_complaint": 1}
    assert set(receiver.store) == {"c00002", "c00003"}


def test_frequency_cap_holds_across_two_syncs(
    project: Project, http_server: tuple[str, Receiver], webhook_env: dict[str, str]
) -> None:
    url, receiver = http_server
    project.destinations["esp"] = webhook(url, webhook_env)
    project.destinations["sms_gateway"] = webhook(url, webhook_env)
    project.policies["frequency_cap"] = {"max_messages": 1, "window_hours": 24,
                                         "channels": ["email", "sms"]}
    project.policies["channel_priority"] = ["sms", "email"]
    project.wh.consent([(f"c0000{n}", channel, True)
                        for n in (1, 2, 3, 4) for channel in ("sms", "email")])
    project.add_audience("newsletter", {"destination": "esp", "mode": "upsert",
                                        "channel": "email", "fields": ["city"],
                                        "identifiers": ["customer_id", "email"]})
    project.add_audience("flash_sale", {"destination": "sms_gateway", "mode": "upsert",
                                        "channel": "sms",
                                        "identifiers": ["customer_id", "phone"]})
    project.wh.audience("newsletter", customers(3))          # c1 c2 c3
    project.wh.audience("flash_sale", customers(3, start=2))  # c2 c3 c4

    results = {r.sync_key: r for r in project.run(now=NOW)}
    # sms has priority: it runs first and takes c2, c3; email then gets only c1.
    assert list(results) == ["flash_sale__sms_gateway", "newsletter__esp"]
    assert results["flash_sale__sms_gateway"].rows_added == 3
    assert results["newsletter__esp"].rows_added == 1
    assert results["newsletter__esp"].suppressed_by_reason == {"frequency_cap": 2}
    messages = project.wh.sql(
        "select customer_id, count(*) from cdp_sync.sync_events "
        "where event_type = 'message_sent' group by customer_id order by customer_id"
    )
    assert messages == [("c00001", 1), ("c00002", 1), ("c00003", 1), ("c00004", 1)]

    # Within the window, a change to everybody sends nothing more to capped people...
    project.wh.audience("newsletter", customers(3, city="Xi'an"))
    later = project.run_one("newsletter", now=NOW + dt.timedelta(hours=2))
    assert later.rows_changed == 0 and later.suppressed_by_reason == {"frequency_cap": 3}
    # ...and once the window has passed, the held changes and adds go out.
    after = project.run_one("newsletter", now=NOW + dt.timedelta(hours=30))
    assert (after.rows_added, after.rows_changed) == (2, 1)
    assert len(receiver.store) == 4


def test_campaign_audiences_are_deduplicated(
    project: Project, http_server: tuple[str, Receiver], webhook_env: dict[str, str]
) -> None:
    url, _ = http_server
    project.destinations["esp"] = webhook(url, webhook_env)
    sync = {"destination": "esp", "mode": "mirror", "identifiers": ["customer_id", "email"]}
    project.add_audience("winback_high_value", sync, campaign="winback", priority=1)
    project.add_audience("winback_all", sync, campaign="winback", priority=2)
    project.add_audience("unrelated", sync)
    project.wh.audience("winback_high_value", customers(2))   # c1 c2
    project.wh.audience("winback_all", customers(4))          # c1..c4
    project.wh.audience("unrelated", customers(4))
    results = {r.audience: r for r in project.run(now=NOW)}
    assert results["winback_high_value"].rows_added == 2
    assert results["winback_all"].rows_added == 2
    assert results["winback_all"].suppressed_by_reason == {"campaign_duplicate": 2}
    assert results["unrelated"].rows_added == 4
    assert set(project.wh.state("winback_all__esp")) == {"c00003", "c00004"}


def test_rows_without_any_address_are_suppressed(
    project: Project, http_server: tuple[str, Receiver], webhook_env: dict[str, str]
) -> None:
    url, _ = http_server
    project.destinations["esp"] = webhook(url, webhook_env)
    project.add_audience("vip", {"destination": "esp", "identifiers": ["customer_id", "email"]})
    rows = customers(3)
    rows[0]["email"] = None
    project.wh.audience("vip", rows)
    result = project.run_one("vip", now=NOW)
    assert result.rows_added == 2 and result.suppressed_by_reason == {"missing_identifier": 1}


def test_consent_defaults_come_only_from_customer_consent(
    project: Project, http_server: tuple[str, Receiver], webhook_env: dict[str, str]
) -> None:
    """dbt var consent_defaults is the single source: customer_consent holds a row per
    customer and channel (status `default` without an event), the engine adds no default
    of its own, and a channel the dbt vars do not cover fails instead of suppressing all."""
    url, receiver = http_server
    project.destinations["esp"] = webhook(url, webhook_env)
    project.add_audience("vip", {"destination": "esp", "mode": "upsert", "channel": "email",
                                 "identifiers": ["customer_id", "email"]})
    project.add_audience("push", {"destination": "esp", "mode": "upsert", "channel": "push",
                                  "identifiers": ["customer_id", "email"]})
    project.wh.audience("vip", customers(3))
    project.wh.audience("push", customers(3))
    # c00003 has no email row (not a customer of customer_consent): never contacted.
    project.wh.consent([("c00001", "email", True), ("c00002", "email", False)])
    result = project.run_one("vip", now=NOW)
    assert result.suppressed_by_reason == {"no_consent": 2}
    assert set(receiver.store) == {"c00001"}

    with pytest.raises(ConfigError) as caught:
        project.run_one("push", now=NOW)
    message = str(caught.value)
    assert message.startswith("dbt_project.yml: vars.consent_defaults:")
    assert "'push'" in message and "'marketing'" in message
    assert "policies.consent_purpose" in message

    project.policies["default_consent"] = {"email": True}
    with pytest.raises(ConfigError, match=r"policies\.default_consent: consent defaults are "
                                          r"declared once, in dbt var consent_defaults"):
        project.run_one("vip", now=NOW)
