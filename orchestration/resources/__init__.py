"""Dagster resources: the only code holding clients and credentials.

- ``WarehouseResource``: the DuckDB / PostgreSQL warehouse the dbt project builds.
- One destination resource per kind of external system the activation engine syncs to:
  ``FileDestinationResource``, ``WebhookDestinationResource``, ``AdsDestinationResource``,
  ``PostgresDestinationResource``, ``RedisDestinationResource``.

Import the concrete modules (``orchestration.resources.webhook`` ...) or the names below;
nothing is connected at import time.
"""

from __future__ import annotations

from typing import Any

_EXPORTS = {
    "WarehouseResource": "orchestration.resources.warehouse",
    "WarehouseConnection": "orchestration.resources.warehouse",
    "DestinationResource": "orchestration.resources.base",
    "FileDestinationResource": "orchestration.resources.file_export",
    "WebhookDestinationResource": "orchestration.resources.webhook",
    "AdsDestinationResource": "orchestration.resources.ads",
    "PostgresDestinationResource": "orchestration.resources.postgres_table",
    "RedisDestinationResource": "orchestration.resources.redis_profiles",
    "DESTINATION_TYPES": "orchestration.resources.destinations",
    "build_destination": "orchestration.resources.destinations",
}

__all__ = (
    "DESTINATION_TYPES",
    "AdsDestinationResource",
    "DestinationResource",
    "FileDestinationResource",
    "PostgresDestinationResource",
    "RedisDestinationResource",
    "WarehouseConnection",
    "WarehouseResource",
    "WebhookDestinationResource",
    "build_destination",
)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(name)
    import importlib

    return getattr(importlib.import_module(_EXPORTS[name]), name)
