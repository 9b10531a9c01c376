"""Configuration errors fail before anything is sent and name the file and key."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from orchestration.syncs.config import load_destinations_file, parse_audience_syncs
from orchestration.syncs.errors import ConfigError, PiiPolicyError
from orchestration.syncs.runner import run_syncs

from .conftest import Project, Receiver, customers, manifest_for, write_destinations


def test_example_destinations_file_is_valid() -> None:
    example = Path(__file__).resolve().parents[3] / "destinations.yml"
    policies, destinations = load_destinations_file(example)
    assert {d.destination_type for d in destinations.values()} == {
        "file", "webhook", "ads", "postgres", "redis",
    }
    assert policies.consent_purpose == "marketing"
    assert not hasattr(policies, "default_consent"), "consent defaults live in dbt vars"


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
        ({"type": "webhook", "url": "http://127.0.0.1:9", "max_concurrent_batches": 0},
         "max_concurrent_batches"),
        ({"type": "redis", "max_concurrent_batches": 4}, "max_concurrent_batches"),
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


def test_audience_missing_an_identifier_column_names_model_and_key(
    duck_project: Project, http_server: tuple[str, Receiver], webhook_env: dict[str, str]
) -> None:
    url, receiver = http_server
    duck_project.destinations["esp"] = {"type": "webhook", "url": url, "pii": "allowed",
                                        **webhook_env}
    duck_project.add_audience("vip", {"destination": "esp",
                                      "identifiers": ["customer_id", "wechat_openid"]})
    duck_project.wh.audience("vip", customers(2))
    with pytest.raises(ConfigError) as caught:
        duck_project.run()
    assert str(caught.value).startswith(
        "models/audiences/aud_vip.sql: meta.cdp_audience.syncs[0].identifiers: "
        "column 'wechat_openid' is not in audiences.aud_vip"
    )
    assert receiver.requests == []


def test_cli_reports_a_config_error_with_file_and_key(duck_project: Project,
                                                      tmp_path: Path) -> None:
    from click.testing import CliRunner

    from orchestration.syncs.cli import sync

    duck_project.destinations["crm"] = {"type": "salesforce", "pii": "allowed"}
    duck_project.add_audience("vip", {"destination": "crm"})
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps(duck_project.manifest()))
    duck_project.write()
    result = CliRunner().invoke(sync, [
        "run", "--all", "--target", "dev", "--manifest", str(manifest),
        "--destinations", str(duck_project.destinations_file), "--project-dir", str(tmp_path),
    ], env={"CDP_DUCKDB_PATH": str(duck_project.wh.resource.duckdb_file())})
    assert result.exit_code == 1
    assert (f"{duck_project.destinations_file}: destinations.crm.type: unknown destination "
            "type 'salesforce'") in result.output


@pytest.mark.parametrize("fault", ["missing_secret", "missing_column", "raw_pii"])
def test_every_selected_sync_is_checked_before_any_row_is_sent(
    duck_project: Project, http_server: tuple[str, Receiver], webhook_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch, fault: str,
) -> None:
    """A fault in the last sync to run stops the first one from sending too."""
    url, receiver = http_server
    monkeypatch.delenv("CDP_TEST_MISSING_TOKEN", raising=False)
    duck_project.destinations["esp"] = {"type": "webhook", "url": url, "pii": "allowed",
                                        **webhook_env}
    duck_project.destinations["partner"] = {
        "type": "webhook", "url": url, "pii": "forbidden", **webhook_env,
        **({"auth_token_env": "CDP_TEST_MISSING_TOKEN"} if fault == "missing_secret" else {}),
    }
    duck_project.add_audience("alpha", {"destination": "esp",
                                        "identifiers": ["customer_id", "email"]})
    fields = {"missing_column": ["rfm_segment"], "raw_pii": ["phone"]}.get(fault, ["city"])
    duck_project.add_audience("beta", {"destination": "partner", "fields": fields})
    duck_project.wh.audience("alpha", customers(3))
    duck_project.wh.audience("beta", customers(3))
    with pytest.raises(ConfigError) as caught:
        duck_project.run()
    assert str(caught.value).startswith({
        "missing_secret": f"{duck_project.destinations_file}: "
                          "destinations.partner.auth_token_env: environment variable",
        "missing_column": "models/audiences/aud_beta.sql: meta.cdp_audience.syncs[0].fields: "
                          "column 'rfm_segment' is not in audiences.aud_beta",
        "raw_pii": "models/audiences/aud_beta.sql: meta.cdp_audience.syncs[0].fields: "
                   "['phone'] are raw PII",
    }[fault])
    assert receiver.requests == []
    assert duck_project.wh.sql(
        "select count(*) from information_schema.tables where table_schema = 'cdp_sync'"
    ) == [(0,)]


@pytest.mark.parametrize("pii", [None, "forbidden"])
@pytest.mark.parametrize(
    ("identifiers", "fields", "key", "raw"),
    [
        (["customer_id"], ["city", "first_name"], "fields", "['first_name']"),
        (["customer_id", "email", "phone"], ["city"], "identifiers", "['email', 'phone']"),
        (["customer_id"], ["loyalty_nickname"], "fields", "['loyalty_nickname']"),
    ],
)
def test_raw_pii_needs_pii_allowed_and_fails_before_sending(
    duck_project: Project, http_server: tuple[str, Receiver], webhook_env: dict[str, str],
    pii: str | None, identifiers: list[str], fields: list[str], key: str, raw: str,
) -> None:
    """Unset `pii` means forbidden. Raw PII columns (policy pii_columns or meta.pii tags)
    to such a destination stop the run before a request, a run or an audit row."""
    url, receiver = http_server
    duck_project.destinations["partner"] = {"type": "webhook", "url": url, **webhook_env,
                                            **({"pii": pii} if pii else {})}
    duck_project.add_audience("vip", {"destination": "partner", "identifiers": identifiers,
                                      "fields": fields})
    manifest = duck_project.manifest()
    manifest["nodes"]["model.cdp.aud_vip"]["columns"] = {
        "loyalty_nickname": {"name": "loyalty_nickname", "meta": {"pii": True}},
    }
    duck_project.write()
    duck_project.wh.audience("vip", [{**row, "loyalty_nickname": "Lulu"} for row in customers(3)],
                             columns={"customer_id": "varchar", "email": "varchar",
                                      "phone": "varchar", "first_name": "varchar",
                                      "city": "varchar", "loyalty_nickname": "varchar"})
    with pytest.raises(PiiPolicyError) as caught:
        run_syncs(manifest=manifest, destinations_file=duck_project.destinations_file,
                  warehouse=duck_project.wh.resource, project_dir=duck_project.tmp_path)
    message = str(caught.value)
    assert message.startswith(f"models/audiences/aud_vip.sql: meta.cdp_audience.syncs[0].{key}:")
    assert raw in message and "destinations.partner.pii" in message
    assert ("is declared pii: forbidden" if pii else "unset means forbidden") in message
    assert receiver.requests == []
    assert duck_project.wh.sql(
        "select count(*) from information_schema.tables where table_schema = 'cdp_sync'"
    ) == [(0,)]

    # Allowing PII lets the same sync through, and the audit names what left.
    duck_project.destinations["partner"]["pii"] = "allowed"
    duck_project.write()
    (result,) = run_syncs(manifest=manifest, destinations_file=duck_project.destinations_file,
                          warehouse=duck_project.wh.resource, project_dir=duck_project.tmp_path)
    assert result.rows_added == 3
    assert duck_project.wh.sql("select fields_sent from cdp_sync.cdp_sync_audit") == [
        (",".join(dict.fromkeys([*identifiers, *fields])),)
    ]
