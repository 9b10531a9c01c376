"""Build destination resources from the ``destinations:`` section of destinations.yml."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from orchestration.resources.ads import AdsDestinationResource
from orchestration.resources.base import DestinationResource
from orchestration.resources.file_export import FileDestinationResource
from orchestration.resources.postgres_table import PostgresDestinationResource
from orchestration.resources.redis_profiles import RedisDestinationResource
from orchestration.resources.webhook import WebhookDestinationResource
from orchestration.syncs.errors import ConfigError

DESTINATION_TYPES: dict[str, type[DestinationResource]] = {
    resource.destination_type: resource
    for resource in (
        FileDestinationResource,
        WebhookDestinationResource,
        AdsDestinationResource,
        PostgresDestinationResource,
        RedisDestinationResource,
    )
}


def build_destination(
    name: str, settings: Mapping[str, Any], config_file: str | Path
) -> DestinationResource:
    """One destination resource from its settings; errors name the file and key."""
    source = str(config_file)
    prefix = f"destinations.{name}"
    if not isinstance(settings, Mapping):
        raise ConfigError(source, prefix, "expected a mapping of settings")
    kind = settings.get("type")
    if kind not in DESTINATION_TYPES:
        raise ConfigError(
            source, f"{prefix}.type",
            f"unknown destination type {kind!r}; expected one of {sorted(DESTINATION_TYPES)}",
        )
    resource_class = DESTINATION_TYPES[kind]
    values = {key: value for key, value in settings.items() if key != "type"}
    allowed = set(resource_class.model_fields) - {"name", "config_file", "base_dir"}
    for key in values:
        if key not in allowed:
            raise ConfigError(
                source, f"{prefix}.{key}",
                f"unknown setting for a {kind} destination; expected one of {sorted(allowed)}",
            )
    values["name"] = name
    values["config_file"] = source
    if "base_dir" in resource_class.model_fields:
        values["base_dir"] = str(Path(config_file).resolve().parent)
    try:
        return resource_class(**values)
    except ValidationError as error:
        first = error.errors()[0]
        location = ".".join(str(part) for part in first["loc"])
        raise ConfigError(source, f"{prefix}.{location}", first["msg"]) from error
