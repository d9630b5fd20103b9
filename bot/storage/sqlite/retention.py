"""Queries for the retention sweep and for constituents' data rights."""

from __future__ import annotations

from datetime import datetime

from bot.core.draft import Draft
from bot.storage.records import IdleDraft
from bot.storage.sqlite.rows import Connection, all_rows


class RetentionRows:
    """What the retention sweep and data rights read and delete."""

    db: Connection

    async def list_idle_drafts(self, idle_since: datetime) -> list[IdleDraft]:
        """Return the drafts untouched since ``idle_since``."""
        rows = await all_rows(
            self.db,
            "SELECT user_id, chat_id, state FROM drafts WHERE updated_at < ?",
            (idle_since.isoformat(),),
        )
        return [IdleDraft(int(r[0]), int(r[1]), Draft.model_validate_json(r[2])) for r in rows]

    async def set_draft_state(self, user_id: int, draft: Draft) -> None:
        """Replace a draft's stored state without touching when it was last used."""
        await self.db.execute(
            "UPDATE drafts SET state = ? WHERE user_id = ?", (draft.model_dump_json(), user_id)
        )

    async def list_expired_cases(self, closed_before: datetime) -> list[tuple[int, str]]:
        """Return (id, reference) of closed cases last changed before ``closed_before``."""
        async with self.db.execute(
            "SELECT id, reference FROM cases WHERE is_open = 0 AND updated_at < ?",
            (closed_before.isoformat(),),
        ) as cursor:
            return [(int(r[0]), str(r[1])) async for r in cursor]

    async def delete_case(self, case_id: int) -> None:
        """Delete a case with its consent record, notes, messages and anything owed about it."""
        await self.db.execute("DELETE FROM cases WHERE id = ?", (case_id,))

    async def withdraw_consent(self, case_id: int, at: datetime) -> None:
        """Record that consent on a case was withdrawn."""
        await self.db.execute(
            "UPDATE consents SET withdrawn_at = ? WHERE case_id = ? AND withdrawn_at IS NULL",
            (at.isoformat(), case_id),
        )
