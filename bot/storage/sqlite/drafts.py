"""Drafts in progress, one per constituent, stored whole after every accepted answer."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from bot.core.case import Case
from bot.core.draft import Draft
from bot.storage.sqlite.rows import Connection, first_row

# The language a chat's person reads: their draft's, else their latest case's (no row: none).
LANGUAGE_OF_CHAT = (
    "SELECT language FROM drafts WHERE chat_id = :chat UNION ALL SELECT * FROM"
    " (SELECT language FROM cases WHERE chat_id = :chat ORDER BY created_at DESC, id DESC"
    " LIMIT 1) LIMIT 1"
)


class DraftRows:
    """Drafts in progress, one per constituent."""

    db: Connection

    async def get_draft(self, user_id: int) -> Draft | None:
        """Return the constituent's draft, if they have one."""
        row = await first_row(self.db, "SELECT state FROM drafts WHERE user_id = ?", (user_id,))
        return None if row is None else Draft.model_validate_json(row[0])

    async def claim_draft(
        self, update_id: int, user_id: int, now: datetime
    ) -> tuple[bool, Draft | None]:
        """Record an update as processed and read the sender's draft, in one trip.

        Return False (and no draft) if the update already was processed.
        """

        def claim(raw: sqlite3.Connection) -> tuple[bool, str | None]:
            cursor = raw.execute(
                "INSERT OR IGNORE INTO processed_updates (update_id, processed_at) VALUES (?, ?)",
                (update_id, now.isoformat()),
            )
            if cursor.rowcount != 1:
                return False, None
            row = raw.execute("SELECT state FROM drafts WHERE user_id = ?", (user_id,)).fetchone()
            return True, None if row is None else str(row[0])

        fresh, state = await self.db.run(claim)
        return fresh, None if state is None else Draft.model_validate_json(state)

    async def save_draft(self, user_id: int, chat_id: int, draft: Draft) -> None:
        """Store the draft, replacing the earlier state."""
        self.db.defer(
            "INSERT INTO drafts (user_id, chat_id, state, updated_at, language)"
            " VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET"
            " chat_id = excluded.chat_id, state = excluded.state, updated_at = excluded.updated_at,"
            " language = excluded.language",
            (
                user_id,
                chat_id,
                draft.model_dump_json(),
                draft.updated_at.isoformat(),
                draft.language,
            ),
        )

    async def delete_draft(self, user_id: int) -> None:
        """Delete the constituent's draft and every answer in it."""
        self.db.defer("DELETE FROM drafts WHERE user_id = ?", (user_id,))

    async def language_of(self, chat_id: int) -> str | None:
        """Return the language a constituent chose: their draft's, else their latest case's."""
        row = await first_row(self.db, LANGUAGE_OF_CHAT, {"chat": chat_id})
        return None if row is None else str(row[0])

    async def set_language(self, user_id: int, language: str) -> None:
        """Record a constituent's new choice of language on their draft and on their cases."""
        async with self.db.execute(
            "SELECT id, data FROM cases WHERE user_id = ? AND language != ?", (user_id, language)
        ) as cursor:
            rows = list(await cursor.fetchall())
        for case_id, data in rows:
            case = Case.model_validate_json(data).in_language(language)
            await self.db.execute(
                "UPDATE cases SET language = ?, data = ? WHERE id = ?",
                (language, case.model_dump_json(), case_id),
            )

    async def count_drafts(self) -> int:
        """Return how many drafts are stored."""
        async with self.db.execute("SELECT count(*) FROM drafts") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0
