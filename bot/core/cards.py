"""What a case's card says, for any channel that shows one: the values of its texts."""

from __future__ import annotations

from datetime import date

from bot.core import roles
from bot.core.case import Case
from bot.core.catalogue import Msg
from bot.core.dates import long_date


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
    """Return the card's main text for ``case``, with the labels the channel made."""
    place = (
        Msg("card.in_constituency", {"constituency": case.constituency_name})
        if case.postcode_verified
        else Msg("card.postcode_unverified")
    )
    return Msg(
        "card.body",
        {
            "reference": case.reference,
            "category": category,
            "name": constituent_name(case),
            "received": received,
            "age": age,
            "postcode": case.answers.get(roles.POSTCODE) or "",
            "place": place,
            "assignee": assignee,
            "status": Msg(f"status.{case.status.value}"),
            "consent": Msg(consent_key(case)),
        },
    )


def due_line(case: Case, today: date) -> Msg | None:
    """Return the card's line on what the office owes next and by when (overdue, today, later)."""
    due = case.due_on
    if due is None:
        return None
    kind = "chase" if due == case.follow_up else "reply"
    shown = long_date(due)
    if due < today:
        return Msg(f"card.overdue_{kind}", {"date": shown})
    if due == today:
        return Msg(f"card.due_today_{kind}")
    return Msg(f"card.due_{kind}", {"date": shown})
