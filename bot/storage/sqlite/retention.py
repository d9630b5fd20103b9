"""Queries for the retention sweep and for constituents' data rights."""

from __future__ import annotations

from datetime import datetime

from bot.storage.sqlite.database import Connection


async def list_idle_drafts(db: Connection, idle_since: datetime) -> list[tuple[int, int, str]]:
    """Return (user id, chat id, state) of drafts untouched since ``idle_since``."""
    async with db.execute(
        "SELECT user_id, chat_id, state FROM drafts WHERE updated_at < ?", (idle_since.isoformat(),)
    ) as cursor:
        return [(int(r[0]), int(r[1]), str(r[2])) async for r in cursor]


async def set_draft_state(db: Connection, user_id: int, state: str) -> None:
    """Replace a draft's stored state without touching when it was last used."""
    await db.execute("UPDATE drafts SET state = ? WHERE user_id = ?", (state, user_id))


async def list_expired_cases(db: Connection, closed_before: datetime) -> list[tuple[int, str]]:
    """Return (id, reference) of closed cases last changed before ``closed_before``."""
    async with db.execute(
        "SELECT id, reference FROM cases WHERE is_open = 0 AND updated_at < ?",
        (closed_before.isoformat(),),
    ) as cursor:
        return [(int(r[0]), str(r[1])) async for r in cursor]


async def delete_case(db: Connection, case_id: int) -> None:
    """Delete a case with its consent record, notes, messages and anything owed about it."""
    await db.execute("DELETE FROM cases WHERE id = ?", (case_id,))


async def withdraw_consent(db: Connection, case_id: int, at: datetime) -> None:
    """Record that consent on a case was withdrawn."""
    await db.execute(
        "UPDATE consents SET withdrawn_at = ? WHERE case_id = ? AND withdrawn_at IS NULL",
        (at.isoformat(), case_id),
    )
