"""The SQLite database: private files, recorded migrations, whole transactions, stored drafts."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

from bot.core.draft import Answer, Attachment, Collected, Draft, PendingPostcode, Suggestion
from bot.storage.sqlite import database as database_module
from bot.storage.sqlite import health
from bot.storage.sqlite.database import SqliteStore, migrations, statements

STARTED = datetime(2026, 11, 23, 9, 30, 0, 123456, tzinfo=UTC)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    """Return where the database goes: a file in a folder that does not exist yet."""
    return tmp_path / "data" / "casework.sqlite3"


@pytest.fixture
async def db(path: Path) -> AsyncIterator[SqliteStore]:
    """Return an open database, closed after the test."""
    database = await SqliteStore.open(path)
    try:
        yield database
    finally:
        await database.close()


def mode(path: Path) -> int:
    """Return a file's permission bits."""
    return stat.S_IMODE(path.stat().st_mode)


def read(path: Path, sql: str) -> list[tuple[object, ...]]:
    """Run a query on a separate plain connection, as another process would see the file."""
    with sqlite3.connect(path) as connection:
        return connection.execute(sql).fetchall()


# --- files and pragmas -----------------------------------------------------------------


async def test_open_creates_a_private_folder_and_file(path: Path) -> None:
    database = await SqliteStore.open(path)
    try:
        async with database.transaction() as tx:
            await tx.db.execute(
                "INSERT INTO drafts (user_id, chat_id, state, updated_at) VALUES (1, 1, '{}', '')"
            )
        assert mode(path.parent) == 0o700
        assert mode(path) == 0o600
        # SQLite gives the write-ahead log and shared-memory files the database's own mode.
        for name in (f"{path.name}-wal", f"{path.name}-shm"):
            assert mode(path.parent / name) == 0o600, name
    finally:
        await database.close()


async def test_open_keeps_an_existing_file(path: Path) -> None:
    first = await SqliteStore.open(path)
    async with first.transaction() as tx:
        await tx.db.execute(
            "INSERT INTO drafts (user_id, chat_id, state, updated_at) VALUES (7, 7, '{}', '')"
        )
    await first.close()
    second = await SqliteStore.open(path)
    await second.close()
    assert read(path, "SELECT user_id FROM drafts") == [(7,)]
    assert mode(path) == 0o600


async def test_a_restored_file_readable_by_others_is_made_private_with_a_warning(
    path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first = await SqliteStore.open(path)
    await first.close()
    os.chmod(path, 0o644)  # as a careless restore from a backup leaves it
    second = await SqliteStore.open(path)
    try:
        assert mode(path) == 0o600
        for name in (f"{path.name}-wal", f"{path.name}-shm"):
            if (path.parent / name).exists():
                assert mode(path.parent / name) == 0o600, name
    finally:
        await second.close()
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1
    assert f"{path.name} (mode 644)" in warnings[0].getMessage()
    assert "now owner-only (600)" in warnings[0].getMessage()


async def test_write_ahead_logging_and_foreign_keys_are_on(db: SqliteStore) -> None:
    async with db.transaction() as tx:
        values = {}
        pragmas = ("journal_mode", "foreign_keys", "busy_timeout", "secure_delete")
        for pragma in (*pragmas, "wal_autocheckpoint"):
            async with tx.db.execute(f"PRAGMA {pragma}") as cursor:
                row = await cursor.fetchone()
            assert row is not None
            values[pragma] = row[0]
    assert values["journal_mode"] == "wal"
    assert values["foreign_keys"] == 1
    assert values["busy_timeout"] > 0
    assert values["secure_delete"] == 1
    assert values["wal_autocheckpoint"] == 4000


async def commit_one(db: SqliteStore, number: int) -> None:
    """Commit one draft of its own."""
    async with db.transaction() as tx:
        await tx.db.execute(
            "INSERT INTO drafts (user_id, chat_id, state, updated_at) VALUES (?, ?, '{}', '')",
            (number, number),
        )


async def wal_syncs_done() -> None:
    """Wait for the syncs of the -wal under way."""
    running = [t for t in asyncio.all_tasks() if t.get_name() == "db-wal-sync"]
    await asyncio.gather(*running)


async def test_the_wal_is_synced_on_another_thread_every_so_many_commits(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[tuple[Path, bool]] = []
    loop_thread = threading.get_ident()

    def sync(target: Path) -> None:
        synced.append((target, threading.get_ident() != loop_thread))
        real_sync(target)

    real_sync = health.sync_path
    monkeypatch.setattr(database_module, "SYNC_WAL_EVERY", 3)
    monkeypatch.setattr(database_module, "sync_path", sync)
    database = await SqliteStore.open(path, watch_every=None)
    try:
        await wal_syncs_done()
        synced.clear()  # opening commits too (migrations)
        for number in range(1, 7):
            await commit_one(database, number)
            await wal_syncs_done()
    finally:
        await database.close()
    wal = path.with_name(path.name + "-wal")
    assert synced == [(wal, True), (wal, True)]


async def test_a_wal_that_cannot_be_synced_loses_no_commit(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts: list[Path] = []

    def refuse(target: Path) -> None:
        attempts.append(target)
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(database_module, "SYNC_WAL_EVERY", 2)
    database = await SqliteStore.open(path, watch_every=None)
    await wal_syncs_done()
    monkeypatch.setattr(database_module, "sync_path", refuse)
    try:
        for number in range(1, 5):
            await commit_one(database, number)
            await wal_syncs_done()
    finally:
        await database.close()
    assert len(attempts) == 2  # tried again at the next count, not given up
    assert read(path, "SELECT user_id FROM drafts ORDER BY user_id") == [(n,) for n in range(1, 5)]


async def test_foreign_keys_are_enforced(db: SqliteStore) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        async with db.transaction() as tx:
            await tx.db.execute(
                "INSERT INTO consents (case_id, version, answer, recorded_at)"
                " VALUES (12345, 'v1', 'yes', '2026-11-23')"
            )


# --- migrations ------------------------------------------------------------------------


def test_the_shipped_migrations_are_numbered_from_one() -> None:
    numbers = [number for number, _, _ in migrations()]
    # Each number once, in order; a number may be held for a migration that lands separately
    # (each is applied by its own number, so one landing later is still applied).
    assert numbers == sorted(set(numbers))
    assert numbers[0] == 1
    assert migrations()[0][1] == "initial"


async def test_migrations_are_recorded_and_not_applied_twice(path: Path) -> None:
    first = await SqliteStore.open(path)
    recorded = read(path, "SELECT version, name, applied_at FROM schema_migrations ORDER BY 1")
    assert [(v, n) for v, n, _ in recorded] == [(v, n) for v, n, _ in migrations()]
    assert await first.migrate() == []
    await first.close()
    second = await SqliteStore.open(path)
    assert await second.migrate() == []
    await second.close()
    assert read(path, "SELECT version, name, applied_at FROM schema_migrations ORDER BY 1") == (
        recorded
    )
    tables = {row[0] for row in read(path, "SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"drafts", "cases", "consents", "schema_migrations"} <= tables


async def test_only_new_migrations_are_applied(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shipped = migrations()
    monkeypatch.setattr(database_module, "migrations", lambda: shipped[:1])
    first = await SqliteStore.open(path)
    await first.close()
    monkeypatch.setattr(database_module, "migrations", lambda: shipped)
    second = await SqliteStore.open(path)
    try:
        assert await second.migrate() == []
    finally:
        await second.close()
    versions = [row[0] for row in read(path, "SELECT version FROM schema_migrations ORDER BY 1")]
    assert versions == [number for number, _, _ in shipped]


BROKEN = [
    (1, "good", "CREATE TABLE kept (x INTEGER);"),
    (2, "bad", "CREATE TABLE half (x INTEGER);\nINSERT INTO nowhere VALUES (1);"),
]


@pytest.fixture
async def connections(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[list[aiosqlite.Connection]]:
    """Record every connection opened during the test, and close them all after it."""
    opened: list[aiosqlite.Connection] = []
    connect = aiosqlite.connect

    def recording(*args: Any, **kwargs: Any) -> aiosqlite.Connection:
        connection = connect(*args, **kwargs)
        opened.append(connection)
        return connection

    monkeypatch.setattr(aiosqlite, "connect", recording)
    try:
        yield opened
    finally:
        for connection in opened:
            await connection.close()


async def test_a_failing_migration_leaves_nothing_of_itself(
    path: Path, monkeypatch: pytest.MonkeyPatch, connections: list[aiosqlite.Connection]
) -> None:
    monkeypatch.setattr(database_module, "migrations", lambda: BROKEN)
    with pytest.raises(sqlite3.OperationalError, match="no such table: nowhere"):
        await SqliteStore.open(path)
    assert len(connections) == 1
    tables = {row[0] for row in read(path, "SELECT name FROM sqlite_master WHERE type='table'")}
    assert "kept" in tables
    assert "half" not in tables
    assert read(path, "SELECT version FROM schema_migrations") == [(1,)]


async def test_a_failed_open_closes_its_connection(
    path: Path, monkeypatch: pytest.MonkeyPatch, connections: list[aiosqlite.Connection]
) -> None:
    monkeypatch.setattr(database_module, "migrations", lambda: BROKEN)
    with pytest.raises(sqlite3.OperationalError):
        await SqliteStore.open(path)
    [connection] = connections
    with pytest.raises(ValueError, match="no active connection"):
        await connection.execute("SELECT 1")


# --- transactions ----------------------------------------------------------------------


async def test_a_failing_block_is_rolled_back(db: SqliteStore, path: Path) -> None:
    async def save_then_fail() -> None:
        async with db.transaction() as tx:
            await tx.save_draft(1, 1, make_draft())
            raise RuntimeError("part-way")

    with pytest.raises(RuntimeError, match="part-way"):
        await save_then_fail()
    async with db.transaction() as tx:
        assert await tx.get_draft(1) is None
        await tx.save_draft(2, 2, make_draft())
    assert read(path, "SELECT user_id FROM drafts") == [(2,)]


async def test_a_cancelled_block_is_rolled_back(db: SqliteStore) -> None:
    started = asyncio.Event()

    async def interrupted() -> None:
        async with db.transaction() as tx:
            await tx.save_draft(3, 3, make_draft())
            started.set()
            await asyncio.sleep(60)

    task = asyncio.create_task(interrupted())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with db.transaction() as tx:
        assert await tx.count_drafts() == 0


async def test_transactions_do_not_interleave(db: SqliteStore) -> None:
    async with db.transaction() as tx:
        await tx.db.execute("CREATE TABLE counter (n INTEGER)")
        await tx.db.execute("INSERT INTO counter VALUES (0)")

    async def increment() -> None:
        async with db.transaction() as tx:
            async with tx.db.execute("SELECT n FROM counter") as cursor:
                row = await cursor.fetchone()
            assert row is not None
            await asyncio.sleep(0)  # let the others run, mid-transaction
            await tx.db.execute("UPDATE counter SET n = ?", (row[0] + 1,))

    await asyncio.gather(*(increment() for _ in range(20)))
    async with db.transaction() as tx, tx.db.execute("SELECT n FROM counter") as c:
        row = await c.fetchone()
    assert row is not None
    assert row[0] == 20


# --- splitting scripts -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("", []),
        ("-- only a comment\n\n-- and another\n", []),
        ("CREATE TABLE a (x);", ["CREATE TABLE a (x);"]),
        (
            "-- The header.\nCREATE TABLE a (x);\n\n"
            "-- Between.\nCREATE TABLE b (\n    y TEXT\n);\n",
            [
                "-- The header.\nCREATE TABLE a (x);",
                "-- Between.\nCREATE TABLE b (\n    y TEXT\n);",
            ],
        ),
        (
            "INSERT INTO a VALUES ('x;y'); -- a semicolon in a string\n",
            ["INSERT INTO a VALUES ('x;y'); -- a semicolon in a string"],
        ),
        (
            "CREATE TABLE a (\n    x TEXT -- no; not the end\n);\n",
            ["CREATE TABLE a (\n    x TEXT -- no; not the end\n);"],
        ),
    ],
    ids=["empty", "comments", "one", "commented", "string", "comment-inside"],
)
def test_statements_splits_a_script(script: str, expected: list[str]) -> None:
    found = statements(script)
    assert found == expected
    with sqlite3.connect(":memory:") as connection:
        connection.execute("CREATE TABLE IF NOT EXISTS a (x)")
        for statement in found:
            connection.execute(
                statement.replace("CREATE TABLE a ", "CREATE TABLE IF NOT EXISTS a ")
            )


def test_statements_splits_the_shipped_migrations() -> None:
    with sqlite3.connect(":memory:") as connection:
        for _, _, script in migrations():
            for statement in statements(script):
                connection.execute(statement)


def test_an_unfinished_statement_is_refused() -> None:
    with pytest.raises(ValueError, match="unfinished SQL statement"):
        statements("CREATE TABLE a (x);\nCREATE TABLE b (y)\n")


def test_an_unfinished_statement_after_a_comment_is_refused() -> None:
    with pytest.raises(ValueError, match="unfinished SQL statement"):
        statements("CREATE TABLE a (x);\n-- The last table.\nCREATE TABLE z (y)\n")


# --- drafts ----------------------------------------------------------------------------


def make_draft(revision: int = 7) -> Draft:
    """Return a draft with every field set away from its default."""
    answered = STARTED + timedelta(minutes=3)
    return Draft(
        flow_id="intake",
        flow_version=3,
        step="address",
        answers={
            "full_name": Answer(value="Siân O'Brien", answered_at=answered),
            "email": Answer(value=None, answered_at=answered),
            "postcode": Answer(
                value="ST4 1HH",
                extra={"constituency_code": "E14001520", "constituency_name": "Stoke"},
                answered_at=answered,
            ),
        },
        attachments=[
            Attachment(
                kind="document",
                file_id="doc-1",
                file_unique_id="u-doc-1",
                file_name="letter.pdf",
                mime_type="application/pdf",
                caption="From the council — 3 pages",
            ),
            Attachment(kind="photo", file_id="photo-1"),
        ],
        profile={"telegram_name": "Siân"},
        reviewing=True,
        prefilled=True,
        reminded=True,
        concerns=["self_harm"],
        language="cy",
        linked_to="SOT-7K4X9Q5",
        confirming_cancel=True,
        pending_postcode=PendingPostcode(postcode="ST4 1ZZ", kind="unverified"),
        postcode_misses=2,
        suggestion=Suggestion(step="email", typed="ada@gmial.com", value="ada@gmail.com"),
        collected=Collected(step="what_happened", text="My benefits stopped."),
        revision=revision,
        started_at=STARTED,
        updated_at=STARTED + timedelta(hours=49),
    )


def test_the_sample_draft_sets_every_field() -> None:
    draft = make_draft()
    for name, field in Draft.model_fields.items():
        if not field.is_required():
            assert getattr(draft, name) != field.get_default(call_default_factory=True), name


async def test_a_draft_is_stored_and_read_back_whole(path: Path) -> None:
    draft = make_draft()
    db = await SqliteStore.open(path)
    async with db.transaction() as tx:
        await tx.save_draft(5001, 6001, draft)
    await db.close()
    db = await SqliteStore.open(path)  # nothing kept in memory: read from the file
    try:
        async with db.transaction() as tx:
            stored = await tx.get_draft(5001)
    finally:
        await db.close()
    assert stored == draft
    assert stored is not None
    assert stored.updated_at.tzinfo is not None
    assert stored.answers["email"].value is None


async def test_saving_again_replaces_the_draft(db: SqliteStore, path: Path) -> None:
    async with db.transaction() as tx:
        await tx.save_draft(5001, 6001, make_draft(revision=1))
        await tx.save_draft(5001, 6002, make_draft(revision=2))
        stored = await tx.get_draft(5001)
        assert await tx.count_drafts() == 1
    assert stored is not None
    assert stored.revision == 2
    assert read(path, "SELECT chat_id FROM drafts WHERE user_id = 5001") == [(6002,)]


async def test_drafts_are_kept_apart_and_deleted(db: SqliteStore) -> None:
    async with db.transaction() as tx:
        await tx.save_draft(1, 1, make_draft(revision=1))
        await tx.save_draft(2, 2, make_draft(revision=2))
        await tx.delete_draft(1)
        assert await tx.get_draft(1) is None
        other = await tx.get_draft(2)
        assert other is not None
        assert other.revision == 2
        assert await tx.get_draft(3) is None
        await tx.delete_draft(3)  # deleting what is not there is fine
        assert await tx.count_drafts() == 1
