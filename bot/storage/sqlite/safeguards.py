"""Processed updates, blocked senders and anonymous counts."""

from __future__ import annotations

from datetime import datetime

from bot.storage.sqlite.database import Connection, first_row


async def was_processed(db: Connection, update_id: int) -> bool:
    """Tell whether an update has already been processed."""
    sql = "SELECT 1 FROM processed_updates WHERE update_id = ?"
    return await first_row(db, sql, (update_id,)) is not None


async def mark_processed(db: Connection, update_id: int, now: datetime) -> bool:
    """Record an update as processed; return False if it already was."""
    cursor = await db.execute(
        "INSERT OR IGNORE INTO processed_updates (update_id, processed_at) VALUES (?, ?)",
        (update_id, now.isoformat()),
    )
    return cursor.rowcount == 1


async def admission(db: Connection, update_id: int, user_id: int) -> tuple[bool, bool]:
    """Return (already processed, sender blocked) in one query."""
    row = await first_row(
        db,
        "SELECT EXISTS (SELECT 1 FROM processed_updates WHERE update_id = ?),"
        " EXISTS (SELECT 1 FROM blocked_users WHERE user_id = ?)",
        (update_id, user_id),
    )
    assert row is not None
    return bool(row[0]), bool(row[1])


async def forget_processed(db: Connection, before: datetime) -> int:
    """Forget processed updates older than ``before`` (Telegram redelivers for a day at most)."""
    cursor = await db.execute(
        "DELETE FROM processed_updates WHERE processed_at < ?", (before.isoformat(),)
    )
    return cursor.rowcount


async def is_blocked(db: Connection, user_id: int) -> bool:
    """Tell whether staff have blocked this sender."""
    return (
        await first_row(db, "SELECT 1 FROM blocked_users WHERE user_id = ?", (user_id,)) is not None
    )


async def block(db: Connection, user_id: int, now: datetime, by: int, case_ref: str) -> None:
    """Block a sender: their messages are no longer processed."""
    await db.execute(
        "INSERT OR REPLACE INTO blocked_users (user_id, blocked_at, blocked_by, case_ref)"
        " VALUES (?, ?, ?, ?)",
        (user_id, now.isoformat(), by, case_ref),
    )


async def unblock(db: Connection, user_id: int) -> bool:
    """Unblock a sender; return False if they were not blocked."""
    cursor = await db.execute("DELETE FROM blocked_users WHERE user_id = ?", (user_id,))
    return cursor.rowcount == 1


async def count_outcome(db: Connection, day: str, outcome: str) -> None:
    """Add one to the anonymous count of intakes that ended this way on this day."""
    await db.execute(
        "INSERT INTO intake_counts (day, outcome, count) VALUES (?, ?, 1)"
        " ON CONFLICT (day, outcome) DO UPDATE SET count = count + 1",
        (day, outcome),
    )


async def list_counts(db: Connection) -> list[tuple[str, str, int]]:
    """Return the anonymous counts as (day, outcome, count)."""
    async with db.execute(
        "SELECT day, outcome, count FROM intake_counts ORDER BY day, outcome"
    ) as cursor:
        return [(r[0], r[1], int(r[2])) async for r in cursor]
