"""What a case's card says, for any channel that shows one: the values of its texts."""

from __future__ import annotations

from bot.core import roles
from bot.core.case import Case
from bot.core.catalogue import Msg


def on_behalf(case: Case) -> bool:
    """Tell whether someone wrote in for the constituent."""
    return case.answers.get(roles.FOR_WHOM) == roles.SOMEONE_ELSE


def constituent_name(case: Case) -> str:
    """Return the name of the person the case is about (not the helper's, for someone else)."""
    key = roles.OTHER_NAME if on_behalf(case) else roles.FULL_NAME
    return case.answers.get(key) or ""


def consent_key(case: Case) -> str:
    """Return the text saying where the case's consent stands (given, refused, withdrawn)."""
    if case.consent.withdrawn_at is not None:
        return "consent.withdrawn"
    return f"consent.{case.consent.answer}"


def card_body(case: Case, *, category: str, assignee: str | Msg, received: str, age: str) -> Msg:
    """Return the card's main text for ``case``, with the labels the channel made.

    A card says what the team needs to pick a case up, never who the constituent is or what
    they wrote: it may stay in the group for good. The case view has the rest.
    """
    return Msg(
        "card.body",
        {
            "reference": case.reference,
            "category": category,
            "received": received,
            "age": age,
            "assignee": assignee,
            "status": Msg(f"status.{case.status.value}"),
            "consent": Msg(consent_key(case)),
        },
    )


def language_line(case: Case) -> Msg | None:
    """Return the card's line saying which language the constituent writes in (not English)."""
    if case.language == "en":
        return None
    return Msg("card.language", {"language": Msg(f"language.name.{case.language}")})


def card_notes(case: Case, *, relationship: str, agreement: str) -> list[Msg]:
    """Return the card's warnings: a postcode not in the data; someone writing for another."""
    notes = []
    if not case.postcode_verified:
        notes.append(Msg("card.postcode_unverified"))
    if on_behalf(case):
        notes.append(Msg("card.on_behalf", {"relationship": relationship, "agreement": agreement}))
    return notes
