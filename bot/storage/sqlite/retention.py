"""Queries for the retention sweep and for constituents' data rights."""

from __future__ import annotations

from datetime import datetime

from bot.core.case import Case
from bot.core.draft import Draft
from bot.storage.records import Erasure, ErasureReason, IdleDraft, StoredCase
from bot.storage.sqlite.rows import Connection, all_rows, first_row
from bot.storage.sqlite.search import forget


class RetentionRows:
    """What the retention sweep and data rights read and delete."""

    db: Connection
    draft_changes: dict[int, Draft | None]

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
        self.draft_changes[user_id] = draft

    async def list_expired_cases(self, closed_before: datetime) -> list[StoredCase]:
        """Return the closed cases last changed before ``closed_before``."""
        rows = await all_rows(
            self.db,
            "SELECT id, data, card_message_id, topic_id FROM cases"
            " WHERE is_open = 0 AND updated_at < ?",
            (closed_before.isoformat(),),
        )
        return [StoredCase(r[0], Case.model_validate_json(r[1]), r[2], r[3]) for r in rows]

    async def erase_case(self, stored: StoredCase, at: datetime, reason: ErasureReason) -> None:
        """Delete a case with everything kept with it, leaving only a record of the erasure."""
        await self.db.execute(
            "INSERT OR REPLACE INTO erasures (reference, erased_at, reason, card_message_id)"
            " VALUES (?, ?, ?, ?)",
            (stored.case.reference, at.isoformat(), reason, stored.card_message_id),
        )
        await self.db.execute("DELETE FROM cases WHERE id = ?", (stored.id,))
        await forget(self.db, stored.id)

    async def get_erasure(self, reference: str) -> Erasure | None:
        """Return the record of an erased case, if the case with ``reference`` was erased."""
        row = await first_row(
            self.db,
            "SELECT reference, erased_at, reason, card_message_id FROM erasures"
            " WHERE reference = ?",
            (reference,),
        )
        if row is None:
            return None
        return Erasure(row[0], datetime.fromisoformat(row[1]), row[2], row[3])

    async def withdraw_consent(self, case_id: int, at: datetime) -> None:
        """Record that consent on a case was withdrawn."""
        await self.db.execute(
            "UPDATE consents SET withdrawn_at = ? WHERE case_id = ? AND withdrawn_at IS NULL",
            (at.isoformat(), case_id),
        )
