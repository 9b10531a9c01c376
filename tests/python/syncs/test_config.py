"""Configuration errors fail before anything is sent and name the file and key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from orchestration.syncs.config import load_destinations_file, parse_audience_syncs
from orchestration.syncs.errors import ConfigError, PiiPolicyError

from .conftest import Project, Receiver, customers, manifest_for, write_destinations


def test_example_destinations_file_is_valid() -> None:
    example = Path(__file__).resolve().parents[3] / "destinations.yml"
    policies, destinations = load_destinations_file(example)
    assert {d.destination_type for d in destinations.values()} == {
        "file", "webhook", "ads", "postgres", "redis",
    }
    assert policies.consent_purpose == "marketing"
    assert policies.default_consent["email"] is True
    assert policies.default_consent["sms"] is False


def test_raw_pii_to_a_forbidden_destination_fails_before_sending(
    duck_project: Project, http_server: tuple[str, Receiver], webhook_env: dict[str, str]
) -> None:
    url, receiver = http_server
    duck_project.destinations["partner"] = {
        "type": "webhook", "url": url, "pii": "forbidden", **webhook_env,
    }
    duck_project.add_audience("vip", {"destination": "partner",
                                      "identifiers": ["customer_id"],
                                      "fields": ["city", "email"]})
    duck_project.wh.audience("vip", customers(3))
    with pytest.raises(PiiPolicyError) as caught:
        duck_project.run()
    message = str(caught.value)
    assert message.startswith("models/audiences/aud_vip.sql: meta.cdp_audience.syncs[0].fields:")
    assert "['email']" in message
    assert "destinations.partner.pii" in message and "destinations.yml" in message
    assert receiver.requests == []


def test_columns_tagged_pii_in_the_manifest_count_as_pii(tmp_path: Path) -> None:
    manifest = manifest_for({"vip": {"syncs": [{"destination": "partner",
                                               "fields": ["loyalty_nickname"]}]}})
    node = manifest["nodes"]["model.cdp.aud_vip"]
    node["columns"] = {"loyalty_nickname": {"name": "loyalty_nickname", "meta": {"pii": True}}}
    (sync,) = parse_audience_syncs(manifest)
    assert "loyalty_nickname" in sync.pii_columns


def test_ads_destination_may_take_email_because_it_only_sends_hashes(
    duck_project: Project, http_server: tuple[str, Receiver]
) -> None:
    url, _ = http_server
    duck_project.destinations["ads"] = {"type": "ads", "url": url, "list_id": "l1",
                                        "pii": "forbidden"}
    duck_project.add_audience("vip", {"destination": "ads", "channel": None,
                                      "identifiers": ["email", "phone"],
                                      "fields": ["city"]})
    duck_project.wh.audience("vip", customers(2))
    with pytest.raises(ConfigError, match=re.escape(
        "models/audiences/aud_vip.sql: meta.cdp_audience.syncs[0].fields: a ads destination"
    )):
        duck_project.run()


def test_missing_secret_env_var_names_destination_and_key(
    duck_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CDP_TEST_MISSING_TOKEN", raising=False)
    duck_project.destinations["esp"] = {"type": "webhook", "url": "http://127.0.0.1:9/",
                                        "pii": "allowed",
                                        "auth_token_env": "CDP_TEST_MISSING_TOKEN"}
    duck_project.add_audience("vip", {"destination": "esp"})
    duck_project.wh.audience("vip", customers(1))
    with pytest.raises(ConfigError) as caught:
        duck_project.run()
    assert str(caught.value).endswith(
        "destinations.yml: destinations.esp.auth_token_env: environment variable "
        "CDP_TEST_MISSING_TOKEN is not set (destination 'esp' reads its secret from it)"
    )


def test_unknown_destination_type_names_file_and_key(tmp_path: Path) -> None:
    path = write_destinations(tmp_path / "destinations.yml",
                              {"crm": {"type": "salesforce", "pii": "allowed"}})
    with pytest.raises(ConfigError) as caught:
        load_destinations_file(path)
    assert str(caught.value).startswith(f"{path}: destinations.crm.type: unknown destination")


@pytest.mark.parametrize(
    ("settings", "key"),
    [
        ({"type": "webhook", "url": "http://127.0.0.1:9", "batch_size": 0}, "batch_size"),
        ({"type": "webhook", "url": "http://127.0.0.1:9", "pii": "maybe"}, "pii"),
        ({"type": "file", "path": "out", "compression": "zstd"}, "compression"),
        ({"type": "ads", "url": "http://127.0.0.1:9"}, "list_id"),
    ],
)
def test_bad_destination_settings_name_the_key(tmp_path: Path, settings: dict, key: str) -> None:
    path = write_destinations(tmp_path / "destinations.yml", {"dest": settings})
    with pytest.raises(ConfigError, match=re.escape(f"destinations.dest.{key}:")):
        load_destinations_file(path)


def test_bad_policy_names_the_key(tmp_path: Path) -> None:
    path = write_destinations(tmp_path / "destinations.yml", {},
                              {"frequency_cap": {"max_messages": 0}})
    with pytest.raises(ConfigError, match=re.escape("policies.frequency_cap.max_messages:")):
        load_destinations_file(path)


def test_audience_missing_a_declared_column_names_model_and_key(
    duck_project: Project, http_server: tuple[str, Receiver], webhook_env: dict[str, str]
) -> None:
    url, receiver = http_server
    duck_project.destinations["esp"] = {"type": "webhook", "url": url, "pii": "allowed",
                                        **webhook_env}
    duck_project.add_audience("vip", {"destination": "esp",
                                      "identifiers": ["customer_id", "email"],
                                      "fields": ["city", "rfm_segment"]})
    duck_project.wh.audience("vip", customers(2))
    with pytest.raises(ConfigError) as caught:
        duck_project.run()
    assert str(caught.value).startswith(
        "models/audiences/aud_vip.sql: meta.cdp_audience.syncs[0].fields: "
        "column 'rfm_segment' is not in audiences.aud_vip"
    )
    assert receiver.requests == []


@pytest.mark.parametrize(
    ("sync", "key"),
    [
        ({"destination": "esp", "mode": "replace"}, "syncs[0].mode"),
        ({"destination": "esp", "channel": "fax"}, "syncs[0].channel"),
        ({"destination": "esp", "identifiers": "email"}, "syncs[0].identifiers"),
        ({"destination": "esp", "filter": "x"}, "syncs[0].filter"),
        ({"mode": "upsert"}, "syncs[0].destination"),
    ],
)
def test_bad_audience_meta_names_model_file_and_key(sync: dict, key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_audience_syncs(manifest_for({"vip": {"syncs": [sync]}}))
    assert str(caught.value).startswith(
        f"models/audiences/aud_vip.sql: meta.cdp_audience.{key}:"
    )


def test_sync_to_undeclared_destination_names_model_and_key(duck_project: Project) -> None:
    duck_project.add_audience("vip", {"destination": "nowhere"})
    duck_project.wh.audience("vip", customers(1))
    with pytest.raises(ConfigError, match=re.escape(
        "models/audiences/aud_vip.sql: meta.cdp_audience.syncs[0].destination: "
        "destination 'nowhere' is not declared in destinations.yml"
    )):
        duck_project.run()
