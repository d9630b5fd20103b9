"""Internal notes and the messages exchanged with the constituent, kept with each case."""

from __future__ import annotations

from datetime import datetime

from bot.storage.records import CaseMessage, MessageKind
from bot.storage.sqlite.rows import Connection
from bot.storage.sqlite.search import add_words


class MessageRows:
    """Internal notes and messages exchanged with the constituent."""

    db: Connection

    async def add_message(
        self, case_id: int, at: datetime, kind: MessageKind, author: int | None, text: str
    ) -> int:
        """Add a note or message to a case; return its id."""
        cursor = await self.db.execute(
            "INSERT INTO case_messages (case_id, at, kind, author, text) VALUES (?, ?, ?, ?, ?)",
            (case_id, at.isoformat(), kind, author, text),
        )
        assert cursor.lastrowid is not None
        await add_words(self.db, case_id, text)
        return cursor.lastrowid

    async def set_telegram_message(self, message_id: int, telegram_message_id: int) -> None:
        """Remember which Telegram message carried a reply, so a reply to it finds the case."""
        await self.db.execute(
            "UPDATE case_messages SET telegram_message_id = ? WHERE id = ?",
            (telegram_message_id, message_id),
        )

    async def list_messages(self, case_id: int) -> list[CaseMessage]:
        """Return a case's notes and messages, oldest first."""
        async with self.db.execute(
            "SELECT id, at, kind, author, text FROM case_messages WHERE case_id = ? ORDER BY id",
            (case_id,),
        ) as cursor:
            return [
                CaseMessage(r[0], datetime.fromisoformat(r[1]), r[2], r[3], r[4])
                async for r in cursor
            ]

    async def case_for_reply(self, chat_id: int, telegram_message_id: int) -> int | None:
        """Return the case whose message to ``chat_id`` the constituent replied to, if any."""
        async with self.db.execute(
            "SELECT m.case_id FROM case_messages m JOIN cases c ON c.id = m.case_id"
            " WHERE c.chat_id = ? AND m.telegram_message_id = ? AND m.kind = 'to_constituent'",
            (chat_id, telegram_message_id),
        ) as cursor:
            row = await cursor.fetchone()
        return None if row is None else int(row[0])
