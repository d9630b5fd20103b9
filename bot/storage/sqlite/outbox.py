"""The outbox: every message the office owes someone, written in the transaction that owes it.

A delivery worker sends entries after the commit and marks them sent, so a crash, a restart
or a Telegram outage delays a message but never loses it.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from bot.core.catalogue import Msg
from bot.core.outbox import FileRef, OwedMessage
from bot.storage.records import OutboxEntry
from bot.storage.sqlite.rows import Connection, all_rows, first_row

# The oldest pending entry of each lane is due to be sent; a lane keeps its order. A lane is a
# private chat, or one case's messages in a group (cases in the staff group go side by side).
_HEAD_OF_LANE = (
    "NOT EXISTS (SELECT 1 FROM outbox e WHERE e.chat_id = o.chat_id AND e.state = 'pending'"
    " AND e.id < o.id AND (o.chat_id > 0 OR e.case_id IS o.case_id))"
)
# Each chat's oldest lane comes before any chat's second lane, so a backlog of cards for many
# cases in the staff group never crowds a private chat's message out of the first ``limit``.
_LIST_DUE = (
    "SELECT id, kind, chat_id, case_id, payload, attempts, created_at FROM ("  # noqa: S608
    "SELECT *, row_number() OVER (PARTITION BY chat_id ORDER BY id) AS turn FROM outbox o"
    f" WHERE state = 'pending' AND due_at <= ? AND {_HEAD_OF_LANE}) ORDER BY turn, id LIMIT ?"
)
_NEXT_DUE = f"SELECT min(due_at) FROM outbox o WHERE state = 'pending' AND {_HEAD_OF_LANE}"  # noqa: S608


def _entry(row: sqlite3.Row) -> OutboxEntry:
    message = OwedMessage.model_validate_json(row[4]) if row[1] == "message" else None
    return OutboxEntry(
        row[0], row[1], row[2], row[3], message, row[5], datetime.fromisoformat(row[6])
    )


class OutboxRows:
    """What the office owes someone, and how its delivery went."""

    db: Connection

    async def owe(
        self,
        chat_id: int,
        msg: Msg,
        now: datetime,
        case_id: int | None = None,
        *,
        attachment: FileRef | None = None,
        case_message_id: int | None = None,
        notice: bool = False,
        edit_message_id: int | None = None,
    ) -> None:
        """Owe ``chat_id`` the catalogue text ``msg`` (rendered when it is sent)."""
        owed = OwedMessage.of(
            msg,
            attachment=attachment,
            case_message_id=case_message_id,
            notice=notice,
            edit_message_id=edit_message_id,
        )
        await self.db.execute(
            "INSERT INTO outbox (kind, chat_id, case_id, payload, created_at, due_at)"
            " VALUES ('message', ?, ?, ?, ?, ?)",
            (chat_id, case_id, owed.model_dump_json(), now.isoformat(), now.isoformat()),
        )

    async def owe_message(self, chat_id: int, owed: OwedMessage, now: datetime) -> None:
        """Owe ``chat_id`` a message made in full by the caller (an intake's reply)."""
        await self.db.execute(
            "INSERT INTO outbox (kind, chat_id, payload, created_at, due_at)"
            " VALUES ('message', ?, ?, ?, ?)",
            (chat_id, owed.model_dump_json(), now.isoformat(), now.isoformat()),
        )

    async def head_of_chat(self, chat_id: int) -> tuple[OutboxEntry, datetime] | None:
        """Return the oldest entry waiting for a private chat (its one lane), and when it is due."""
        row = await first_row(
            self.db,
            "SELECT id, kind, chat_id, case_id, payload, attempts, created_at, due_at FROM outbox"
            " WHERE chat_id = ? AND state = 'pending' ORDER BY id LIMIT 1",
            (chat_id,),
        )
        return None if row is None else (_entry(row), datetime.fromisoformat(row[7]))

    async def owe_card(self, case_id: int, chat_id: int, now: datetime) -> None:
        """Owe the staff group an up-to-date card for a case (one waiting update per case)."""
        await self.db.execute(
            "INSERT OR IGNORE INTO outbox (kind, chat_id, case_id, created_at, due_at)"
            " VALUES ('card', ?, ?, ?, ?)",
            (chat_id, case_id, now.isoformat(), now.isoformat()),
        )

    async def list_due(self, now: datetime, limit: int = 50) -> list[OutboxEntry]:
        """Return entries due now, each the oldest waiting in its lane (so its order holds).

        Chats take turns: every chat's first due lane is listed before any chat's second.
        """
        rows = await all_rows(
            self.db,
            _LIST_DUE,
            (now.isoformat(), limit),
        )
        return [_entry(row) for row in rows]

    async def next_due(self) -> datetime | None:
        """Return when the next entry that can be sent falls due, or None if nothing waits."""
        row = await first_row(
            self.db,
            _NEXT_DUE,
        )
        return None if row is None or row[0] is None else datetime.fromisoformat(row[0])

    async def mark_sent(self, entry_id: int, now: datetime) -> None:
        """Record that an entry was delivered."""
        await self.db.execute(
            "UPDATE outbox SET state = 'sent', sent_at = ?, attempts = attempts + 1 WHERE id = ?",
            (now.isoformat(), entry_id),
        )

    async def mark_retry(self, entry_id: int, due: datetime, error: str) -> None:
        """Record a failed attempt and when to try again."""
        await self.db.execute(
            "UPDATE outbox SET due_at = ?, attempts = attempts + 1, last_error = ? WHERE id = ?",
            (due.isoformat(), error, entry_id),
        )

    async def mark_failed(self, entry_id: int, error: str) -> None:
        """Record that an entry cannot be delivered (retrying would not help)."""
        await self.db.execute(
            "UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = ?"
            " WHERE id = ?",
            (error, entry_id),
        )

    async def count_pending(self) -> int:
        """Return how many entries are waiting."""
        row = await first_row(self.db, "SELECT count(*) FROM outbox WHERE state = 'pending'")
        return int(row[0]) if row else 0
