"""The activation engine: diff-based reverse-ETL syncs of dbt audiences to destinations.

Public entry points (imported lazily, so importing this package is cheap):

- ``run_syncs(audiences=None, *, target=None, dry_run=False, ...)`` -> list[SyncResult]
- ``replay_dead_letters(audiences=None, ...)``
- ``forget_people(...)`` -> ForgetReport: the right-to-be-forgotten pass alone
- ``load_project(manifest=..., destinations_file=...)`` -> SyncProject
- ``SyncEngine`` / ``SyncOptions`` / ``SyncResult`` for callers holding their own connection
- ``sync`` (click group) in ``orchestration.syncs.cli``
"""

from __future__ import annotations

from typing import Any

_EXPORTS = {
    "run_syncs": "orchestration.syncs.runner",
    "replay_dead_letters": "orchestration.syncs.runner",
    "forget_people": "orchestration.syncs.runner",
    "ForgetReport": "orchestration.syncs.forget",
    "order_syncs": "orchestration.syncs.runner",
    "load_project": "orchestration.syncs.config",
    "SyncProject": "orchestration.syncs.config",
    "AudienceSync": "orchestration.syncs.config",
    "Policies": "orchestration.syncs.config",
    "SyncEngine": "orchestration.syncs.engine",
    "SyncOptions": "orchestration.syncs.engine",
    "SyncResult": "orchestration.syncs.engine",
    "ConfigError": "orchestration.syncs.errors",
    "PiiPolicyError": "orchestration.syncs.errors",
    "SyncError": "orchestration.syncs.errors",
}

__all__ = (
    "AudienceSync",
    "ConfigError",
    "ForgetReport",
    "PiiPolicyError",
    "Policies",
    "SyncEngine",
    "SyncError",
    "SyncOptions",
    "SyncProject",
    "SyncResult",
    "forget_people",
    "load_project",
    "order_syncs",
    "replay_dead_letters",
    "run_syncs",
)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(name)
    import importlib

    return getattr(importlib.import_module(_EXPORTS[name]), name)
