"""A per-sender flood limit: one polite warning, then silence for a while. Time is passed in."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum


class Verdict(StrEnum):
    """What to do with a message."""

    ALLOW = "allow"
    WARN = "warn"
    DROP = "drop"


@dataclass
class _Sender:
    times: deque[float] = field(default_factory=deque)
    paused_until: float = 0.0


class FloodLimit:
    """Allow ``count`` messages per ``period`` seconds per sender; past that, pause them."""

    def __init__(self, count: int, period: float, pause: float, max_senders: int = 50_000) -> None:
        """Set the limit; ``max_senders`` bounds memory by forgetting the quietest senders."""
        self.count, self.period, self.pause, self.max_senders = count, period, pause, max_senders
        self._senders: dict[int, _Sender] = {}

    def check(self, sender: int, now: float) -> Verdict:
        """Record a message from ``sender`` at ``now`` and say whether to process it."""
        state = self._senders.pop(sender, None) or _Sender()
        self._senders[sender] = state  # most recent last, so the oldest are forgotten first
        if len(self._senders) > self.max_senders:
            del self._senders[next(iter(self._senders))]
        if now < state.paused_until:
            return Verdict.DROP
        while state.times and state.times[0] <= now - self.period:
            state.times.popleft()
        state.times.append(now)
        if len(state.times) > self.count:
            state.paused_until = now + self.pause
            state.times.clear()
            return Verdict.WARN
        return Verdict.ALLOW
