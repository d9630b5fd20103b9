"""Erasing a case, the one way every path does it: nothing personal left, a record for staff."""

from __future__ import annotations

from datetime import datetime

from bot.core.catalogue import Msg
from bot.core.dates import long_date
from bot.storage.records import ErasureReason, StoredCase
from bot.storage.store import Tx


async def erase_case(
    tx: Tx,
    stored: StoredCase,
    now: datetime,
    reason: ErasureReason,
    staff_chat_id: int,
    actor: int | None = None,
) -> None:
    """Delete a case with everything kept with it, record the erasure, and blank its card.

    The card in the staff group shows the constituent's name and what they wrote, so it is
    edited to say only that the case was erased. The caller scrubs the store after the
    transaction commits, so no copy of the deleted rows stays in the database's files.
    """
    reference = stored.case.reference
    await tx.erase_case(stored, now, reason)
    action = "erased_on_request" if reason == "request" else "deleted_by_retention"
    await tx.record(now, actor, action, reference)
    if stored.card_message_id is not None:
        key = "card.erased" if reason == "request" else "card.erased_by_retention"
        tombstone = Msg(key, {"reference": reference, "date": long_date(now.date())})
        await tx.owe(staff_chat_id, tombstone, now, edit_message_id=stored.card_message_id)


def erased_notice(reference: str, erased_at: datetime, reason: ErasureReason) -> Msg:
    """Return what staff are told when they look up a case that was erased."""
    key = "staff.erased" if reason == "request" else "staff.erased_by_retention"
    return Msg(key, {"reference": reference, "date": long_date(erased_at.date())})
