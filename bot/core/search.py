"""What a case is found by, and how the words someone searches for become terms."""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.core import roles
from bot.core.case import Case
from bot.core.text import clean_text

MAX_TERMS = 8
TERM_LENGTH = 60
_DIGITS = re.compile(r"^\+?[\d()\-.]+$")
_WORDY = re.compile(r"\w")


def case_text(case: Case) -> str:
    """Return the words a case is found by: every answer, and forms people type them in."""
    parts = [case.reference, case.reference.replace("-", ""), case.category]
    parts += [value for value in case.answers.values() if value]
    postcode = case.answers.get(roles.POSTCODE)
    if postcode:
        parts.append(postcode.replace(" ", ""))
    phone = case.answers.get(roles.PHONE)
    if phone:
        digits = re.sub(r"\D", "", phone)
        parts.append(digits)
        if digits.startswith("44"):
            parts.append("0" + digits[2:])  # as it is written in the UK: 07911 123456
    for attachment in case.attachments:
        parts += [p for p in (attachment.caption, attachment.file_name) if p]
    return "\n".join(clean_text(part) for part in parts)


def search_terms(query: str) -> list[str]:
    """Return the terms of a search, a phone number typed in groups ("07911 123 456") as one."""
    terms: list[str] = []
    joining = False
    for word in clean_text(query).casefold().split():
        digits = _DIGITS.match(word) is not None
        if digits:
            word = re.sub(r"\D", "", word)
            if joining and terms:
                terms[-1] += word
                continue
        joining = digits
        if _WORDY.search(word):
            terms.append(word[:TERM_LENGTH])
    return terms[:MAX_TERMS]


def message_text(texts: Iterable[str]) -> str:
    """Return a case's notes and messages as the text they are found by."""
    return "\n".join(clean_text(text) for text in texts)
