"""The aiosqlite connection type and one-trip query helpers shared by the repositories."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime

from bot.storage.records import QueueRow
from bot.storage.sqlite.batch import Batch, Params

# What the repositories send their statements through: one aiosqlite connection, batched.
Connection = Batch

# The columns of ``cases`` a queue row is read from, in the order ``queue_row`` reads them.
ROW_COLUMNS = "reference, category, urgent, created_at, assignee, status, summary, topic_id, due_on"


async def first_row(db: Connection, sql: str, params: Params = ()) -> sqlite3.Row | None:
    """Return the first row of a query, in one trip to the database thread."""
    rows = await db.execute_fetchall(sql, params)
    return next(iter(rows), None)


async def all_rows(db: Connection, sql: str, params: Params = ()) -> list[sqlite3.Row]:
    """Return every row of a query, in one trip to the database thread."""
    return list(await db.execute_fetchall(sql, params))


def queue_row(r: sqlite3.Row) -> QueueRow:
    """Return a queue row read with ``ROW_COLUMNS``."""
    due_on = date.fromisoformat(r[8]) if r[8] else None
    return QueueRow(
        r[0], r[1], bool(r[2]), datetime.fromisoformat(r[3]), r[4], r[5], r[6], r[7], due_on
    )
