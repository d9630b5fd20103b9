"""Working days: promised reply dates counted past weekends and the nation's bank holidays."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

import holidays

from bot.core.dates import date_parts, real_date
from bot.core.display import LONDON

# The first letter of a constituency's GSS code names its nation; England and Wales share
# their bank holidays, Scotland has its own (2 January, St Andrew's Day, an August holiday).
SUBDIVISIONS = {"E": "ENG", "W": "WLS", "S": "SCT", "N": "NIR"}


class WorkingDays:
    """The working days of one nation: Monday to Friday, less its bank holidays."""

    def __init__(self, nation: str) -> None:
        """Use the bank holidays of ``nation`` (a GSS code's first letter: E, W, S or N)."""
        subdivision = SUBDIVISIONS.get(nation[:1].upper())
        if subdivision is None:
            raise ValueError(f"{nation!r} is not a UK nation's code (E, W, S or N)")
        self.nation = nation[:1].upper()
        self._holidays = holidays.country_holidays("GB", subdiv=subdivision)

    def is_working_day(self, day: date) -> bool:
        """Tell whether the office works on ``day``."""
        return day.weekday() < 5 and day not in self._holidays

    def holiday_name(self, day: date) -> str | None:
        """Return the bank holiday on ``day``, if there is one."""
        name = self._holidays.get(day)
        return None if name is None else str(name)

    def add(self, start: date, days: int) -> date:
        """Return the ``days``-th working day after ``start`` (``start`` itself never counts)."""
        if days < 0:
            raise ValueError("count forwards: days must not be negative")
        day = start
        while days:
            day += timedelta(days=1)
            if self.is_working_day(day):
                days -= 1
        return day

    def between(self, start: date, end: date) -> int:
        """Return how many working days fall after ``start`` up to and including ``end``."""
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            count += self.is_working_day(day)
        return count

    def reply_by(self, received: datetime, days: int) -> date:
        """Return the date a reply is promised by: ``days`` working days after the day received.

        The day is the London date the case arrived, so a case sent at 23:30 on a Friday in
        summer (22:30 UTC) counts from that Friday.
        """
        return self.add(london_date(received), days)


@lru_cache(maxsize=8)
def working_days(nation: str) -> WorkingDays:
    """Return the (shared) working-day calendar of ``nation``."""
    return WorkingDays(nation)


def london_date(moment: datetime) -> date:
    """Return the date in London at ``moment`` (a naive moment is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(LONDON).date()


@dataclass(frozen=True, slots=True)
class FollowUp:
    """A follow-up as a caseworker typed it: the date (None: clear it) and a note."""

    day: date | None
    note: str = ""


CLEAR_WORDS = frozenset({"none", "clear", "-"})


def read_follow_up(text: str, today: date) -> FollowUp | None:
    """Read "12 March 2027 chase DWP", "2027-03-12" or "none" (None if there is no date).

    The date comes first, written as people write dates; whatever follows is the note.
    """
    words = text.split()
    if not words:
        return None
    if words[0].casefold() in CLEAR_WORDS:
        return FollowUp(None, " ".join(words[1:]))
    for count in (4, 3, 1):
        parts = date_parts(" ".join(words[:count])) if len(words) >= count else None
        day = real_date(parts, today, past=False) if parts is not None else None
        if day is not None:
            return FollowUp(day, " ".join(words[count:]))
    return None
