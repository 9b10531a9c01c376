"""Sync configuration: destinations.yml (destinations + policies) and audience meta.

Audiences declare their syncs in the dbt manifest (``config.meta.cdp_audience`` of models
``aud_<name>``); destinations and policies live in ``destinations.yml`` at the project root
(``CDP_DESTINATIONS_FILE`` overrides the path). Loading validates everything that can be
checked without the warehouse; ``SyncProject.validate`` adds the cross-checks (destination
exists, PII policy, destination capabilities) before anything is sent.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from orchestration.resources.base import DEFAULT_PII_COLUMNS, DestinationResource
from orchestration.resources.destinations import build_destination
from orchestration.syncs.errors import ConfigError, PiiPolicyError
from orchestration.syncs.forget import DEFAULT_TOMBSTONES, tombstone_relation
from orchestration.warehouse import find_project_dir

MODES = ("upsert", "mirror", "insert")
CHANNELS = ("email", "sms", "wechat", "push", "ads")
AUDIENCE_META_KEY = "cdp_audience"
AUDIENCE_PREFIX = "aud_"
_SYNC_KEYS = {
    "destination", "mode", "channel", "identifiers", "fields", "schedule", "name",
    "max_failure_rate",
}
_AUDIENCE_KEYS = {"campaign", "priority", "syncs", "description"}


@dataclass(frozen=True)
class FrequencyCap:
    max_messages: int | None = None
    window_hours: float = 24.0
    channels: tuple[str, ...] = ("email", "sms", "wechat", "push")


@dataclass(frozen=True)
class Policies:
    # Purpose of the customer_consent rows a channel sync obeys. Whether a customer with no
    # consent event may be contacted is decided once, by dbt var consent_defaults in
    # dbt_project.yml, and is already in marts.customer_consent.
    consent_purpose: str = "marketing"
    complaint_suppression_hours: float = 1.0
    frequency_cap: FrequencyCap = field(default_factory=FrequencyCap)
    channel_priority: tuple[str, ...] = ("sms", "wechat", "push", "email", "ads")
    dead_letter_after_failures: int = 3
    max_failure_rate: float = 0.05
    pii_columns: tuple[str, ...] = DEFAULT_PII_COLUMNS

    def channel_rank(self, channel: str | None) -> int:
        if channel is None:
            return len(self.channel_priority) + 1
        if channel in self.channel_priority:
            return self.channel_priority.index(channel)
        return len(self.channel_priority)


@dataclass(frozen=True)
class AudienceSync:
    """One (audience, destination) sync declared in a model's meta."""

    audience: str
    model_name: str
    unique_id: str
    schema: str
    relation_name: str
    source_file: str
    index: int
    destination: str
    mode: str = "upsert"
    channel: str | None = None
    identifiers: tuple[str, ...] = ("customer_id",)
    fields: tuple[str, ...] = ()
    schedule: str | None = None
    campaign: str | None = None
    priority: int = 100
    name: str | None = None
    max_failure_rate: float | None = None
    pii_columns: frozenset[str] = frozenset()

    @property
    def sync_key(self) -> str:
        return f"{self.audience}__{self.name or self.destination}"

    @property
    def key_path(self) -> str:
        return f"meta.{AUDIENCE_META_KEY}.syncs[{self.index}]"

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([*self.identifiers, *self.fields]))


@dataclass
class SyncProject:
    """Everything needed to run syncs: destinations, policies and the audiences' syncs."""

    destinations_file: Path
    policies: Policies
    destinations: dict[str, DestinationResource]
    syncs: list[AudienceSync]
    # (schema, name) of dbt's privacy_tombstones model (right to be forgotten, forget.py).
    tombstones: tuple[str, str] = DEFAULT_TOMBSTONES

    def select(self, audiences: Sequence[str] | None = None) -> list[AudienceSync]:
        """Syncs of the named audiences (``winback`` or ``aud_winback`` or a sync key)."""
        if not audiences:
            return list(self.syncs)
        wanted = set(audiences)
        chosen = [
            sync for sync in self.syncs
            if {sync.audience, sync.model_name, sync.sync_key} & wanted
        ]
        known = {n for s in self.syncs for n in (s.audience, s.model_name, s.sync_key)}
        missing = sorted(wanted - known)
        if missing:
            raise ConfigError(
                "target/manifest.json", f"nodes.model.{AUDIENCE_PREFIX}{missing[0]}",
                f"no audience or sync named {missing[0]!r} has meta.{AUDIENCE_META_KEY}; "
                f"known: {sorted({s.audience for s in self.syncs})}",
            )
        return chosen

    def destination_for(self, sync: AudienceSync) -> DestinationResource:
        try:
            return self.destinations[sync.destination]
        except KeyError:
            raise ConfigError(
                sync.source_file, f"{sync.key_path}.destination",
                f"destination {sync.destination!r} is not declared in "
                f"{self.destinations_file.name} (known: {sorted(self.destinations)})",
            ) from None

    def validate(self, syncs: Sequence[AudienceSync] | None = None) -> None:
        """Cross-checks that need both files; raises before anything is sent."""
        for sync in syncs if syncs is not None else self.syncs:
            validate_sync(sync, self.destination_for(sync), self.policies,
                          str(self.destinations_file))


def validate_sync(
    sync: AudienceSync, destination: DestinationResource, policies: Policies, config_file: str
) -> None:
    """PII policy, destination capabilities and secrets for one sync."""
    if sync.mode == "mirror" and not destination.supports_delete:
        raise ConfigError(
            sync.source_file, f"{sync.key_path}.mode",
            f"mode mirror needs deletes, which a {destination.destination_type} destination "
            f"({sync.destination!r}) does not support",
        )
    if not destination.accepts_fields and sync.fields:
        raise ConfigError(
            sync.source_file, f"{sync.key_path}.fields",
            f"a {destination.destination_type} destination ({sync.destination!r}) takes only "
            f"identifiers {sorted(destination.accepted_identifiers)}; remove fields "
            f"{list(sync.fields)}",
        )
    if destination.accepted_identifiers and not (
        set(sync.identifiers) & destination.accepted_identifiers
    ):
        raise ConfigError(
            sync.source_file, f"{sync.key_path}.identifiers",
            f"a {destination.destination_type} destination ({sync.destination!r}) needs at "
            f"least one of {sorted(destination.accepted_identifiers)}",
        )
    if destination.pii != "allowed":
        pii = set(policies.pii_columns) | set(sync.pii_columns)
        for key in ("identifiers", "fields"):
            values = getattr(sync, key)
            exempt = destination.hashed_identifiers if key == "identifiers" else frozenset()
            raw = [column for column in values if column in pii and column not in exempt]
            if raw:
                declared = (
                    "is declared pii: forbidden" if "pii" in destination.model_fields_set
                    else "does not declare pii: allowed (unset means forbidden)"
                )
                raise PiiPolicyError(
                    sync.source_file, f"{sync.key_path}.{key}",
                    f"{raw} are raw PII and destination {sync.destination!r} {declared} "
                    f"({config_file}: destinations.{sync.destination}.pii); "
                    "remove the columns or allow PII for that destination",
                )
    destination.check_env()


# -- destinations.yml ---------------------------------------------------------------------

def default_destinations_file(project_dir: str | Path | None = None) -> Path:
    configured = os.environ.get("CDP_DESTINATIONS_FILE")
    if configured:
        path = Path(configured)
        return path if path.is_absolute() or project_dir is None else Path(project_dir) / path
    return Path(project_dir or find_project_dir()) / "destinations.yml"


def load_destinations_file(path: str | Path) -> tuple[Policies, dict[str, DestinationResource]]:
    path = Path(path)
    source = str(path)
    if not path.exists():
        raise ConfigError(source, "(file)", "destinations file not found "
                          "(set CDP_DESTINATIONS_FILE or create destinations.yml)")
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise ConfigError(source, "(file)", f"not valid YAML: {error}") from error
    if not isinstance(document, Mapping):
        raise ConfigError(source, "(root)", "expected a mapping with destinations: and policies:")
    for key in document:
        if key not in ("version", "destinations", "policies"):
            raise ConfigError(source, str(key),
                              "unknown top-level key; expected version, destinations, policies")
    policies = parse_policies(document.get("policies") or {}, source)
    raw_destinations = document.get("destinations") or {}
    if not isinstance(raw_destinations, Mapping):
        raise ConfigError(source, "destinations", "expected a mapping of name: settings")
    destinations = {
        str(name): build_destination(str(name), settings, path)
        for name, settings in raw_destinations.items()
    }
    return policies, destinations


def parse_policies(raw: Any, source: str) -> Policies:
    if not isinstance(raw, Mapping):
        raise ConfigError(source, "policies", "expected a mapping")
    defaults = Policies()
    known = {
        "consent_purpose", "complaint_suppression_hours", "frequency_cap",
        "channel_priority", "dead_letter_after_failures", "max_failure_rate", "pii_columns",
    }
    if "default_consent" in raw:
        raise ConfigError(
            source, "policies.default_consent",
            "consent defaults are declared once, in dbt var consent_defaults "
            "(dbt_project.yml), and applied by marts.customer_consent, which the syncs "
            "read; remove this key and set the defaults there",
        )
    for key in raw:
        if key not in known:
            raise ConfigError(source, f"policies.{key}",
                              f"unknown policy; expected one of {sorted(known)}")

    def number(key: str, default: float, *, minimum: float = 0) -> float:
        value = raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
            raise ConfigError(source, f"policies.{key}", f"expected a number >= {minimum}")
        return value

    cap_raw = raw.get("frequency_cap") or {}
    if not isinstance(cap_raw, Mapping):
        raise ConfigError(source, "policies.frequency_cap", "expected a mapping")
    for key in cap_raw:
        if key not in ("max_messages", "window_hours", "channels"):
            raise ConfigError(source, f"policies.frequency_cap.{key}",
                              "unknown key; expected max_messages, window_hours, channels")
    max_messages = cap_raw.get("max_messages")
    if max_messages is not None and (
        isinstance(max_messages, bool) or not isinstance(max_messages, int) or max_messages < 1
    ):
        raise ConfigError(source, "policies.frequency_cap.max_messages",
                          "expected a whole number >= 1 (or omit it for no cap)")
    window = cap_raw.get("window_hours", FrequencyCap.window_hours)
    if isinstance(window, bool) or not isinstance(window, (int, float)) or window <= 0:
        raise ConfigError(source, "policies.frequency_cap.window_hours", "expected hours > 0")
    cap = FrequencyCap(
        max_messages=max_messages,
        window_hours=float(window),
        channels=_string_list(cap_raw.get("channels", list(FrequencyCap.channels)),
                              source, "policies.frequency_cap.channels"),
    )
    dead_letter = raw.get("dead_letter_after_failures", defaults.dead_letter_after_failures)
    if isinstance(dead_letter, bool) or not isinstance(dead_letter, int) or dead_letter < 1:
        raise ConfigError(source, "policies.dead_letter_after_failures",
                          "expected a whole number >= 1")
    max_failure_rate = number("max_failure_rate", defaults.max_failure_rate)
    if max_failure_rate > 1:
        raise ConfigError(source, "policies.max_failure_rate", "expected a fraction in [0, 1]")
    purpose = raw.get("consent_purpose", defaults.consent_purpose)
    if not isinstance(purpose, str) or not purpose:
        raise ConfigError(source, "policies.consent_purpose", "expected a purpose name")
    return Policies(
        consent_purpose=purpose,
        complaint_suppression_hours=float(
            number("complaint_suppression_hours", defaults.complaint_suppression_hours)
        ),
        frequency_cap=cap,
        channel_priority=_string_list(
            raw.get("channel_priority", list(defaults.channel_priority)), source,
            "policies.channel_priority",
        ),
        dead_letter_after_failures=dead_letter,
        max_failure_rate=float(max_failure_rate),
        pii_columns=_string_list(raw.get("pii_columns", list(defaults.pii_columns)), source,
                                 "policies.pii_columns"),
    )


def _string_list(value: Any, source: str, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise ConfigError(source, key, "expected a list of names")
    return tuple(value)


# -- dbt manifest ---------------------------------------------------------------------------

def default_manifest_path(project_dir: str | Path | None = None) -> Path:
    if os.environ.get("CDP_MANIFEST_PATH"):
        return Path(os.environ["CDP_MANIFEST_PATH"])
    root = Path(project_dir or find_project_dir())
    return root / os.environ.get("DBT_TARGET_PATH", "target") / "manifest.json"


def load_manifest(manifest: Mapping[str, Any] | str | Path) -> Mapping[str, Any]:
    if isinstance(manifest, Mapping):
        return manifest
    path = Path(manifest)
    if not path.exists():
        raise ConfigError(str(path), "(file)",
                          "dbt manifest not found; run `dbt parse` (or `dbt build`) first")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ConfigError(str(path), "(file)", f"not valid JSON: {error}") from error


def audience_nodes(manifest: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Model nodes carrying ``meta.cdp_audience``, sorted by name."""
    nodes = [
        node for node in (manifest.get("nodes") or {}).values()
        if node.get("resource_type") == "model" and AUDIENCE_META_KEY in _meta(node)
    ]
    return sorted(nodes, key=lambda node: node["name"])


def _meta(node: Mapping[str, Any]) -> Mapping[str, Any]:
    return (node.get("config") or {}).get("meta") or node.get("meta") or {}


def audience_name(model_name: str) -> str:
    return model_name.removeprefix(AUDIENCE_PREFIX)


def node_source(node: Mapping[str, Any]) -> str:
    path = node.get("original_file_path") or node.get("path") or node.get("name")
    patch = (node.get("patch_path") or "").split("://")[-1]
    return f"{path} (meta in {patch})" if patch and patch != path else str(path)


def parse_audience_syncs(manifest: Mapping[str, Any]) -> list[AudienceSync]:
    """Every (audience, destination) sync declared in the manifest, validated for shape."""
    syncs: list[AudienceSync] = []
    seen: dict[str, str] = {}
    for node in audience_nodes(manifest):
        source = node_source(node)
        meta = _meta(node)[AUDIENCE_META_KEY]
        base = f"meta.{AUDIENCE_META_KEY}"
        if not isinstance(meta, Mapping):
            raise ConfigError(source, base, "expected a mapping with syncs:")
        for key in meta:
            if key not in _AUDIENCE_KEYS:
                raise ConfigError(source, f"{base}.{key}",
                                  f"unknown key; expected one of {sorted(_AUDIENCE_KEYS)}")
        entries = meta.get("syncs")
        if not isinstance(entries, list) or not entries:
            raise ConfigError(source, f"{base}.syncs", "expected a non-empty list of syncs")
        priority = meta.get("priority", 100)
        if isinstance(priority, bool) or not isinstance(priority, int):
            raise ConfigError(source, f"{base}.priority", "expected a whole number")
        campaign = meta.get("campaign")
        if campaign is not None and not isinstance(campaign, str):
            raise ConfigError(source, f"{base}.campaign", "expected a campaign name")
        columns = node.get("columns") or {}
        pii_columns = frozenset(
            name for name, column in columns.items()
            if ((column.get("meta") or {}).get("pii")
                or ((column.get("config") or {}).get("meta") or {}).get("pii"))
        )
        for index, entry in enumerate(entries):
            sync = _parse_sync(entry, index, node, source, campaign, priority, pii_columns)
            if sync.sync_key in seen:
                raise ConfigError(
                    source, f"{sync.key_path}.destination",
                    f"sync {sync.sync_key!r} is declared twice (also in {seen[sync.sync_key]}); "
                    "give one a distinct name:",
                )
            seen[sync.sync_key] = source
            syncs.append(sync)
    return syncs


def _parse_sync(
    entry: Any,
    index: int,
    node: Mapping[str, Any],
    source: str,
    campaign: str | None,
    priority: int,
    pii_columns: frozenset[str],
) -> AudienceSync:
    key = f"meta.{AUDIENCE_META_KEY}.syncs[{index}]"
    if not isinstance(entry, Mapping):
        raise ConfigError(source, key, "expected a mapping with destination:, mode: ...")
    for name in entry:
        if name not in _SYNC_KEYS:
            raise ConfigError(source, f"{key}.{name}",
                              f"unknown key; expected one of {sorted(_SYNC_KEYS)}")
    destination = entry.get("destination")
    if not isinstance(destination, str) or not destination:
        raise ConfigError(source, f"{key}.destination", "expected a destination name")
    mode = entry.get("mode", "upsert")
    if mode not in MODES:
        raise ConfigError(source, f"{key}.mode", f"expected one of {list(MODES)}, got {mode!r}")
    channel = entry.get("channel")
    if channel is not None and channel not in CHANNELS:
        raise ConfigError(source, f"{key}.channel",
                          f"expected one of {list(CHANNELS)} or null, got {channel!r}")
    identifiers = entry.get("identifiers", ["customer_id"])
    fields = entry.get("fields", []) or []
    for name, value in (("identifiers", identifiers), ("fields", fields)):
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ConfigError(source, f"{key}.{name}", "expected a list of column names")
    if not identifiers:
        raise ConfigError(source, f"{key}.identifiers", "expected at least one identifier")
    schedule = entry.get("schedule")
    if schedule is not None and not isinstance(schedule, str):
        raise ConfigError(source, f"{key}.schedule", "expected a cron string")
    rate = entry.get("max_failure_rate")
    if rate is not None and (isinstance(rate, bool) or not isinstance(rate, (int, float))
                             or not 0 <= rate <= 1):
        raise ConfigError(source, f"{key}.max_failure_rate", "expected a fraction in [0, 1]")
    name = entry.get("name")
    if name is not None and (not isinstance(name, str) or not name.isidentifier()):
        raise ConfigError(source, f"{key}.name", "expected a snake_case name")
    return AudienceSync(
        audience=audience_name(node["name"]),
        model_name=node["name"],
        unique_id=node.get("unique_id", f"model.{node['name']}"),
        schema=node.get("schema") or "audiences",
        relation_name=node.get("alias") or node["name"],
        source_file=source,
        index=index,
        destination=destination,
        mode=mode,
        channel=channel,
        identifiers=tuple(identifiers),
        fields=tuple(fields),
        schedule=schedule,
        campaign=campaign,
        priority=priority,
        name=name,
        max_failure_rate=float(rate) if rate is not None else None,
        pii_columns=pii_columns,
    )


def load_project(
    *,
    manifest: Mapping[str, Any] | str | Path | None = None,
    destinations_file: str | Path | None = None,
    project_dir: str | Path | None = None,
) -> SyncProject:
    """Read destinations.yml and the manifest; shape errors raise ``ConfigError``."""
    project_dir = Path(project_dir) if project_dir else find_project_dir()
    destinations_path = Path(destinations_file) if destinations_file else (
        default_destinations_file(project_dir)
    )
    policies, destinations = load_destinations_file(destinations_path)
    manifest_data = load_manifest(manifest if manifest is not None
                                  else default_manifest_path(project_dir))
    return SyncProject(
        destinations_file=destinations_path,
        policies=policies,
        destinations=destinations,
        syncs=parse_audience_syncs(manifest_data),
        tombstones=tombstone_relation(manifest_data),
    )
