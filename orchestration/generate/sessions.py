"""Sessions and the events inside them, shared by web and app tracking.

A person's sessions are spread over the batch window in time order; each session happens
on one of the person's "slots" (a browser cookie or an app device). Slots rotate over
time: the first sessions use slot 0, later ones slot 1, ... Events follow each other
within a session by tens of seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from orchestration.generate.batch import Batch
from orchestration.generate.groups import cumulative_within, group_ids, rank_within
from orchestration.generate.people import Profiles


@dataclass
class Sessions:
    user: np.ndarray  # index into the users (profiles) the sessions were planned for
    start: np.ndarray  # epoch seconds
    slot: np.ndarray  # cookie / device number of the person
    slot_group: np.ndarray  # dense id of (person, slot)
    rank_in_slot: np.ndarray
    slot_sessions: np.ndarray  # sessions of the same (person, slot)

    def __len__(self) -> int:
        return len(self.start)


@dataclass
class Events:
    session: np.ndarray  # index into Sessions
    position: np.ndarray  # 0 for the first event of its session
    session_size: np.ndarray  # events in the same session
    ts: np.ndarray  # epoch seconds

    def __len__(self) -> int:
        return len(self.ts)


def plan(
    batch: Batch,
    rng: np.random.Generator,
    users: Profiles,
    session_counts: np.ndarray,
    slot_counts: np.ndarray,
) -> Sessions:
    user = np.repeat(np.arange(len(users)), session_counts)
    start = batch.times(rng, users.since[user], tail=0.9)
    start = start[np.lexsort((start, user))]  # time order within each user
    rank = rank_within(session_counts)
    slot = rank * slot_counts[user] // session_counts[user]
    slot_group = group_ids(user * 128 + slot)
    slot_sessions_per_group = np.bincount(slot_group).astype(np.int64)
    rank_in_slot = rank_within(slot_sessions_per_group)
    return Sessions(
        user=user,
        start=start,
        slot=slot,
        slot_group=slot_group,
        rank_in_slot=rank_in_slot,
        slot_sessions=slot_sessions_per_group[slot_group],
    )


def explode(
    batch: Batch, rng: np.random.Generator, sessions: Sessions, mean_events: float
) -> Events:
    counts = rng.geometric(1 / mean_events, len(sessions)).astype(np.int64)
    session = np.repeat(np.arange(len(sessions)), counts)
    gaps = np.where(
        rank_within(counts) == 0,
        0,
        5 + rng.exponential(40, len(session)).astype(np.int64),
    )
    ts = sessions.start[session] + cumulative_within(gaps, counts)
    return Events(
        session=session,
        position=rank_within(counts),
        session_size=counts[session],
        ts=np.minimum(ts, batch.window[1] - 1),
    )


def any_per_group(groups: np.ndarray, mask: np.ndarray, n_groups: int) -> np.ndarray:
    """Whether each group has at least one row where mask holds."""
    return np.bincount(groups[mask], minlength=n_groups) > 0
