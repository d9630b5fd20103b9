"""Sent cases, their consent records, and the staff queue over them."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import date, datetime

from bot.core.case import Case, QueueFilter
from bot.core.search import case_text
from bot.core.workdays import london_date
from bot.storage.records import DuplicateReferenceError, QueueRow, StoredCase
from bot.storage.sqlite.rows import ROW_COLUMNS, Connection, all_rows, first_row, queue_row
from bot.storage.sqlite.search import index, index_new


def _columns(case: Case) -> tuple[object, ...]:
    return (
        case.status.value,
        case.category,
        int(case.urgency.urgent),
        case.updated_at.isoformat(),
        case.model_dump_json(),
        case.assignee,
        int(case.is_open),
        case.summary,
        case.reply_by.isoformat() if case.reply_by else None,
        case.due_on.isoformat() if case.due_on else None,
        case.first_reply_at.isoformat() if case.first_reply_at else None,
        case.closed_at.isoformat() if case.closed_at else None,
        london_date(case.first_reply_at).isoformat() if case.first_reply_at else None,
        _minutes(case.created_at, case.first_reply_at),
        _minutes(case.created_at, case.closed_at),
        _kept(case),
        case.language,
    )


def _minutes(start: datetime, end: datetime | None) -> int | None:
    return None if end is None else int((end - start).total_seconds() // 60)


def _kept(case: Case) -> int | None:
    """Return 1 if the first reply came by the promised date, 0 if later, None if none yet."""
    if case.first_reply_at is None or case.reply_by is None:
        return None
    return int(london_date(case.first_reply_at) <= case.reply_by)


_SELECT = "SELECT id, data, card_message_id, topic_id FROM cases"


def _stored(row: sqlite3.Row) -> StoredCase:
    return StoredCase(row[0], Case.model_validate_json(row[1]), row[2], row[3], row[1])


class CaseRows:
    """Sent cases, their consent records, and the queue over them."""

    db: Connection

    async def create_case(self, case: Case) -> int:
        """Store a new case with its consent record; return its row id."""
        try:
            cursor = await self.db.execute(
                "INSERT INTO cases (reference, user_id, chat_id, created_at, received_on,"
                " channel, status, category, urgent, updated_at, data, assignee, is_open,"
                " summary, reply_by, due_on, first_reply_at, closed_at, first_reply_on,"
                " reply_minutes, close_minutes, reply_kept, language)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    case.reference,
                    case.user_id,
                    case.chat_id,
                    case.created_at.isoformat(),
                    london_date(case.created_at).isoformat(),
                    case.channel.value,
                    *_columns(case),
                ),
            )
        except sqlite3.IntegrityError as exc:
            if "cases.reference" in str(exc):
                raise DuplicateReferenceError(case.reference) from exc
            raise
        case_id = cursor.lastrowid
        assert case_id is not None
        # Neither needs an answer: both go with the transaction's next trip.
        index_new(self.db, case_id, case_text(case))
        self.db.defer(
            "INSERT INTO consents (case_id, version, answer, recorded_at, wording, given_via,"
            " recorded_by, how) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                case_id,
                case.consent.version,
                case.consent.answer,
                case.consent.recorded_at.isoformat(),
                case.consent.wording,
                case.consent.given_via,
                case.consent.recorded_by,
                case.consent.how,
            ),
        )
        return case_id

    async def save_case(self, case_id: int, case: Case) -> None:
        """Store a changed case (status, assignee and so on)."""
        await self.db.execute(
            "UPDATE cases SET status = ?, category = ?, urgent = ?, updated_at = ?, data = ?,"
            " assignee = ?, is_open = ?, summary = ?, reply_by = ?, due_on = ?,"
            " first_reply_at = ?, closed_at = ?, first_reply_on = ?, reply_minutes = ?,"
            " close_minutes = ?, reply_kept = ?, language = ? WHERE id = ?",
            (*_columns(case), case_id),
        )
        await index(self.db, case_id, case_text(case))

    async def set_topic(self, case_id: int, topic_id: int | None) -> None:
        """Remember a case's topic in the staff group; None forgets it, and the card in it."""
        if topic_id is None:
            await self.db.execute(
                "UPDATE cases SET topic_id = NULL, card_message_id = NULL WHERE id = ?", (case_id,)
            )
        else:
            await self.db.execute("UPDATE cases SET topic_id = ? WHERE id = ?", (topic_id, case_id))

    async def case_for_topic(self, topic_id: int) -> StoredCase | None:
        """Return the case whose topic in the staff group this is, if any."""
        row = await first_row(self.db, f"{_SELECT} WHERE topic_id = ?", (topic_id,))
        return None if row is None else _stored(row)

    async def case_for_post(self, chat_id: int, message_id: int) -> StoredCase | None:
        """Return the case whose card, or relayed message, a staff-side message of the bot's is.

        Nothing else the bot posts about a case (a notice, a case view) finds it: a reply to
        those is talk among staff, not an answer to the constituent.
        """
        row = await first_row(
            self.db,
            f"{_SELECT} WHERE id = (SELECT case_id FROM case_posts"  # noqa: S608
            " WHERE chat_id = ? AND message_id = ? AND answerable = 1)",
            (chat_id, message_id),
        )
        if row is None and chat_id < 0:
            row = await first_row(self.db, f"{_SELECT} WHERE card_message_id = ?", (message_id,))
        return None if row is None else _stored(row)

    async def set_card_message(self, case_id: int, message_id: int) -> None:
        """Remember which staff-group message is the case's card (with the next trip)."""
        self.db.defer("UPDATE cases SET card_message_id = ? WHERE id = ?", (message_id, case_id))

    async def get_case(self, reference: str) -> StoredCase | None:
        """Return the case with ``reference``, if there is one."""
        row = await first_row(self.db, f"{_SELECT} WHERE reference = ?", (reference,))
        return None if row is None else _stored(row)

    async def get_case_by_id(self, case_id: int) -> StoredCase | None:
        """Return the case with row id ``case_id``, if there is one."""
        row = await first_row(self.db, f"{_SELECT} WHERE id = ?", (case_id,))
        return None if row is None else _stored(row)

    async def list_cases_for_user(self, user_id: int) -> list[StoredCase]:
        """Return a constituent's own cases, oldest first."""
        rows = await all_rows(
            self.db, f"{_SELECT} WHERE user_id = ? ORDER BY created_at, id", (user_id,)
        )
        return [_stored(row) for row in rows]

    async def list_queue(
        self,
        which: QueueFilter,
        *,
        staff_id: int | None = None,
        category: str | None = None,
        offset: int = 0,
        limit: int = 10,
        today: date | None = None,
    ) -> tuple[list[QueueRow], int]:
        """Return one page of open cases, urgent first then oldest, and how many there are."""
        # Every WHERE clause is one of these constants; values are bound as parameters.
        where, params = "is_open = 1", list[object]()
        if which is QueueFilter.OVERDUE:
            where, params = "is_open = 1 AND due_on < ?", [(today or date.min).isoformat()]
        if which is QueueFilter.MINE:
            where, params = "is_open = 1 AND assignee = ?", [staff_id]
        elif which is QueueFilter.UNASSIGNED:
            where = "is_open = 1 AND assignee IS NULL"
        elif which is QueueFilter.URGENT:
            where = "is_open = 1 AND urgent = 1"
        elif which is QueueFilter.CATEGORY:
            where, params = "is_open = 1 AND category = ?", [category]
        count = f"SELECT count(*) FROM cases WHERE {where}"  # noqa: S608
        total_row = await first_row(self.db, count, params)
        total = int(total_row[0]) if total_row else 0
        order = "ORDER BY urgent DESC, created_at, id LIMIT ? OFFSET ?"
        sql = f"SELECT {ROW_COLUMNS} FROM cases WHERE {where} {order}"  # noqa: S608
        rows = [queue_row(r) for r in await all_rows(self.db, sql, [*params, limit, offset])]
        return rows, total

    async def iter_cases(self, since: datetime | None = None) -> AsyncIterator[Case]:
        """Yield every case (created at or after ``since``), oldest first."""
        sql, params = "SELECT data FROM cases", []
        if since is not None:
            sql, params = f"{sql} WHERE created_at >= ?", [since.isoformat()]
        async with self.db.execute(f"{sql} ORDER BY created_at, id", params) as cursor:
            async for row in cursor:
                yield Case.model_validate_json(row[0])
