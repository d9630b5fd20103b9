"""The SQLite store: one connection, WAL, numbered migrations, one transaction at a time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import stat
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import aiosqlite

from bot.storage.sqlite.batch import Batch
from bot.storage.sqlite.drafts import DraftCache
from bot.storage.sqlite.health import (
    APPLICATION_ID,
    describe_error,
    identity,
    is_disk_fault,
    path_problem,
    sync_path,
    where,
)
from bot.storage.sqlite.outbox import MARK_SENT
from bot.storage.sqlite.search import merge_if_marked
from bot.storage.sqlite.tx import SqliteTx
from bot.storage.store import StoreError

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
    # Checkpoint every 4,000 pages (16 MiB) of WAL, not SQLite's 1,000: each checkpoint syncs
    # the disk twice whatever its size, so fewer of them cost less per answer. The -wal is
    # synced a part at a time in between, off the answer's path (see _committed).
    "PRAGMA wal_autocheckpoint=4000",
)
# How often a running store checks that its file is still there (it also does on closing).
WATCH_EVERY = 10.0
# How long a delivered message may wait to be recorded as sent, if no other write comes first,
# and how long after a failed attempt to write the records the timer tries again.
SENT_WITHIN = 0.05
SENT_RETRY = 1.0
# Commits between two syncs of the -wal file, made on a thread of their own (see _committed).
SYNC_WAL_EVERY = 200


class SqliteStore:
    """An open database; every read and write happens inside ``transaction()``."""

    def __init__(self, connection: aiosqlite.Connection, path: Path | None = None) -> None:
        """Wrap an open connection (to the file at ``path``, None for one in memory)."""
        self._connection = connection
        self.path = path
        # One connection queues statements, not transactions: the lock keeps two
        # coroutines from interleaving inside each other's transaction.
        self._lock = asyncio.Lock()
        # Drafts as committed, so the next answer's draft needs no read (see DraftCache).
        self._drafts = DraftCache()
        self._identity = identity(path) if path is not None else None
        self._failing: str | None = None
        self._watch: asyncio.Task[None] | None = None
        self.applied: list[int] = []  # the migrations opening it applied
        # Outbox entries delivered and not yet recorded as sent: (sent at, entry id).
        self._sent_soon: list[tuple[str, int]] = []
        self._sent_timer: asyncio.TimerHandle | None = None
        self._sent_flush: asyncio.Task[None] | None = None
        self._unsynced = 0  # commits since the -wal file was last synced
        self._wal_sync: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, path: Path, *, watch_every: float | None = WATCH_EVERY) -> SqliteStore:
        """Open (creating, owner-only) the database at ``path`` and bring its schema up to date.

        Raises StoreError, in one plain line, for a path that is a folder, a file that is
        not a database, a read-only file or a full disk.
        """
        if str(path) == ":memory:":
            return await cls._connect(path, None)
        existed = _make_file(path)
        try:
            store = await cls._connect(path, path)
        except StoreError:
            if not existed:  # nothing of it was ever committed: leave no empty file behind
                for leftover in (path, *_journals(path)):
                    leftover.unlink(missing_ok=True)
            raise
        if not existed:
            log.info("created a new database at %s", path)
        keep_private(path)
        if watch_every:
            store._watch = asyncio.create_task(store._watch_file(watch_every), name="db-watch")
        return store

    @classmethod
    async def _connect(cls, target: Path, path: Path | None) -> SqliteStore:
        try:
            connection = await aiosqlite.connect(target, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(describe_error(target, exc)) from exc
        store = cls(connection, path)
        try:
            await store._prepare()
        except BaseException as exc:
            # aiosqlite's thread keeps the process alive until the connection is closed.
            with contextlib.suppress(Exception):
                await connection.close()
            if isinstance(exc, sqlite3.Error) and is_disk_fault(exc):  # not the bot's fault
                raise StoreError(describe_error(target, exc)) from exc
            raise
        return store

    async def _prepare(self) -> None:
        """Set the pragmas, check the file is this bot's, migrate, and prove it can be written."""
        connection = self._connection
        connection.row_factory = sqlite3.Row
        for pragma in _PRAGMAS:
            await connection.execute(pragma)
        await self._check_owner()
        self.applied = await self.migrate()
        # A real write at start-up: a read-only file or a full disk shows now, not at the
        # first constituent's answer.
        async with self.transaction() as tx:
            await tx.db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            await tx.index_unindexed()
            self._drafts.know_holders(await tx.draft_holders())

    async def _check_owner(self) -> None:
        rows = await self._connection.execute_fetchall("PRAGMA application_id")
        stamped = next(iter(rows))[0]
        tables = {
            row[0]
            for row in await self._connection.execute_fetchall(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
            )
        }
        ours = stamped == APPLICATION_ID or "schema_migrations" in tables
        if not ours and (stamped != 0 or tables):
            raise StoreError(
                f"{where(self.path or Path(':memory:'))} is another program's SQLite database;"
                " point it at the bot's database file, or at a new one."
            )
        if "schema_migrations" in tables:
            known = max((number for number, _, _ in migrations()), default=0)
            newest = next(
                iter(
                    await self._connection.execute_fetchall(
                        "SELECT max(version) FROM schema_migrations"
                    )
                )
            )[0]
            if newest is not None and newest > known:
                raise StoreError(
                    f"{where(self.path or Path(':memory:'))} was written by a newer version of the"
                    f" bot (schema {newest}, this one knows {known}); run that version."
                )

    async def scrub(self) -> None:
        """Leave no copy of deleted rows: merge the search index, then empty the WAL.

        The merge drops an erased case's words from the index's old segments (which
        secure_delete then overwrites); the checkpoint and truncation leave no copy in the WAL.
        """
        async with self.transaction() as tx:
            await merge_if_marked(tx.db)
        async with self._lock:
            # Read its answer row, so the statement is finished before the next COMMIT.
            await self._connection.execute_fetchall("PRAGMA wal_checkpoint(TRUNCATE)")

    def mark_sent_soon(self, entry_ids: Sequence[int], at: datetime) -> None:
        """Record outbox entries as sent with the next statements to go, or within SENT_WITHIN.

        A delivered message needs no trip of its own to say so: the record goes in the
        same trip as whatever the store runs next (the next answer's commit, a read), in a
        transaction of its own ahead of it, and the timer writes it if nothing comes first.
        Every read comes after it, so nothing is ever read as still owed once recorded
        here. A crash before it is written sends those messages again at restart, as a
        crash between a send and its record always could (delivery is at least once).
        """
        self._sent_soon.extend((at.isoformat(), entry_id) for entry_id in entry_ids)
        self._arm_sent_timer(SENT_WITHIN)

    def _arm_sent_timer(self, delay: float) -> None:
        if self._sent_timer is None and self._sent_soon:
            loop = asyncio.get_running_loop()
            self._sent_timer = loop.call_later(delay, self._write_sent_soon)

    def _write_sent_soon(self) -> None:
        self._sent_timer = None
        if self._sent_soon and self._sent_flush is None:
            self._sent_flush = asyncio.create_task(self._flush_sent(), name="outbox-sent")

    async def _flush_sent(self) -> None:
        delay = SENT_WITHIN
        try:
            async with self.transaction():
                pass  # the records go ahead of every block: this one has nothing else
        except Exception as exc:  # given back by the transaction: tried again shortly
            delay = SENT_RETRY
            # A disk that cannot be written has been reported once already (_note_failure).
            if not (isinstance(exc, sqlite3.Error) and is_disk_fault(exc)):
                log.warning("could not record delivered messages as sent: %s", exc)
        finally:
            self._sent_flush = None
        self._arm_sent_timer(delay)

    def _take_sent(self, batch: Batch) -> list[tuple[str, int]]:
        """Put the waiting records of sent entries into ``batch``; return them."""
        taken, self._sent_soon = self._sent_soon, []
        for at, entry_id in taken:
            batch.defer(MARK_SENT, (at, entry_id))
        return taken

    def _give_back_sent(self, taken: list[tuple[str, int]]) -> None:
        """Keep records of sent entries that a failed trip did not write, for the next one."""
        if taken:
            self._sent_soon[:0] = taken
            if self._sent_flush is None:  # a failed timed write sets its own retry
                self._arm_sent_timer(SENT_WITHIN)

    async def close(self) -> None:
        """Close the connection, waiting for any transaction under way."""
        if self._watch is not None:
            self._watch.cancel()
            await asyncio.gather(self._watch, return_exceptions=True)
            self._watch = None
        if self._sent_timer is not None:
            self._sent_timer.cancel()
            self._sent_timer = None
        if self._sent_flush is not None:
            await asyncio.gather(self._sent_flush, return_exceptions=True)
        if self._wal_sync is not None:
            await asyncio.gather(self._wal_sync, return_exceptions=True)
        if self._sent_soon:
            try:
                async with self.transaction():
                    pass
            except Exception:  # still close: those messages are sent again at restart
                log.exception("could not record delivered messages as sent")
        try:
            await self.keep_file()
        except Exception:  # still close; the WARNING above said where the data is
            log.exception("could not write the database back to %s", self.path)
        async with self._lock:
            await self._connection.close()

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[SqliteTx]:
        """Run reads, or single statements that commit themselves, without a transaction."""
        async with self._lock:
            batch = Batch(self._connection)
            taken: list[tuple[str, int]] = []
            if self._sent_soon:
                batch.defer("BEGIN IMMEDIATE")
                taken = self._take_sent(batch)
                batch.defer("COMMIT")
            tx = SqliteTx(batch, self._drafts)
            try:
                yield tx
                await batch.flush()
            except BaseException as exc:
                tx.failed()
                if batch.in_transaction:
                    await self._connection.execute("ROLLBACK")
                self._give_back_sent(taken)
                if isinstance(exc, sqlite3.Error):
                    self._note_failure(exc)
                raise
            tx.committed()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqliteTx]:
        """Run a block as one write transaction: all of it is committed, or none of it.

        BEGIN IMMEDIATE goes with the block's first statement that must answer, and writes
        that need no answer go with the next one or with the COMMIT (see ``Batch``): a block
        that only writes is one trip to the database thread.
        """
        async with self._lock:
            batch = Batch(self._connection)
            batch.defer("BEGIN IMMEDIATE")
            taken = self._take_sent(batch)
            tx = SqliteTx(batch, self._drafts)
            try:
                try:
                    yield tx
                    if not batch.sent and batch.waiting == 1:
                        batch.drop()  # nothing was read or written: nothing to commit
                        return
                    await batch.execute("COMMIT")
                    tx.committed()
                    self._committed()
                except BaseException:
                    tx.failed()
                    batch.drop()
                    self._give_back_sent(taken)
                    # SQLite rolls back by itself on some errors (a full disk): then there
                    # is nothing left to roll back, and the first error is the one to raise.
                    if self._connection.in_transaction:
                        await self._connection.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                self._note_failure(exc)
                raise
            self._note_success()

    def _committed(self) -> None:
        """Count a commit; every SYNC_WAL_EVERY, sync the -wal file off the loop and the store.

        With synchronous=NORMAL a commit is written to the -wal but not synced, and the
        checkpoint that copies the -wal into the file first syncs all of it, on the answer's
        path, for the commit that triggers it: about 60 ms for 4,000 pages on the bench's
        machine. Synced a part at a time on another thread, most of it is on the disk by
        then, and the checkpoint takes a quarter to a half of that.
        """
        self._unsynced += 1
        if self._unsynced >= SYNC_WAL_EVERY and self._wal_sync is None and self.path is not None:
            self._unsynced = 0
            wal = _journals(self.path)[0]
            self._wal_sync = asyncio.create_task(self._sync_wal(wal), name="db-wal-sync")

    async def _sync_wal(self, wal: Path) -> None:
        try:
            await asyncio.to_thread(sync_path, wal)
        except OSError as exc:  # the next checkpoint syncs it anyway
            log.debug("could not sync %s: %s", wal, exc)
        finally:
            self._wal_sync = None

    def _note_failure(self, error: sqlite3.Error) -> None:
        """Say once, as a WARNING, that the disk stops the database being written."""
        if self.path is None or not is_disk_fault(error):
            return
        problem = describe_error(self.path, error)
        if problem != self._failing:
            self._failing = problem
            log.warning(
                "%s Nothing is lost: what cannot be stored is not answered, and is taken up"
                " again once it can be.",
                problem,
            )

    def _note_success(self) -> None:
        if self._failing is not None:
            self._failing = None
            log.warning("%s can be written again.", where(self.path or Path(":memory:")))

    async def _watch_file(self, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await self.keep_file()
            except Exception:  # the watch must outlive any one failure
                log.exception("could not check the database file")

    async def keep_file(self) -> None:
        """If the database file was deleted or replaced while open, put the open one back.

        Until then every write goes to a file that no longer has a name, and a restart would
        start from nothing (or from whatever now has the name).
        """
        path = self.path
        if path is None or identity(path) == self._identity:
            return
        async with self._lock:
            now = identity(path)
            if now == self._identity:
                return
            stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
            if now is None:
                log.warning(
                    "The database file %s was deleted while the bot was running; writing the"
                    " open database back to it.",
                    path,
                )
                target = path.with_name(f"{path.name}.restoring-{stamp}")
            else:
                target = path.with_name(f"{path.name}.replaced-{stamp}")
                log.warning(
                    "The database file %s was replaced while the bot was running; the open"
                    " database is saved as %s, and the bot carries on with the new file.",
                    path,
                    target,
                )
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            target.unlink(missing_ok=True)
            create_private_file(target)
            await self._connection.execute("VACUUM INTO ?", (str(target),))
            await self._connection.close()
            # SQLite neither checkpoints nor deletes the WAL of a file that has moved: left
            # under the name, the old database's journal would be replayed onto the file
            # there now. Everything in it is in the copy just made.
            for journal in _journals(path):
                journal.unlink(missing_ok=True)
            if now is None:
                os.replace(target, path)
            fresh = await aiosqlite.connect(path, isolation_level=None)
            self._connection = fresh
            self._identity = identity(path)
            for pragma in _PRAGMAS:
                await fresh.execute(pragma)
            fresh.row_factory = sqlite3.Row
        await self.migrate()

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


def create_private_file(path: Path) -> None:
    """Create the database file and its folder, readable by their owner only."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        path.touch(mode=0o600)


def _make_file(path: Path) -> bool:
    """Create the database file if it is missing (StoreError if it cannot be); say if it was."""
    problem = path_problem(path)
    if problem is not None:
        raise StoreError(problem)
    existed = path.exists()
    try:
        create_private_file(path)
    except OSError as exc:
        raise StoreError(f"{where(path)} cannot be created: {exc.strerror}.") from exc
    return existed


def _journals(path: Path) -> tuple[Path, Path]:
    return path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")


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
