"""Queries of the working day: cases due by a date, and once-a-day markers."""

from __future__ import annotations

from datetime import date

from bot.core.digest import DueCase
from bot.storage.sqlite.rows import Connection, all_rows


class WorkdayRows:
    """Cases due by a date, and once-a-day markers."""

    db: Connection

    async def list_cases_due(self, until: date) -> list[DueCase]:
        """Return the open cases due on or before ``until``, earliest first."""
        rows = await all_rows(
            self.db,
            "SELECT reference, category, assignee, due_on,"
            " CASE WHEN first_reply_at IS NULL AND reply_by = due_on THEN 'reply' ELSE 'chase' END"
            " FROM cases WHERE is_open = 1 AND due_on <= ? ORDER BY due_on, id",
            (until.isoformat(),),
        )
        return [DueCase(r[0], r[1], r[2], date.fromisoformat(r[3]), r[4]) for r in rows]

    async def claim_day(self, what: str, day: date) -> bool:
        """Record that ``what`` was done on ``day``; return False if it already was."""
        cursor = await self.db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
            " WHERE value < excluded.value",
            (f"day:{what}", day.isoformat()),
        )
        return cursor.rowcount == 1
