"""Errors raised by the activation engine.

Every configuration error names the file and the key at fault, so the message alone tells
the reader where to look: ``destinations.yml: destinations.esp.auth_token_env: ...``.
"""

from __future__ import annotations


class SyncError(Exception):
    """Base class for activation-engine errors."""


class ConfigError(SyncError):
    """A configuration mistake, reported with the file (or dbt model) and key at fault."""

    def __init__(self, source: str, key: str, message: str) -> None:
        self.source = source
        self.key = key
        self.detail = message
        super().__init__(f"{source}: {key}: {message}")


class PiiPolicyError(ConfigError):
    """A sync would send raw PII to a destination declared ``pii: forbidden``."""


class WarehouseDataError(SyncError):
    """The warehouse holds data the engine cannot sync (missing relation, duplicate keys)."""


class DestinationError(SyncError):
    """A destination refused a whole batch, or stayed unavailable after every retry.

    ``rows_rejected`` is true when the destination judged the rows themselves (HTTP 400,
    409, 413, 422): the rows count as failed attempts and the run goes on. Otherwise the
    destination is unavailable or misconfigured: the run stops, no attempt is counted
    against the rows, and the next run sends them again.
    """

    def __init__(self, destination: str, message: str, *, rows_rejected: bool = False) -> None:
        self.destination = destination
        self.rows_rejected = rows_rejected
        super().__init__(f"destination {destination!r}: {message}")


class SyncAlreadyRunningError(SyncError):
    """Another process holds the lock of this sync."""
