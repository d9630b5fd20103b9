"""Read dates as people type them: 15/12/2026, 15 Dec 26, Tuesday 15th of December 2026."""

import re
from datetime import date
from typing import Final, NamedTuple

from bot.core.text import clean_text

MONTHS: Final = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_WEEKDAYS: Final = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DATE_SEPARATORS: Final = re.compile(r"[\s/.,\-]+")
_ORDINAL_SUFFIX: Final = re.compile(r"(?<=\d)(?:st|nd|rd|th)\b")


class DateParts(NamedTuple):
    """A day, month and year as typed, before checking that they make a real date."""

    day: int
    month: int
    year: int
    short_year: bool


def month_number(word: str) -> int | None:
    """Return 1-12 for a month name or its abbreviation (3 letters or more), else None."""
    if len(word) < 3:
        return None
    for number, name in enumerate(MONTHS, start=1):
        if name.lower().startswith(word):
            return number
    return None


def date_parts(text: str) -> DateParts | None:
    """Return the day, month and year in text, or None if it is not in a format we read."""
    lowered = _ORDINAL_SUFFIX.sub("", clean_text(text).lower())
    words = [word for word in _DATE_SEPARATORS.split(lowered) if word and word != "of"]
    # Letters often start with the weekday ("Tuesday 15 December 2026"); the date decides.
    if (
        len(words) == 4
        and len(words[0]) >= 3
        and any(day.startswith(words[0]) for day in _WEEKDAYS)
    ):
        words = words[1:]
    if len(words) != 3:
        return None
    first, second, third = words
    if all(word.isdecimal() for word in words):
        if len(first) == 4 and len(second) <= 2 and len(third) <= 2:
            return DateParts(int(third), int(second), int(first), short_year=False)
        day, month, year = first, second, third
    elif (named := month_number(second)) is not None:
        day, month, year = first, str(named), third
    elif (named := month_number(first)) is not None:
        day, month, year = second, str(named), third
    else:
        return None
    if not (day.isdecimal() and year.isdecimal()) or len(day) > 2 or len(month) > 2:
        return None
    if len(year) not in (2, 4):
        return None
    return DateParts(int(day), int(month), int(year), short_year=len(year) == 2)


def real_date(parts: DateParts, today: date, *, past: bool) -> date | None:
    """Return the date the parts name, or None if there is no such date.

    A 2-digit year is read in today's century, or for a date in the past, the last 100 years.
    """
    year = parts.year
    if parts.short_year:
        year += today.year // 100 * 100
        if past and (year, parts.month, parts.day) >= (today.year, today.month, today.day):
            year -= 100
    try:
        return date(year, parts.month, parts.day)
    except ValueError:
        return None


def add_years(day: date, years: int) -> date:
    """Return the same day `years` later (or earlier), with 29 February becoming the 28th."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def long_date(day: date) -> str:
    """Return day written like "15 December 2026"."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"
