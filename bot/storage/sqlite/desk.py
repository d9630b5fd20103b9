"""The staff desk's rows: login links and sessions as hashes, its key, and its queue views."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Sequence
from datetime import date, datetime

from bot.core.case import Case
from bot.core.desk import NOBODY, DeskQuery, Sort, Tab
from bot.storage.records import LoginAttempt, StoredCase
from bot.storage.sqlite.rows import Connection, all_rows, first_row
from bot.storage.sqlite.search import match

# Every WHERE clause is made of these constants; values are bound as parameters.
_TABS: dict[Tab, str] = {
    Tab.MINE: "is_open = 1 AND assignee = :me",
    Tab.UNASSIGNED: "is_open = 1 AND assignee IS NULL",
    Tab.URGENT: "is_open = 1 AND urgent = 1",
    Tab.OVERDUE: "is_open = 1 AND due_on < :today",
    Tab.WAITING: "status = 'waiting'",
    Tab.OPEN: "is_open = 1",
    Tab.CLOSED: "is_open = 0",
}
_ORDERS: dict[Sort, str] = {
    Sort.URGENCY: "{t}urgent DESC, {t}created_at, {t}id",
    Sort.OLDEST: "{t}created_at, {t}id",
    Sort.NEWEST: "{t}created_at DESC, {t}id DESC",
}


def _order(sort: Sort, table: str = "") -> str:
    return _ORDERS[sort].format(t=f"{table}." if table else "")


def _filters(query: DeskQuery, staff_id: int) -> tuple[list[str], dict[str, object]]:
    """Return the view's filters (the tab apart) as WHERE clauses and their values."""
    clauses: list[str] = []
    values: dict[str, object] = {"me": staff_id, "today": (query.today or date.min).isoformat()}
    if query.category is not None:
        clauses.append("category = :in_category")
        values["in_category"] = query.category
    if query.status is not None:
        clauses.append("status = :status")
        values["status"] = query.status.value
    if query.assignee == NOBODY:
        clauses.append("assignee IS NULL")
    elif query.assignee is not None:
        clauses.append("assignee = :assignee")
        values["assignee"] = query.assignee
    since, until = query.since(), query.until()
    if since is not None:
        clauses.append("created_at >= :since")
        values["since"] = since.isoformat()
    if until is not None:
        clauses.append("created_at < :until")
        values["until"] = until.isoformat()
    return clauses, values


def _where(query: DeskQuery, staff_id: int) -> tuple[str, dict[str, object]]:
    clauses, values = _filters(query, staff_id)
    return " AND ".join([_TABS[query.tab], *clauses]), values


class DeskRows:
    """The staff desk's rows."""

    db: Connection

    async def desk_key(self, candidate: str) -> str:
        """Return the desk's key, keeping ``candidate`` as the key if there is none yet."""
        await self.db.execute(
            "INSERT INTO meta (key, value) VALUES ('desk_key', ?) ON CONFLICT (key) DO NOTHING",
            (candidate,),
        )
        row = await first_row(self.db, "SELECT value FROM meta WHERE key = 'desk_key'")
        assert row is not None
        return str(row[0])

    async def add_login(
        self, token_hash: str, user_id: int, now: datetime, until: datetime
    ) -> None:
        """Keep a one-time login link (its hash) for a caseworker until ``until``."""
        # Links spent or run out a day ago say nothing anyone needs: forget them.
        await self.db.execute(
            "DELETE FROM desk_logins WHERE expires_at < ?",
            ((now - (until - now) * 144).isoformat(),),
        )
        await self.db.execute(
            "INSERT INTO desk_logins (token_hash, user_id, created_at, expires_at)"
            " VALUES (?, ?, ?, ?)",
            (token_hash, user_id, now.isoformat(), until.isoformat()),
        )

    async def take_login(self, token_hash: str, now: datetime) -> LoginAttempt:
        """Spend a login link: say whether it was good, already used, too old or unknown."""
        row = await first_row(
            self.db,
            "SELECT user_id, expires_at, used_at FROM desk_logins WHERE token_hash = ?",
            (token_hash,),
        )
        if row is None:
            return LoginAttempt("unknown", None)
        user_id = int(row[0])
        if row[2] is not None:
            return LoginAttempt("used", user_id)
        await self.db.execute(
            "UPDATE desk_logins SET used_at = ? WHERE token_hash = ?", (now.isoformat(), token_hash)
        )
        if datetime.fromisoformat(row[1]) <= now:
            return LoginAttempt("expired", user_id)
        return LoginAttempt("ok", user_id)

    async def add_session(self, id_hash: str, user_id: int, now: datetime, until: datetime) -> None:
        """Keep a signed-in session (its hash) until ``until``; forget sessions run out."""
        await self.db.execute("DELETE FROM desk_sessions WHERE expires_at <= ?", (now.isoformat(),))
        await self.db.execute(
            "INSERT INTO desk_sessions (id_hash, user_id, created_at, expires_at)"
            " VALUES (?, ?, ?, ?)",
            (id_hash, user_id, now.isoformat(), until.isoformat()),
        )

    async def session_user(self, id_hash: str, now: datetime) -> int | None:
        """Return whose session this is, if it exists and has not run out."""
        row = await first_row(
            self.db,
            "SELECT user_id FROM desk_sessions WHERE id_hash = ? AND expires_at > ?",
            (id_hash, now.isoformat()),
        )
        return None if row is None else int(row[0])

    async def end_session(self, id_hash: str) -> None:
        """Forget one session (signing out)."""
        await self.db.execute("DELETE FROM desk_sessions WHERE id_hash = ?", (id_hash,))

    async def end_sessions(self, user_id: int) -> int:
        """Forget every session of a caseworker; return how many there were."""
        cursor = await self.db.execute("DELETE FROM desk_sessions WHERE user_id = ?", (user_id,))
        return cursor.rowcount

    async def list_desk(
        self, query: DeskQuery, *, staff_id: int, offset: int, limit: int
    ) -> list[StoredCase]:
        """Return one page of a queue view, in its order."""
        where, values = _where(query, staff_id)
        # The page's ids from an index first; only their rows' data is read.
        page = f"SELECT id FROM cases WHERE {where} ORDER BY {_order(query.sort)}"  # noqa: S608
        sql = (
            "SELECT c.id, c.data, c.card_message_id FROM cases c"  # noqa: S608
            f" JOIN ({page} LIMIT :limit OFFSET :offset) page ON page.id = c.id"
            f" ORDER BY {_order(query.sort, 'c')}"
        )
        rows = await self.db.execute_fetchall(sql, {**values, "limit": limit, "offset": offset})
        return [_stored(row) for row in rows]

    async def count_tabs(self, query: DeskQuery, *, staff_id: int) -> dict[Tab, int]:
        """Return how many cases each tab holds with the view's filters."""
        # One count a tab, each a range of an index (one pass testing every tab's condition
        # on every case is many times slower), in one trip to the database thread.
        clauses, values = _filters(query, staff_id)
        counts = ", ".join(
            f"(SELECT count(*) FROM cases WHERE {' AND '.join([_TABS[tab], *clauses])})"  # noqa: S608
            for tab in Tab
        )
        row = next(iter(await self.db.execute_fetchall(f"SELECT {counts}", values)))
        return {tab: int(row[number]) for number, tab in enumerate(Tab)}

    async def iter_desk(self, query: DeskQuery, *, staff_id: int) -> AsyncIterator[StoredCase]:
        """Yield every case of a queue view, in its order."""
        where, values = _where(query, staff_id)
        sql = (
            f"SELECT id, data, card_message_id FROM cases WHERE {where}"  # noqa: S608
            f" ORDER BY {_order(query.sort)}"
        )
        async with self.db.execute(sql, values) as cursor:
            async for row in cursor:
                yield _stored(row)

    async def search_desk(
        self, terms: list[str], *, limit: int, most: int
    ) -> tuple[list[StoredCase], int]:
        """Return the newest cases the search index finds by every term, and how many (to most).

        The index yields its matches newest first (a case's id is its index row), so a word
        found in every case costs a page of them, not all of them.
        """
        if not terms:
            return [], 0
        found = "SELECT rowid FROM case_search WHERE case_search MATCH ?"
        counted = await first_row(
            self.db,
            f"SELECT count(*) FROM ({found} LIMIT ?)",  # noqa: S608
            (match(terms), most),
        )
        newest = f"{found} ORDER BY rowid DESC LIMIT ?"
        sql = (
            "SELECT c.id, c.data, c.card_message_id FROM cases c"  # noqa: S608
            f" JOIN ({newest}) found ON found.rowid = c.id ORDER BY c.id DESC"
        )
        rows = await all_rows(self.db, sql, (match(terms), limit))
        return [_stored(row) for row in rows], int(counted[0]) if counted else 0

    async def existing_references(self, references: Sequence[str]) -> list[str]:
        """Return those of ``references`` that are cases, in order."""
        if not references:
            return []
        marks = ", ".join("?" for _ in references)
        rows = await all_rows(
            self.db,
            f"SELECT reference FROM cases WHERE reference IN ({marks}) ORDER BY reference",  # noqa: S608
            list(references),
        )
        return [str(row[0]) for row in rows]


def _stored(row: sqlite3.Row) -> StoredCase:
    return StoredCase(int(row[0]), Case.model_validate_json(row[1]), row[2])
