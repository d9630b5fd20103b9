"""Answers as people write them: dates in words, UK phone numbers as dialled, times in London."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo

import phonenumbers

from bot.core.dates import MONTHS, long_date

LONDON: Final = ZoneInfo("Europe/London")
# Validators whose stored answer is a date (YYYY-MM-DD) or a phone number (E.164).
DATE_VALIDATORS: Final = frozenset({"date_of_birth", "deadline_date"})
PHONE_VALIDATORS: Final = frozenset({"phone"})


def shown_answer(validator: str | None, value: str) -> str:
    """Return a stored answer as the person would write it, for check-answers and staff."""
    if validator in DATE_VALIDATORS:
        try:
            return long_date(date.fromisoformat(value))
        except ValueError:
            return value
    if validator in PHONE_VALIDATORS:
        return shown_phone(value)
    return value


@lru_cache(maxsize=1024)
def shown_phone(e164: str) -> str:
    """Return a phone number as dialled: 07911 123 456 in the UK, +33 6 12 34 56 78 abroad.

    Kept for the most recent numbers: parsing one takes about 0.1 ms, and a person's number
    is shown again and again (their check-your-answers page, their case's card, the desk).
    """
    try:
        number = phonenumbers.parse(e164, "GB")
    except phonenumbers.NumberParseException:
        return e164
    if number.country_code != 44:
        return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL))
    groups = str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL))
    parts = groups.split(" ")
    # libphonenumber writes mobiles and most landlines as 07911 123456: people say 123 456.
    if len(parts) == 2 and len(parts[1]) == 6 and parts[1].isdigit():
        parts[1:] = [parts[1][:3], parts[1][3:]]
    return " ".join(parts)


def shown_time(moment: datetime) -> str:
    """Return a moment in London time with the year: 23 Nov 2026 09:30."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(LONDON)
    return f"{local.day} {MONTHS[local.month - 1][:3]} {local.year} {local:%H:%M}"
