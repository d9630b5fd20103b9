"""Read dates as people type them: 15/12/2026, 15 Dec 26, Tuesday 15th of December 2026.

Welsh reads too: "14 Mawrth 1982", "dydd Mawrth 14eg o Fawrth 2026".
"""

import re
from datetime import date
from typing import Final, NamedTuple

from bot.core.languages import WELSH, WELSH_MONTHS, welsh_month_number, without_welsh_ordinals
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
# Welsh weekdays follow "dydd" ("dydd Mawrth"), so their name is never read as the month.
_WELSH_WEEKDAYS: Final = ("llun", "mawrth", "mercher", "iau", "gwener", "sadwrn", "sul")
# Words around a date that say nothing about it: "of", and Welsh "o", "ym mis".
_LINKING: Final = frozenset({"of", "o", "ym", "mis"})
_DATE_SEPARATORS: Final = re.compile(r"[\s/.,\-]+")
_ORDINAL_SUFFIX: Final = re.compile(r"(?<=\d)(?:st|nd|rd|th)\b")


class DateParts(NamedTuple):
    """A day, month and year as typed, before checking that they make a real date."""

    day: int
    month: int
    year: int
    short_year: bool
    # No year was given ("14eg Mawrth"): the next such day, for a date to come.
    no_year: bool = False


def month_number(word: str) -> int | None:
    """Return 1-12 for a month name or its abbreviation (3 letters or more), else None."""
    if len(word) < 3:
        return None
    for number, name in enumerate(MONTHS, start=1):
        if name.lower().startswith(word):
            return number
    return welsh_month_number(word)


def date_parts(text: str) -> DateParts | None:
    """Return the day, month and year in text, or None if it is not in a format we read."""
    lowered = without_welsh_ordinals(_ORDINAL_SUFFIX.sub("", clean_text(text).lower()))
    words = [word for word in _DATE_SEPARATORS.split(lowered) if word and word not in _LINKING]
    if len(words) >= 3 and words[0] == "dydd" and words[1] in _WELSH_WEEKDAYS:
        words = words[2:]
    if len(words) == 2 and words[0].isdecimal() and (named := month_number(words[1])):
        return DateParts(int(words[0]), named, 0, short_year=False, no_year=True)
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
    if parts.no_year:
        if past:
            return None
        try:
            this_year = date(today.year, parts.month, parts.day)
            return this_year if this_year >= today else date(today.year + 1, parts.month, parts.day)
        except ValueError:
            return None
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


def long_date(day: date, language: str = "en") -> str:
    """Return day written like "15 December 2026" (in Welsh, "15 Rhagfyr 2026")."""
    months = WELSH_MONTHS if language == WELSH else MONTHS
    return f"{day.day} {months[day.month - 1]} {day.year}"


# A value that is a date the bot wrote ("14 March 1982", "14 March 1982, 09:30", "14 Mar 1982
# 09:30"): a person's own words that merely contain a date are theirs, left as they wrote them.
_LONG_DATE: Final = re.compile(r"(\d{1,2}) (" + "|".join(MONTHS) + r") (\d{4})(, \d\d:\d\d)?")
_SHORT_DATE: Final = re.compile(
    r"(\d{1,2}) (" + "|".join(m[:3] for m in MONTHS) + r") (\d{4})( \d\d:\d\d)?"
)
_WELSH_SHORT: Final = ("Ion", "Chwef", "Maw", "Ebr", "Mai", "Meh", "Gorff", "Awst", "Medi")
_WELSH_SHORT_END: Final = ("Hyd", "Tach", "Rhag")


def dates_in_language(value: str, language: str) -> str:
    """Return a value that is a date written like "14 March 1982" written in ``language``."""
    if language != WELSH:
        return value
    if found := _LONG_DATE.fullmatch(value):
        month = WELSH_MONTHS[MONTHS.index(found[2])]
    elif found := _SHORT_DATE.fullmatch(value):
        short = [m[:3] for m in MONTHS].index(found[2])
        month = (*_WELSH_SHORT, *_WELSH_SHORT_END)[short]
    else:
        return value
    return f"{found[1]} {month} {found[3]}{found[4] or ''}"
