"""The SQLite store: one connection, WAL, numbered migrations, one transaction at a time."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import stat
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import aiosqlite

from bot.storage.sqlite.rows import Connection
from bot.storage.sqlite.search import merge_if_marked
from bot.storage.sqlite.tx import SqliteTx

log = logging.getLogger(__name__)

_PRAGMAS: tuple[str, ...] = (
    "PRAGMA journal_mode=WAL",
    # WAL with synchronous=NORMAL loses nothing when the process crashes; only a power
    # failure can roll back the last commits.
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
    # Deleted rows are overwritten, not left in free pages for anyone reading the file.
    "PRAGMA secure_delete=ON",
)


class SqliteStore:
    """An open database; every read and write happens inside ``transaction()``."""

    def __init__(self, connection: Connection) -> None:
        """Wrap an open connection."""
        self._connection = connection
        # One connection queues statements, not transactions: the lock keeps two
        # coroutines from interleaving inside each other's transaction.
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path) -> SqliteStore:
        """Open (creating, owner-only) the database at ``path`` and bring its schema up to date."""
        if str(path) != ":memory:":
            create_private_file(path)
        connection = await aiosqlite.connect(path, isolation_level=None)
        connection.row_factory = sqlite3.Row
        for pragma in _PRAGMAS:
            await connection.execute(pragma)
        if str(path) != ":memory:":
            keep_private(path)
        store = cls(connection)
        try:
            await store.migrate()
            async with store.transaction() as tx:
                await tx.index_unindexed()
        except BaseException:
            await connection.close()
            raise
        return store

    async def scrub(self) -> None:
        """Leave no copy of deleted rows: merge the search index, then empty the WAL.

        The merge drops an erased case's words from the index's old segments (which
        secure_delete then overwrites); the checkpoint and truncation leave no copy in the WAL.
        """
        async with self.transaction() as tx:
            await merge_if_marked(tx.db)
        async with self._lock:
            await self._connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    async def close(self) -> None:
        """Close the connection, waiting for any transaction under way."""
        async with self._lock:
            await self._connection.close()

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[SqliteTx]:
        """Run reads, or single statements that commit themselves, without a transaction."""
        async with self._lock:
            yield SqliteTx(self._connection)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqliteTx]:
        """Run a block as one write transaction: all of it is committed, or none of it."""
        async with self._lock:
            await self._connection.execute("BEGIN IMMEDIATE")
            try:
                yield SqliteTx(self._connection)
            except BaseException:
                await self._connection.execute("ROLLBACK")
                raise
            await self._connection.execute("COMMIT")

    async def migrate(self) -> list[int]:
        """Apply every migration not yet applied, each in one transaction with its record."""
        async with self.transaction() as tx:
            await tx.db.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            async with tx.db.execute("SELECT version FROM schema_migrations") as cursor:
                done = {row[0] async for row in cursor}
        applied = []
        for version, name, script in migrations():
            if version in done:
                continue
            async with self.transaction() as tx:
                for statement in statements(script):
                    await tx.db.execute(statement)
                await tx.db.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    (version, name, datetime.now(UTC).isoformat()),
                )
            applied.append(version)
        return applied


def keep_private(path: Path) -> None:
    """Make the database file and its -wal and -shm owner-only, saying so if one was not."""
    opened = []
    for file in (path, *(path.with_name(path.name + s) for s in ("-wal", "-shm"))):
        mode = stat.S_IMODE(file.stat().st_mode) if file.exists() else 0
        if mode & 0o077:
            file.chmod(0o600)
            opened.append(f"{file.name} (mode {mode:o})")
    if opened:
        log.warning("%s could be read by other users; now owner-only (600)", ", ".join(opened))


def create_private_file(path: Path) -> None:
    """Create the database file and its folder, readable by their owner only."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        path.touch(mode=0o600)


def migrations() -> list[tuple[int, str, str]]:
    """Return the shipped migrations as (number, name, SQL), in order."""
    folder = resources.files("bot.storage.sqlite") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            number, _, rest = entry.name.partition("_")
            found.append((int(number), rest.removesuffix(".sql"), entry.read_text("utf-8")))
    return sorted(found)


def statements(script: str) -> list[str]:
    """Split a migration into statements (executescript would commit part-way)."""
    result, buffer = [], ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if not _only_comments(buffer):
                result.append(buffer.strip())
            buffer = ""
    if not _only_comments(buffer):
        raise ValueError(f"unfinished SQL statement: {buffer.strip()[:60]!r}")
    return result


def _only_comments(text: str) -> bool:
    return all(not ln.strip() or ln.strip().startswith("--") for ln in text.splitlines())
