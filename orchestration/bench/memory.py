"""Peak resident memory of this process and of its finished children, in MB."""

from __future__ import annotations

import resource
from pathlib import Path

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def reset_self_peak() -> bool:
    """Start a new high-water mark for this process (Linux >= 4.0: ``clear_refs`` 5).
    Returns False where that is not possible (the mark then covers the whole run)."""
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


def self_peak_mb() -> float:
    """Highest resident memory of this process since start or the last reset."""
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_peak_mb() -> float:
    """Highest resident memory of this process or any finished child, over the whole run
    (``getrusage``; on Linux ``ru_maxrss`` is in kB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024
