"""Words that mean someone may be at risk, so the bot answers with help at once.

A caseworker reading "I can't go on" or "my partner hits me" stops everything to give the
crisis numbers and tell the team. The bot does the same: the person gets the signposting
for what they wrote before the next question, and the case is flagged for staff.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Final


class Concern(StrEnum):
    """What someone's words suggest, most pressing first."""

    IN_DANGER = "in_danger"
    SELF_HARM = "self_harm"
    DOMESTIC_ABUSE = "domestic_abuse"
    CHILD_AT_RISK = "child_at_risk"


PHRASES: Final[dict[Concern, tuple[str, ...]]] = {
    Concern.IN_DANGER: (
        "in danger",
        "not safe",
        "unsafe at home",
        "threatened to kill",
        "going to kill me",
        "fear for my life",
        "scared for my life",
    ),
    Concern.SELF_HARM: (
        "suicide",
        "suicidal",
        "kill myself",
        "killing myself",
        "end my life",
        "end it all",
        "take my own life",
        "self-harm",
        "self harm",
        "harm myself",
        "hurt myself",
        "overdose",
        "can't go on",
        "cannot go on",
        "want to die",
        "better off dead",
    ),
    Concern.DOMESTIC_ABUSE: (
        "domestic abuse",
        "domestic violence",
        "abusive partner",
        "abusive husband",
        "abusive wife",
        "coercive control",
        "partner hits me",
        "husband hits me",
        "wife hits me",
        "partner is violent",
        "hits me",
        "beats me",
    ),
    Concern.CHILD_AT_RISK: (
        "child is at risk",
        "child at risk",
        "children at risk",
        "child abuse",
        "abusing my child",
        "hurting my child",
        "hurting the children",
        "child is not safe",
        "children are not safe",
    ),
}

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})
_PATTERNS: Final = {
    concern: re.compile(
        r"(?<!\w)(?:" + "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in phrases) + r")(?!\w)"
    )
    for concern, phrases in PHRASES.items()
}


def concerns_in(text: str) -> tuple[Concern, ...]:
    """Return the concerns what someone wrote suggests, most pressing first."""
    folded = text.translate(_APOSTROPHES).casefold()
    return tuple(concern for concern, pattern in _PATTERNS.items() if pattern.search(folded))
