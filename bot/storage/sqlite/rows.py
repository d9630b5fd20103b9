"""The aiosqlite connection type and one-trip query helpers shared by the repositories."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import aiosqlite

Connection = aiosqlite.Connection


async def first_row(db: Connection, sql: str, params: Sequence[object] = ()) -> sqlite3.Row | None:
    """Return the first row of a query, in one trip to the database thread."""
    rows = await db.execute_fetchall(sql, params)
    return next(iter(rows), None)


async def all_rows(db: Connection, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
    """Return every row of a query, in one trip to the database thread."""
    return list(await db.execute_fetchall(sql, params))
