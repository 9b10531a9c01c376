"""Helpers for rows grouped in contiguous runs (events of a session, orders of a person)."""

from __future__ import annotations

import numpy as np


def starts(counts: np.ndarray) -> np.ndarray:
    """Offset of the first row of each group, given group sizes."""
    offsets = np.zeros(len(counts), dtype=np.int64)
    np.cumsum(counts[:-1], out=offsets[1:])
    return offsets


def rank_within(counts: np.ndarray) -> np.ndarray:
    """Position of each row inside its group (0, 1, ... per group)."""
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    return np.arange(total, dtype=np.int64) - np.repeat(starts(counts), counts)


def group_ids(sorted_keys: np.ndarray) -> np.ndarray:
    """Dense 0-based id of each run of equal consecutive keys."""
    if len(sorted_keys) == 0:
        return np.zeros(0, dtype=np.int64)
    changes = np.empty(len(sorted_keys), dtype=bool)
    changes[0] = True
    np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=changes[1:])
    return np.cumsum(changes) - 1


def sizes_of(ids: np.ndarray, n_groups: int) -> np.ndarray:
    """Size of each group for dense group ids."""
    return np.bincount(ids, minlength=n_groups).astype(np.int64)


def cumulative_within(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Running sum of values restarting at each group (inclusive)."""
    running = np.cumsum(values)
    group_start = np.repeat(starts(counts), counts)
    before = np.where(group_start > 0, running[group_start - 1], 0)
    return running - before
