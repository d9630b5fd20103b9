"""Operator mistakes and maintenance: bad files, a deleted database, full disks, backups."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import sqlite3
import stat
import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.case import Case, CaseStatus, Consent, Urgency
from bot.core.references import make_reference, parse_reference
from bot.storage.lock import exclusive
from bot.storage.sqlite.backup import backup, inspect, restore
from bot.storage.sqlite.database import SqliteStore
from bot.storage.sqlite.health import APPLICATION_ID
from bot.storage.store import StoreError

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    """Return where the database goes."""
    return tmp_path / "data" / "casework.sqlite3"


def a_case(number: int, story: str = "") -> Case:
    """Return a sent case with a reference made from ``number``."""
    return Case(
        reference=make_reference("SOT", number),
        user_id=1000 + number,
        chat_id=1000 + number,
        created_at=NOW + timedelta(minutes=number),
        updated_at=NOW + timedelta(minutes=number),
        status=CaseStatus.NEW,
        flow_id="intake",
        flow_version=1,
        category="housing",
        constituency_code="E14001520",
        constituency_name="Stoke-on-Trent Central",
        answers={"full_name": f"Person {number}", "postcode": "ST4 1HH", "what_happened": story},
        consent=Consent(version="2026-11-v1", answer="yes", recorded_at=NOW),
        urgency=Urgency(urgent=False, reasons=()),
    )


async def add_cases(store: SqliteStore, numbers: range, story: str = "") -> None:
    """Store one case per number, each in its own transaction."""
    for number in numbers:
        async with store.transaction() as tx:
            await tx.create_case(a_case(number, story))


def integrity(path: Path) -> str:
    """Return SQLite's verdict on a database file."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])


def delete(path: Path, what: str) -> None:
    """Delete the database file, the file and its journals, or its whole folder."""
    if what == "the folder":
        shutil.rmtree(path.parent)
        return
    path.unlink()
    if what == "the file and its journals":
        for journal in path.parent.glob("*-*"):
            journal.unlink()


def leftovers(folder: Path, word: str) -> list[str]:
    """Return the names of the files in ``folder`` whose name has ``word`` in it."""
    return sorted(p.name for p in folder.iterdir() if word in p.name)


def references(path: Path) -> list[str]:
    """Return the references of every case in a database file, read as another process would."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        return [row[0] for row in db.execute("SELECT reference FROM cases ORDER BY id")]


def mode(path: Path) -> int:
    """Return a file's permission bits."""
    return stat.S_IMODE(path.stat().st_mode)


# --- files that cannot be the database -------------------------------------------------------


def a_folder(path: Path) -> None:
    """Make ``path`` a folder."""
    path.mkdir(parents=True)


def a_text_file(path: Path) -> None:
    """Make ``path`` a text file (a .env copied to the wrong name)."""
    path.parent.mkdir(parents=True)
    path.write_text("DATABASE_PATH=x\n" * 20)


def another_programs_database(path: Path) -> None:
    """Make ``path`` a SQLite database of some other program."""
    path.parent.mkdir(parents=True)
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY)")


def newer_database(path: Path) -> None:
    """Make ``path`` a database written by a later version of the bot."""
    path.parent.mkdir(parents=True)
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        db.execute("CREATE TABLE schema_migrations (version INTEGER, name TEXT, applied_at TEXT)")
        db.execute("INSERT INTO schema_migrations VALUES (999, 'future', '')")
        db.commit()


def a_folder_that_is_a_file(path: Path) -> None:
    """Make the folder ``path`` should be in a file."""
    path.parent.parent.mkdir(parents=True, exist_ok=True)
    path.parent.write_text("x")


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (a_folder, "is a folder; expected a file in it"),
        (a_text_file, "is not a SQLite database"),
        (another_programs_database, "is another program's SQLite database"),
        (newer_database, "was written by a newer version of the bot (schema 999"),
        (a_folder_that_is_a_file, "is a file, not a folder"),
    ],
    ids=["folder", "not-sqlite", "another-program", "newer", "folder-is-a-file"],
)
async def test_a_file_that_cannot_be_the_database_is_one_line(
    path: Path, make: Callable[[Path], None], expected: str
) -> None:
    make(path)
    with pytest.raises(StoreError) as caught:
        await SqliteStore.open(path)
    line = str(caught.value)
    assert expected in line
    assert "\n" not in line
    assert line.startswith(f"DATABASE_PATH {path} ")


@contextlib.contextmanager
def immutable(path: Path) -> Iterator[None]:
    """Make a file read-only even for root (chattr +i), or skip where that is not possible."""
    done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"chattr +i is not possible here: {done.stderr.decode().strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=False)


async def test_a_read_only_database_stops_start_up_instead_of_answering_no_one(
    path: Path,
) -> None:
    store = await SqliteStore.open(path, watch_every=None)
    await add_cases(store, range(1, 3))
    await store.close()
    with immutable(path), pytest.raises(StoreError) as caught:
        await SqliteStore.open(path)
    assert (
        str(caught.value) == f"DATABASE_PATH {path} is read-only; the bot must be able to write it."
    )


async def test_a_full_disk_while_running_is_one_warning_then_one_when_it_recovers(
    path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = await SqliteStore.open(path, watch_every=None)
    try:
        # SQLite's own page limit stands in for the disk: the error is SQLITE_FULL either way.
        async with store.autocommit() as tx:
            [(pages,)] = await tx.db.execute_fetchall("PRAGMA page_count")
            await tx.db.execute(f"PRAGMA max_page_count = {pages}")
        for number in range(1, 4):
            with pytest.raises(sqlite3.OperationalError, match="full"):
                await add_cases(store, range(number, number + 1), story="x" * 20_000)
        async with store.autocommit() as tx:
            await tx.db.execute("PRAGMA max_page_count = 1073741823")
        await add_cases(store, range(10, 11))
    finally:
        await store.close()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        f"The disk holding DATABASE_PATH {path} is full; free some space. Nothing is lost: what"
        " cannot be stored is not answered, and is taken up again once it can be.",
        f"DATABASE_PATH {path} can be written again.",
    ]
    assert references(path) == [make_reference("SOT", 10)]


# --- a database deleted or replaced while the bot runs ------------------------------------


@pytest.mark.parametrize("deleted", ["the file", "the file and its journals", "the folder"])
async def test_a_database_deleted_while_running_is_written_back(
    path: Path, deleted: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = await SqliteStore.open(path, watch_every=None)
    try:
        await add_cases(store, range(1, 5))
        delete(path, deleted)
        await add_cases(store, range(5, 6))  # still written, to a file with no name
        await store.keep_file()
        assert mode(path) == 0o600
        await add_cases(store, range(6, 7))
    finally:
        await store.close()
    assert references(path) == [make_reference("SOT", n) for n in range(1, 7)]
    [warning] = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.startswith(f"The database file {path} was deleted while the bot was running")
    assert integrity(path) == "ok"
    reopened = await SqliteStore.open(path, watch_every=None)
    await reopened.close()
    assert leftovers(path.parent, "restoring") == []


async def test_the_watch_notices_by_itself_and_so_does_closing(path: Path) -> None:
    store = await SqliteStore.open(path, watch_every=0.05)
    await add_cases(store, range(1, 3))
    delete(path, "the file")
    for _ in range(100):
        if "casework.sqlite3" in leftovers(path.parent, ""):
            break
        await asyncio.sleep(0.02)
    await add_cases(store, range(3, 4))
    delete(path, "the file")
    await store.close()  # before the next look: closing writes it back too
    assert references(path) == [make_reference("SOT", n) for n in range(1, 4)]


async def test_a_database_replaced_while_running_is_saved_beside_it(path: Path) -> None:
    store = await SqliteStore.open(path, watch_every=None)
    try:
        await add_cases(store, range(1, 4))
        other = path.with_name("restored.sqlite3")
        first = await SqliteStore.open(other, watch_every=None)
        await add_cases(first, range(50, 51))
        await first.close()
        os.replace(other, path)
        await store.keep_file()
        await add_cases(store, range(51, 52))
    finally:
        await store.close()
    [saved] = leftovers(path.parent, ".replaced-")
    assert references(path.parent / saved) == [make_reference("SOT", n) for n in range(1, 4)]
    assert references(path) == [make_reference("SOT", n) for n in (50, 51)]
    assert integrity(path) == "ok"


# --- one bot per database ------------------------------------------------------------------


def test_a_second_holder_of_the_database_is_refused(path: Path) -> None:
    with exclusive(path):
        with pytest.raises(StoreError) as caught, exclusive(path):
            pass
        assert str(caught.value) == (
            f"DATABASE_PATH {path} is in use by another casework-bot (process {os.getpid()});"
            " stop it first, or give this one its own DATABASE_PATH."
        )
    with exclusive(path):  # released when the first holder is done
        pass


# --- backup and restore --------------------------------------------------------------------


async def test_a_backup_taken_during_writes_restores_with_every_case(
    path: Path, tmp_path: Path
) -> None:
    store = await SqliteStore.open(path, watch_every=None)
    stop = asyncio.Event()

    async def keep_writing() -> int:
        number = 1
        while not stop.is_set():
            await add_cases(store, range(number, number + 1))
            number += 1
            await asyncio.sleep(0)
        return number - 1

    writer = asyncio.create_task(keep_writing())
    backups = tmp_path / "backups"
    await asyncio.to_thread(backups.mkdir)
    try:
        while len(references(path)) < 20:  # noqa: ASYNC110 -- another task writes them
            await asyncio.sleep(0.01)
        before = len(references(path))
        copy = await asyncio.to_thread(backup, path, backups)
        after = len(references(path))
        stop.set()
        written = await writer
    finally:
        stop.set()
        await asyncio.gather(writer, return_exceptions=True)
        await store.close()
    assert copy.path.parent == backups
    assert mode(copy.path) == 0o600
    assert before <= copy.cases <= after <= written
    assert leftovers(backups, "") == [copy.path.name]  # no partial file left

    restored, aside = restore(copy.path, path)
    assert aside is not None
    assert references(aside) == [make_reference("SOT", n) for n in range(1, written + 1)]
    assert restored.cases == copy.cases
    assert inspect(path).cases == copy.cases  # integrity_check passes on the restored file
    assert mode(path) == 0o600
    reopened = await SqliteStore.open(path, watch_every=None)
    try:
        async with reopened.transaction() as tx:
            for number in range(1, copy.cases + 1):
                stored = await tx.get_case(make_reference("SOT", number))
                assert stored is not None
                assert parse_reference(stored.case.reference, "SOT") == stored.case.reference
                assert stored.case.answers["full_name"] == f"Person {number}"
    finally:
        await reopened.close()


async def test_backup_and_restore_refuse_what_they_cannot_do(path: Path, tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist: there is nothing to back up"):
        backup(path, tmp_path / "copy.sqlite3")
    store = await SqliteStore.open(path, watch_every=None)
    await store.close()
    taken, notes = tmp_path / "taken.sqlite3", tmp_path / "notes.txt"
    await asyncio.to_thread(taken.write_text, "")
    with pytest.raises(StoreError, match="exists already; give a new file name"):
        backup(path, taken)
    await asyncio.to_thread(notes.write_text, "not a backup " * 10)
    with pytest.raises(StoreError, match="is not a SQLite database"):
        restore(tmp_path / "notes.txt", path)
    assert references(path) == []
