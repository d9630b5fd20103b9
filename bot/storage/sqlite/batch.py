"""Statements sent to aiosqlite's thread in batches: one trip for what can wait, and what needs it.

aiosqlite runs every statement on its own thread, and each trip there and back costs two thread
wake-ups, more than most statements themselves. A write whose result nobody reads (storing a
draft, owing a reply, marking a message sent) is kept back and goes with the next statement
that must answer now, or with the COMMIT; ``BEGIN IMMEDIATE`` goes with the first of them. The
statements still run in the order they were given, on the one connection, inside the same
transaction: only the trips are fewer. A kept-back write that fails raises where the batch is
sent (the next read, or the commit), and the transaction is rolled back as before.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Generator, Iterable, Mapping, Sequence
from typing import Any, TypeVar, cast

import aiosqlite

T = TypeVar("T")
Params = Sequence[object] | Mapping[str, object]


class Fetched:
    """The rows of a query kept back with the writes: there once the batch has been sent."""

    def __init__(self) -> None:
        """Start with no rows read."""
        self.rows: list[sqlite3.Row] | None = None


# A statement; what to raise unless it changes exactly one row (None: no check); and where to
# put its rows (None: not a query).
Statement = tuple[str, Params, Callable[[], Exception] | None, Fetched | None]


def _run(
    connection: sqlite3.Connection, pending: list[Statement], last: Callable[[], T] | None
) -> T | None:
    """Run the kept-back statements, then ``last``, on the database thread."""
    for sql, params, unless_one, into in pending:
        cursor = connection.execute(sql, params)
        if unless_one is not None and cursor.rowcount != 1:
            raise unless_one()
        if into is not None:
            into.rows = cursor.fetchall()
    return None if last is None else last()


class CursorResult:
    """What ``Batch.execute`` returns: await it for a cursor, or use it with ``async with``."""

    def __init__(self, coroutine: Awaitable[aiosqlite.Cursor]) -> None:
        """Wrap the coroutine that sends the batch and the statement."""
        self._coroutine = coroutine
        self._cursor: aiosqlite.Cursor | None = None

    def __await__(self) -> Generator[Any, None, aiosqlite.Cursor]:
        """Send the batch and the statement; return the statement's cursor."""
        return self._coroutine.__await__()

    async def __aenter__(self) -> aiosqlite.Cursor:
        """Send the batch and the statement; return the cursor, closed on leaving."""
        self._cursor = await self._coroutine
        return self._cursor

    async def __aexit__(self, *exc: object) -> None:
        """Close the cursor."""
        if self._cursor is not None:
            await self._cursor.close()


class Batch:
    """One aiosqlite connection, with writes kept back until a statement must answer."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        """Send statements over ``connection``."""
        self.connection = connection
        self._pending: list[Statement] = []
        self.sent = False  # whether any statement has gone to the database

    def defer(
        self, sql: str, params: Params = (), *, unless_one: Callable[[], Exception] | None = None
    ) -> None:
        """Keep a statement whose result is not needed, to go with the next trip.

        With ``unless_one``, the statement must change exactly one row: if it does not, the
        exception it makes is raised where the batch is sent, and the statements after it
        are not run.
        """
        self._pending.append((sql, params, unless_one, None))

    def defer_read(self, sql: str, params: Params = ()) -> Fetched:
        """Keep a query back to go, in its place, with the next trip (the COMMIT, say).

        Its rows are in the returned Fetched once that trip is made.
        """
        fetched = Fetched()
        self._pending.append((sql, params, None, fetched))
        return fetched

    @property
    def waiting(self) -> int:
        """Return how many statements are kept back."""
        return len(self._pending)

    def drop(self) -> None:
        """Forget the kept-back statements (a block that failed before sending any)."""
        self._pending.clear()

    async def _trip(self, last: Callable[[sqlite3.Connection], T] | None) -> T | None:
        pending, self._pending = self._pending, []
        self.sent = True
        # aiosqlite's own way of running a call on its thread, as its public methods do; the
        # public ones take a single statement each.
        execute = cast(Callable[..., Awaitable[T | None]], self.connection._execute)
        raw = self.connection._conn
        return await execute(_run, raw, pending, None if last is None else (lambda: last(raw)))

    async def run(self, call: Callable[[sqlite3.Connection], T]) -> T:
        """Send the kept-back statements and run ``call`` on the connection, in one trip.

        For a few statements whose answers are all needed at once; ``call`` runs on the
        database thread, so it must only use the connection it is given.
        """
        result = await self._trip(call)
        return cast(T, result)

    async def flush(self) -> None:
        """Send what is kept back (if anything) now."""
        if self._pending:
            await self._trip(None)

    def execute(self, sql: str, params: Params = ()) -> CursorResult:
        """Send the kept-back statements and this one in one trip; return its cursor."""

        async def run() -> aiosqlite.Cursor:
            if not self._pending:
                self.sent = True
                return await self.connection.execute(sql, params)
            cursor = await self._trip(lambda raw: raw.execute(sql, params))
            assert cursor is not None
            return aiosqlite.Cursor(self.connection, cursor)

        return CursorResult(run())

    async def execute_fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        """Send the kept-back statements and this query in one trip; return its rows."""
        rows = await self._trip(lambda raw: raw.execute(sql, params).fetchall())
        return rows or []

    async def executemany(self, sql: str, rows: Iterable[Params]) -> aiosqlite.Cursor:
        """Send the kept-back statements and this one, for every row, in one trip."""
        listed = list(rows)
        cursor = await self._trip(lambda raw: raw.executemany(sql, listed))
        assert cursor is not None
        return aiosqlite.Cursor(self.connection, cursor)

    @property
    def in_transaction(self) -> bool:
        """Tell whether the connection is inside a transaction."""
        return self.connection.in_transaction
