"""Erasing a case, the one way every path does it: nothing personal left, a record for staff."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.core.catalogue import Msg
from bot.core.dates import long_date
from bot.core.outbox import DELETE_BATCH, Cleanup
from bot.storage.records import CasePost, ErasureReason, StoredCase
from bot.storage.store import Tx

# Telegram lets a bot delete its messages for 48 hours; an hour is left for the outbox to do it.
DELETABLE_FOR = timedelta(hours=47)


async def erase_case(
    tx: Tx,
    stored: StoredCase,
    now: datetime,
    reason: ErasureReason,
    staff_chat_id: int,
    actor: int | None = None,
) -> None:
    """Delete a case with everything kept with it, record the erasure, and take it off Telegram.

    A case with a forum topic has the topic deleted, and every message in it with it. In a
    flat group the card is edited to say only that the case was erased; there, and in staff
    members' private chats, every other message the bot posted about the case is deleted
    while Telegram still allows it. The caller scrubs the store after the transaction
    commits, so no copy of the deleted rows stays in the database's files.
    """
    reference = stored.case.reference
    posts = await tx.list_posts(stored.id)
    await tx.erase_case(stored, now, reason)
    action = "erased_on_request" if reason == "request" else "deleted_by_retention"
    await tx.record(now, actor, action, reference)
    if stored.topic_id is not None:
        topic = Cleanup(topic_id=stored.topic_id, reference=reference)
        await tx.owe_cleanup(staff_chat_id, topic, now)
        await tx.owe_summary(staff_chat_id, now)
    elif stored.card_message_id is not None:
        key = "card.erased" if reason == "request" else "card.erased_by_retention"
        tombstone = Msg(key, {"reference": reference, "date": long_date(now.date())})
        await tx.owe(staff_chat_id, tombstone, now, edit_message_id=stored.card_message_id)
    for chat_id, message_ids in _deletable(posts, stored, staff_chat_id, now).items():
        for start in range(0, len(message_ids), DELETE_BATCH):
            batch = tuple(message_ids[start : start + DELETE_BATCH])
            await tx.owe_cleanup(chat_id, Cleanup(message_ids=batch, reference=reference), now)


def _deletable(
    posts: list[CasePost], stored: StoredCase, staff_chat_id: int, now: datetime
) -> dict[int, list[int]]:
    """Return, by chat, the bot's messages about a case that can and must still be deleted."""
    found: dict[int, list[int]] = {}
    for post in posts:
        in_topic = post.chat_id == staff_chat_id and post.thread_id == stored.topic_id
        if (stored.topic_id is not None and in_topic) or now - post.sent_at >= DELETABLE_FOR:
            continue  # gone with the topic, or too old for Telegram to delete
        found.setdefault(post.chat_id, []).append(post.message_id)
    return found


def erased_notice(reference: str, erased_at: datetime, reason: ErasureReason) -> Msg:
    """Return what staff are told when they look up a case that was erased."""
    key = "staff.erased" if reason == "request" else "staff.erased_by_retention"
    return Msg(key, {"reference": reference, "date": long_date(erased_at.date())})
