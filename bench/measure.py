"""Timings, percentiles and the process's resident memory."""

from __future__ import annotations

import math
import re
import resource
from dataclasses import dataclass, field
from pathlib import Path

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


@dataclass
class Run:
    """One measured configuration: per-update seconds, and what else is worth printing."""

    variant: str
    stored: int
    seconds: list[float] = field(default_factory=list)
    intakes: int = 0
    notes: list[str] = field(default_factory=list)
    rss_before: float | None = None
    peak_rss: float | None = None

    @property
    def updates(self) -> int:
        """Return how many updates were timed."""
        return len(self.seconds)

    @property
    def throughput(self) -> float:
        """Return updates per second of time spent handling them."""
        total = sum(self.seconds)
        return self.updates / total if total else 0.0

    def percentile(self, p: float) -> float:
        """Return the nearest-rank percentile of the per-update times, in seconds."""
        return percentile(self.seconds, p)


def percentile(values: list[float], p: float) -> float:
    """Return the nearest-rank ``p``-th percentile (0 < p <= 100) of ``values``."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def _status_kib(field_name: str) -> int | None:
    try:
        text = _STATUS.read_text()
    except OSError:
        return None
    found = re.search(rf"^{field_name}:\s+(\d+) kB", text, re.MULTILINE)
    return int(found.group(1)) if found else None


def rss_mib() -> float:
    """Return the resident set size now, in MiB."""
    kib = _status_kib("VmRSS")
    return kib / 1024 if kib is not None else math.nan


def peak_rss_mib() -> float:
    """Return the peak resident set size (VmHWM, else getrusage's maxrss), in MiB."""
    kib = _status_kib("VmHWM")
    if kib is None:
        kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return kib / 1024


def reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux 4.0+); return False where that is not allowed."""
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True
