"""Processed updates, blocked senders and anonymous counts."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from bot.storage.sqlite.rows import Connection, first_row
from bot.storage.store import AlreadyProcessed

CLAIM = "INSERT OR IGNORE INTO processed_updates (update_id, processed_at) VALUES (?, ?)"


class GuardRows:
    """Processed updates, blocked senders and anonymous counts."""

    db: Connection

    async def mark_processed(self, update_id: int, now: datetime) -> bool:
        """Record an update as processed; return False if it already was."""
        cursor = await self.db.execute(CLAIM, (update_id, now.isoformat()))
        return cursor.rowcount == 1

    def claim_update(self, update_id: int, now: datetime) -> None:
        """Record an update as processed with the transaction's next statement.

        If it already was, AlreadyProcessed is raised from there and nothing is committed.
        """
        self.db.defer(CLAIM, (update_id, now.isoformat()), unless_one=AlreadyProcessed)

    async def admission(self, update_id: int, user_id: int) -> tuple[bool, bool]:
        """Return (already processed, sender blocked) in one query."""
        row = await first_row(
            self.db,
            "SELECT EXISTS (SELECT 1 FROM processed_updates WHERE update_id = ?),"
            " EXISTS (SELECT 1 FROM blocked_users WHERE user_id = ?)",
            (update_id, user_id),
        )
        assert row is not None
        return bool(row[0]), bool(row[1])

    async def guard_state(self) -> tuple[set[int], int]:
        """Return the blocked senders and the newest processed update id (0: none), in one read."""

        def read(raw: sqlite3.Connection) -> tuple[set[int], int]:
            blocked = {int(row[0]) for row in raw.execute("SELECT user_id FROM blocked_users")}
            newest = raw.execute("SELECT max(update_id) FROM processed_updates").fetchone()[0]
            return blocked, int(newest or 0)

        return await self.db.run(read)

    async def forget_processed(self, before: datetime) -> int:
        """Forget processed updates older than ``before`` (Telegram redelivers for a day)."""
        cursor = await self.db.execute(
            "DELETE FROM processed_updates WHERE processed_at < ?", (before.isoformat(),)
        )
        return cursor.rowcount

    async def adopt_bot(self, bot_id: int) -> int:
        """Record whose update ids these are; forget another bot's. Return how many were."""
        row = await first_row(self.db, "SELECT value FROM meta WHERE key = 'bot_id'")
        forgotten = 0
        if row is not None and row[0] != str(bot_id):
            # Update ids count per bot: another bot's would make this one's look processed.
            for table in ("processed_updates", "inbox"):
                cursor = await self.db.execute(f"DELETE FROM {table}")  # noqa: S608
                forgotten += cursor.rowcount
        await self.db.execute(
            "INSERT INTO meta (key, value) VALUES ('bot_id', ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (str(bot_id),),
        )
        return forgotten

    async def block(self, user_id: int, now: datetime, by: int, case_ref: str) -> None:
        """Block a sender: their messages are no longer processed."""
        await self.db.execute(
            "INSERT OR REPLACE INTO blocked_users (user_id, blocked_at, blocked_by, case_ref)"
            " VALUES (?, ?, ?, ?)",
            (user_id, now.isoformat(), by, case_ref),
        )

    async def unblock(self, user_id: int) -> bool:
        """Unblock a sender; return False if they were not blocked."""
        cursor = await self.db.execute("DELETE FROM blocked_users WHERE user_id = ?", (user_id,))
        return cursor.rowcount == 1

    async def count_outcome(self, day: str, outcome: str) -> None:
        """Add one to the anonymous count of intakes that ended this way on this day."""
        self.db.defer(
            "INSERT INTO intake_counts (day, outcome, count) VALUES (?, ?, 1)"
            " ON CONFLICT (day, outcome) DO UPDATE SET count = count + 1",
            (day, outcome),
        )
