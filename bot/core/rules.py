"""An office's rules, as plain values: references, routing, urgency, retention and floods."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from bot.core.catalogue import Catalogue


@dataclass(frozen=True, slots=True)
class UrgencyRules:
    """When a case is urgent: a deadline within ``deadline_days``, or one of ``keywords``."""

    deadline_days: int = 14
    keywords: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class RetentionRules:
    """How long unfinished intakes and closed cases are kept."""

    reminder_after: timedelta = timedelta(hours=24)
    expire_after: timedelta = timedelta(days=7)
    keep_closed: timedelta = timedelta(days=730)


@dataclass(frozen=True, slots=True)
class FloodRules:
    """More than ``messages`` in ``seconds`` from one sender pauses them for ``pause_seconds``."""

    messages: int = 40
    seconds: int = 60
    pause_seconds: int = 300


@dataclass(frozen=True, slots=True)
class OfficeRules:
    """How one office runs its casework, whatever the channel."""

    reference_prefix: str = "MP"
    routes: Mapping[str, str] = field(default_factory=dict)
    urgency: UrgencyRules = field(default_factory=UrgencyRules)
    retention: RetentionRules = field(default_factory=RetentionRules)
    flood: FloodRules = field(default_factory=FloodRules)


def spell_duration(length: timedelta, catalogue: Catalogue) -> str:
    """Return a duration as a text states it: "7 days", "1 day", "36 hours", "5 minutes"."""
    seconds = int(length.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            return catalogue.text(f"duration.{unit}", _as_is, count=str(seconds // size))
    return catalogue.text("duration.second", _as_is, count=str(seconds))


def _as_is(value: str) -> str:
    return value
