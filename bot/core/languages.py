"""The languages a constituent can choose, and the words and dates they type in each."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Final

from babel import Locale

ENGLISH: Final = "en"
WELSH: Final = "cy"
# The language's own name, as its speakers write it: what the choice buttons say.
NAMES: Final = {ENGLISH: "English", WELSH: "Cymraeg"}
# Button actions of the language choice ("lang.cy").
ACTION_PREFIX: Final = "lang."

# Welsh answers to a yes-or-no question: Welsh answers with the verb ("Oes?" "Oes."), so
# each of these says yes to some question; "Nac oes", "Naddo"... say no.
YES_WORDS: Final = frozenset({"yes", "y", "yeah", "yep", "ie", "iawn", "do", "oes", "ydw", "ydy"})
NO_WORDS: Final = frozenset({"no", "n", "nope", "na", "nage", "naddo", "nac oes", "nac ydw"})

WELSH_MONTHS: Final = (
    "Ionawr",
    "Chwefror",
    "Mawrth",
    "Ebrill",
    "Mai",
    "Mehefin",
    "Gorffennaf",
    "Awst",
    "Medi",
    "Hydref",
    "Tachwedd",
    "Rhagfyr",
)
# After "o" or "ym mis" a month name takes its soft mutation ("o Fawrth"); read both.
_MUTATED: Final = {
    "fawrth": 3,
    "fai": 5,
    "fehefin": 6,
    "orffennaf": 7,
    "fedi": 9,
    "dachwedd": 11,
    "ragfyr": 12,
    "hwefror": 2,
}
_WELSH_ORDINAL: Final = re.compile(r"(?<=\d)(?:af|il|ydd|ed|fed|eg|ain)\b")


def action_for(language: str) -> str:
    """Return the button action that chooses ``language``."""
    return f"{ACTION_PREFIX}{language}"


def language_of_action(action: str, offered: Sequence[str]) -> str | None:
    """Return the language a choice button stands for, if it is one of those offered."""
    if not action.startswith(ACTION_PREFIX):
        return None
    language = action.removeprefix(ACTION_PREFIX)
    return language if language in offered else None


def offered_by_default(constituency_code: str) -> tuple[str, ...]:
    """Return the languages offered when the office has not said: Welsh too in Wales."""
    return (ENGLISH, WELSH) if constituency_code.startswith("W") else (ENGLISH,)


def yes_or_no(words: Sequence[str]) -> str | None:
    """Return "yes" or "no" if the words are an answer to a yes-or-no question, else None."""
    said = " ".join(words)
    if said in YES_WORDS:
        return "yes"
    if said in NO_WORDS:
        return "no"
    return None


def welsh_month_number(word: str) -> int | None:
    """Return 1-12 for a Welsh month name (or its soft mutation), else None."""
    word = word.casefold()
    if word in _MUTATED:
        return _MUTATED[word]
    for number, name in enumerate(WELSH_MONTHS, start=1):
        if name.casefold() == word or (len(word) >= 4 and name.casefold().startswith(word)):
            return number
    return None


def without_welsh_ordinals(text: str) -> str:
    """Return text with Welsh ordinal endings taken off numbers ("14eg" -> "14")."""
    return _WELSH_ORDINAL.sub("", text)


def welsh_ordinal(number: int) -> str:
    """Return a day of the month as a Welsh ordinal: 1af, 2il, 3ydd, 11eg, 14eg, 20fed."""
    special = {1: "af", 2: "il", 3: "ydd", 4: "ydd", 5: "ed", 6: "ed", 11: "eg", 13: "eg"}
    special |= {14: "eg", 15: "fed", 16: "eg", 17: "eg", 18: "fed", 19: "eg"}
    return f"{number}{'ain' if number > 20 else special.get(number, 'fed')}"


def welsh_long_date(day: date) -> str:
    """Return a date as Welsh writes it: "14 Mawrth 1982"."""
    return f"{day.day} {WELSH_MONTHS[day.month - 1]} {day.year}"


def plural_category(language: str, count: int) -> str:
    """Return the CLDR plural category of ``count`` in ``language`` (Welsh has six)."""
    category: str = Locale.parse(language).plural_form(count)
    return category
