"""What a sync run is asked to do (``SyncOptions``) and what it did (``SyncResult``)."""

from __future__ import annotations

import datetime as dt
import getpass
import os
import socket
from dataclasses import dataclass, field
from typing import Any

SUPPRESSION_REASONS = (
    "no_consent", "recent_complaint", "campaign_duplicate", "missing_identifier",
    "frequency_cap",
)


def utc_now() -> dt.datetime:
    """Now in UTC without time zone (the warehouse tables' convention)."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def default_actor() -> str:
    """Who runs the sync: ``CDP_ACTOR`` or ``user@host``."""
    if os.environ.get("CDP_ACTOR"):
        return os.environ["CDP_ACTOR"]
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


@dataclass(frozen=True)
class SyncOptions:
    dry_run: bool = False
    replay: bool = False
    now: dt.datetime | None = None
    actor: str | None = None
    sample_size: int = 5
    # Run the forget pass of the sync first (``run_syncs`` runs it for every sync at once,
    # then passes False).
    forget: bool = True


@dataclass
class SyncResult:
    """What a run did (or, for a dry run, would do). A forget run (mode ``forget``) counts
    the deletes the destination took for forgotten people as ``rows_removed``."""

    run_id: str
    sync_key: str
    audience: str
    destination: str
    mode: str
    channel: str | None
    dry_run: bool = False
    status: str = "running"
    planned: dict[str, int] = field(default_factory=lambda: {"add": 0, "change": 0, "remove": 0})
    rows_added: int = 0
    rows_changed: int = 0
    rows_removed: int = 0
    rows_failed: int = 0
    rows_dead_lettered: int = 0
    rows_held_in_dead_letter: int = 0
    suppressed_by_reason: dict[str, int] = field(default_factory=dict)
    batches_sent: int = 0
    # Deletes the destination took for forgotten people before this run's diff (see
    # forget.py), and notes such as forget_unsupported.
    rows_forgotten: int = 0
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    sample: list[dict[str, Any]] = field(default_factory=list)
    started_at: dt.datetime = field(default_factory=utc_now)
    finished_at: dt.datetime | None = None

    @property
    def rows_suppressed(self) -> int:
        return sum(self.suppressed_by_reason.values())

    @property
    def rows_sent(self) -> int:
        return self.rows_added + self.rows_changed + self.rows_removed

    @property
    def failure_rate(self) -> float:
        attempted = self.rows_sent + self.rows_failed
        return self.rows_failed / attempted if attempted else 0.0

    @property
    def error_sample(self) -> str | None:
        return "\n".join(self.errors[:5]) or None

    def counts(self) -> dict[str, int]:
        return {
            "rows_added": self.rows_added,
            "rows_changed": self.rows_changed,
            "rows_removed": self.rows_removed,
            "rows_failed": self.rows_failed,
            "rows_suppressed": self.rows_suppressed,
            "rows_dead_lettered": self.rows_dead_lettered,
        }
