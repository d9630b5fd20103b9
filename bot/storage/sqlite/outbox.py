"""The outbox: every message the office owes someone, written in the transaction that owes it.

A delivery worker sends entries after the commit and marks them sent, so a crash, a restart
or a Telegram outage delays a message but never loses it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from datetime import datetime

from bot.core.case import Case
from bot.core.catalogue import Msg
from bot.core.outbox import Cleanup, FileRef, OwedMessage, Priority
from bot.storage.records import ChatLane, OutboxEntry, StoredCase, SummaryPlace
from bot.storage.sqlite.drafts import LANGUAGE_OF_CHAT
from bot.storage.sqlite.rows import Connection, all_rows, first_row

# A lane is a private chat, or one case's messages in a group (cases in the staff group go side
# by side), or a group's summary of open cases; this is "e is in o's lane".
_SAME_LANE = (
    "e.chat_id = o.chat_id AND (o.chat_id > 0 OR (e.case_id IS o.case_id"
    " AND (e.kind = 'summary') = (o.kind = 'summary')))"
)
# The oldest pending entry of each lane is due to be sent; a lane keeps its order.
_HEAD_OF_LANE = (
    "NOT EXISTS (SELECT 1 FROM outbox e WHERE e.state = 'pending' AND e.id < o.id"  # noqa: S608
    f" AND {_SAME_LANE})"
)
# A group's lane goes as early as the most pressing entry it holds (an urgent notice behind a
# relay); a private chat is one lane, and its head's priority is what it has.
_LANE_PRIORITY = (
    "CASE WHEN o.chat_id > 0 THEN o.priority ELSE (SELECT min(e.priority) FROM outbox e"  # noqa: S608
    f" WHERE e.state = 'pending' AND {_SAME_LANE}) END"
)
# A card's entry comes with its case, as it is now.
_COLUMNS = (
    "o.id, o.kind, o.chat_id, o.case_id, o.payload, o.attempts, o.created_at, {priority},"
    " c.topic_id, c.is_open, c.card_message_id, CASE WHEN o.kind = 'card' THEN c.data END"
)
# Within a chat, lanes go by priority, then age; across chats, each chat's first lane comes
# before any chat's second, so a backlog of cards for many cases in the staff group never
# crowds a private chat's message out of the first ``limit``. Cases are read for the listed
# entries only.
_LIST_DUE = (
    f"SELECT {_COLUMNS.format(priority='h.lane_priority')} FROM ("  # noqa: S608
    "SELECT id, lane_priority, row_number() OVER (PARTITION BY chat_id"
    " ORDER BY lane_priority, id) AS turn FROM ("
    f"SELECT o.id, o.chat_id, {_LANE_PRIORITY} AS lane_priority FROM outbox o"
    f" WHERE o.state = 'pending' AND o.due_at <= ? AND {_HEAD_OF_LANE})"
    " ORDER BY turn, id LIMIT ?) h JOIN outbox o ON o.id = h.id"
    " LEFT JOIN cases c ON c.id = o.case_id ORDER BY h.turn, h.id"
)
_NEXT_DUE = f"SELECT min(due_at) FROM outbox o WHERE state = 'pending' AND {_HEAD_OF_LANE}"  # noqa: S608
# The entries waiting behind one, in its lane, in order.
_BEHIND = (
    f"SELECT {_COLUMNS.format(priority='o.priority')} FROM outbox o"  # noqa: S608
    " LEFT JOIN cases c ON c.id = o.case_id"
    " WHERE o.state = 'pending' AND o.chat_id = ? AND o.id > ?"
    " AND (o.chat_id > 0 OR o.case_id IS ?) ORDER BY o.id LIMIT ?"
)
# A private chat's lane in order, with the language its person reads (that of their draft,
# else of their latest case; the same for every row, worked out once).
_CHAT_LANE = (
    f"SELECT {_COLUMNS.format(priority='o.priority')}, o.due_at, ({LANGUAGE_OF_CHAT})"  # noqa: S608
    " FROM outbox o LEFT JOIN cases c ON c.id = o.case_id"
    " WHERE o.chat_id = :chat AND o.state = 'pending' ORDER BY o.id LIMIT :limit"
)
# A delivered entry keeps only what it was (the trigger outbox_forgets_delivered would do the
# same, in a second write of the row): an intake's reply, that it was one.
MARK_SENT = (
    "UPDATE outbox SET state = 'sent', sent_at = ?, attempts = attempts + 1, payload = CASE"
    " WHEN json_extract(payload, '$.reply') IS NOT NULL THEN '{\"reply\":{}}' ELSE '{}' END"
    " WHERE id = ?"
)
# A card is shown once the case it showed is the case as it is (or is gone): a change made
# while it was in flight leaves it owed, to be brought up to date.
_MARK_CARD_SENT = f"{MARK_SENT} AND NOT EXISTS (SELECT 1 FROM cases WHERE id = ? AND data IS NOT ?)"  # noqa: S608
# A new case's card goes before other cards and messages; an urgent new case's first of all.
_CARD_PRIORITY = (
    "SELECT CASE WHEN card_message_id IS NOT NULL THEN 2 WHEN urgent = 1 THEN 0 ELSE 1 END"
    " FROM cases WHERE id = ?"
)


def _entry(row: sqlite3.Row, written: Mapping[str, OwedMessage] | None = None) -> OutboxEntry:
    kind = row[1]
    message = None
    if kind == "message":
        known = None if written is None else written.get(row[4])
        message = OwedMessage.model_validate_json(row[4]) if known is None else known
    cleanup = Cleanup.model_validate_json(row[4]) if kind == "cleanup" else None
    data = row[11]
    case = (
        None
        if data is None
        else StoredCase(row[3], Case.model_validate_json(data), row[10], row[8], data)
    )
    return OutboxEntry(
        row[0],
        kind,
        row[2],
        row[3],
        message,
        row[5],
        datetime.fromisoformat(row[6]),
        Priority(row[7]),
        cleanup,
        row[8],
        None if row[9] is None else bool(row[9]),
        row[10],
        case,
    )


def _chat_lane(
    rows: list[sqlite3.Row], written: Mapping[str, OwedMessage] | None = None
) -> ChatLane:
    waiting = [(_entry(row, written), datetime.fromisoformat(row[12])) for row in rows]
    language = rows[0][13] if rows else None
    return ChatLane(waiting, None if language is None else str(language))


class OutboxRows:
    """What the office owes someone, and how its delivery went."""

    db: Connection
    # The messages this transaction owed, by the payload stored for each: read back in the
    # same transaction, a payload is the message as made, so it need not be parsed again.
    written: dict[str, OwedMessage]

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
        priority: Priority = Priority.NORMAL,
        relayed: bool = False,
    ) -> None:
        """Owe ``chat_id`` the catalogue text ``msg`` (rendered when it is sent)."""
        owed = OwedMessage.of(
            msg,
            attachment=attachment,
            case_message_id=case_message_id,
            notice=notice,
            edit_message_id=edit_message_id,
            relayed=relayed,
        )
        self.db.defer(
            "INSERT INTO outbox (kind, chat_id, case_id, payload, created_at, due_at, priority)"
            " VALUES ('message', ?, ?, ?, ?, ?, ?)",
            (
                chat_id,
                case_id,
                self._payload(owed),
                now.isoformat(),
                now.isoformat(),
                int(priority),
            ),
        )

    async def owe_message(self, chat_id: int, owed: OwedMessage, now: datetime) -> None:
        """Owe ``chat_id`` a message made in full by the caller (an intake's reply)."""
        self.db.defer(
            "INSERT INTO outbox (kind, chat_id, payload, created_at, due_at)"
            " VALUES ('message', ?, ?, ?, ?)",
            (chat_id, self._payload(owed), now.isoformat(), now.isoformat()),
        )

    def _payload(self, owed: OwedMessage) -> str:
        payload = owed.model_dump_json()
        self.written[payload] = owed
        return payload

    async def lane_of_chat(self, chat_id: int, limit: int) -> ChatLane:
        """Return the first ``limit`` entries waiting for a private chat, in order, with when
        each is due, and the language its person reads, in one read."""
        return _chat_lane(await all_rows(self.db, _CHAT_LANE, {"chat": chat_id, "limit": limit}))

    def lane_with_commit(self, chat_id: int, limit: int) -> Callable[[], ChatLane | None]:
        """Ask for the chat's lane as it stands when this transaction commits, read in the
        same trip as the COMMIT; call the result once committed (None: it was not read)."""
        fetched = self.db.defer_read(_CHAT_LANE, {"chat": chat_id, "limit": limit})
        written = self.written
        return lambda: None if fetched.rows is None else _chat_lane(fetched.rows, written)

    async def owe_card(self, case_id: int, chat_id: int, now: datetime) -> None:
        """Owe the staff group an up-to-date card for a case (one waiting update per case).

        A case's first card is owed before other cards and messages, an urgent case's first.
        """
        self.db.defer(
            "INSERT OR IGNORE INTO outbox (kind, chat_id, case_id, created_at, due_at, priority)"  # noqa: S608
            f" VALUES ('card', ?, ?, ?, ?, coalesce(({_CARD_PRIORITY}), ?))",
            (chat_id, case_id, now.isoformat(), now.isoformat(), case_id, int(Priority.NORMAL)),
        )

    async def owe_cleanup(self, chat_id: int, cleanup: Cleanup, now: datetime) -> None:
        """Owe a chat the removal of an erased case's topic or messages."""
        await self.db.execute(
            "INSERT INTO outbox (kind, chat_id, payload, created_at, due_at)"
            " VALUES ('cleanup', ?, ?, ?, ?)",
            (chat_id, cleanup.model_dump_json(), now.isoformat(), now.isoformat()),
        )

    async def owe_summary(self, chat_id: int, now: datetime) -> None:
        """Owe the staff group an up-to-date summary of open cases (one waiting update)."""
        self.db.defer(
            "INSERT OR IGNORE INTO outbox (kind, chat_id, created_at, due_at, priority)"
            " VALUES ('summary', ?, ?, ?, ?)",
            (chat_id, now.isoformat(), now.isoformat(), int(Priority.BACKGROUND)),
        )

    async def list_due(self, now: datetime, limit: int = 50) -> list[OutboxEntry]:
        """Return entries due now, each the oldest waiting in its lane (so its order holds).

        Within a chat, lanes go by priority and then age; chats take turns: every chat's
        first due lane is listed before any chat's second. Each entry's priority is its
        lane's: that of the most pressing entry waiting in it.
        """
        rows = await all_rows(self.db, _LIST_DUE, (now.isoformat(), limit))
        return [_entry(row) for row in rows]

    async def list_due_and_next(
        self, now: datetime, limit: int = 50
    ) -> tuple[list[OutboxEntry], datetime | None]:
        """Return ``list_due(now, limit)`` and when the next entry that can be sent falls due
        (None: nothing waits), read in one trip."""
        following = self.db.defer_read(_NEXT_DUE)
        entries = await self.list_due(now, limit)
        due = next(iter(following.rows or ()), None)
        return entries, None if due is None or due[0] is None else datetime.fromisoformat(due[0])

    async def list_behind(self, entry: OutboxEntry, limit: int = 20) -> list[OutboxEntry]:
        """Return the entries waiting behind ``entry`` in its lane, oldest first."""
        rows = await all_rows(self.db, _BEHIND, (entry.chat_id, entry.id, entry.case_id, limit))
        return [_entry(row) for row in rows]

    async def mark_sent(self, entry_id: int, now: datetime) -> None:
        """Record that an entry was delivered."""
        self.db.defer(MARK_SENT, (now.isoformat(), entry_id))

    async def mark_card_sent(self, entry_id: int, shown: StoredCase, now: datetime) -> None:
        """Record a card delivered, unless its case has changed since ``shown`` was read."""
        if shown.version is None:
            self.db.defer(MARK_SENT, (now.isoformat(), entry_id))
        else:
            self.db.defer(_MARK_CARD_SENT, (now.isoformat(), entry_id, shown.id, shown.version))

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

    async def get_summary(self) -> SummaryPlace:
        """Return where the staff group's summary of open cases is (nowhere yet: Nones)."""
        row = await first_row(self.db, "SELECT value FROM meta WHERE key = 'summary'")
        if row is None:
            return SummaryPlace(None, None)
        topic, _, message = str(row[0]).partition(":")
        return SummaryPlace(int(topic) if topic else None, int(message) if message else None)

    async def set_summary(self, place: SummaryPlace) -> None:
        """Remember where the summary of open cases is."""
        value = f"{place.topic_id or ''}:{place.message_id or ''}"
        await self.db.execute(
            "INSERT INTO meta (key, value) VALUES ('summary', ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (value,),
        )
