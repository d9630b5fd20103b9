"""Messages the bot posted about a case on the staff side, so an erasure can take them down."""

from __future__ import annotations

from datetime import datetime

from bot.storage.records import CasePost
from bot.storage.sqlite.rows import Connection, all_rows


class PostRows:
    """Where the bot posted about each case."""

    db: Connection

    async def record_post(
        self,
        case_id: int,
        chat_id: int,
        message_id: int,
        thread_id: int | None,
        at: datetime,
        answerable: bool = False,
    ) -> None:
        """Remember a message the bot posted about a case on the staff side (a gone case: no).

        A reply to an ``answerable`` one (a relayed message) answers the constituent.
        """
        await self.db.execute(
            "INSERT OR IGNORE INTO case_posts"
            " (case_id, chat_id, message_id, thread_id, sent_at, answerable)"
            " SELECT id, ?, ?, ?, ?, ? FROM cases WHERE id = ?",
            (chat_id, message_id, thread_id, at.isoformat(), int(answerable), case_id),
        )

    async def list_posts(self, case_id: int) -> list[CasePost]:
        """Return the messages the bot posted about a case on the staff side, oldest first."""
        rows = await all_rows(
            self.db,
            "SELECT chat_id, message_id, thread_id, sent_at FROM case_posts"
            " WHERE case_id = ? ORDER BY id",
            (case_id,),
        )
        return [CasePost(r[0], r[1], r[2], datetime.fromisoformat(r[3])) for r in rows]
