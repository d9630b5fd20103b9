"""Backups of the database while the bot runs, and restoring one with the bot stopped."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.storage.sqlite.health import describe_error, file_problem, sync_path, where
from bot.storage.store import StoreError


@dataclass(frozen=True, slots=True)
class Copy:
    """A database file checked whole: where it is, its size and what it holds."""

    path: Path
    size: int
    cases: int
    drafts: int
    schema: int


def backup(database: Path, target: Path) -> Copy:
    """Copy the database, consistently even while the bot writes, to a new owner-only file.

    ``VACUUM INTO`` reads one snapshot of the database (in WAL mode the bot's writes go on
    meanwhile); the copy is checked whole before it takes its name, so a backup that exists
    is a good one.
    """
    if not database.is_file():
        raise StoreError(f"{where(database)} does not exist: there is nothing to back up.")
    problem = file_problem(database)
    if problem is not None:
        raise StoreError(problem)
    if target.is_dir():
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        target = target / f"{database.stem}-{stamp}.sqlite3"
    if target.exists():
        raise StoreError(f"Backup {target} exists already; give a new file name.")
    if not target.parent.is_dir():
        raise StoreError(f"Backup {target} cannot be made: the folder {target.parent} is missing.")
    partial = target.with_name(f".{target.name}.partial")
    try:
        _private_empty_file(partial)
        with contextlib.closing(sqlite3.connect(database, timeout=30)) as source:
            source.execute("VACUUM INTO ?", (str(partial),))
        copy = inspect(partial)
        sync_path(partial)
        os.replace(partial, target)
        sync_path(target.parent)
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        if (getattr(exc, "sqlite_errorname", "") or "").startswith("SQLITE_FULL"):
            raise StoreError(f"Backup {target} cannot be written: the disk is full.") from exc
        raise StoreError(f"Backup failed: {describe_error(database, exc)}") from exc
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise StoreError(f"Backup {target} cannot be written: {exc.strerror}.") from exc
    except StoreError:
        partial.unlink(missing_ok=True)
        raise
    return Copy(target, copy.size, copy.cases, copy.drafts, copy.schema)


def inspect(path: Path, name: str | None = None) -> Copy:
    """Check a database file whole (integrity, schema); return what it holds.

    Messages call the file ``name`` (default: its path).
    """
    name = name or str(path)
    problem = file_problem(path) if path.is_file() else f"{where(path)} is not a file."
    if problem is not None:
        raise StoreError(problem.replace(where(path), name))
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            verdict = db.execute("PRAGMA integrity_check").fetchall()
            if verdict != [("ok",)]:
                raise StoreError(f"{name} is damaged ({verdict[0][0]}); restore it from a backup.")
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
            if not {"schema_migrations", "cases", "drafts"} <= tables:
                raise StoreError(
                    f"{name} is another program's SQLite database; point it at the bot's"
                    " database file, or at a new one."
                )
            schema = db.execute("SELECT max(version) FROM schema_migrations").fetchone()[0]
            cases = db.execute("SELECT count(*) FROM cases").fetchone()[0]
            drafts = db.execute("SELECT count(*) FROM drafts").fetchone()[0]
    except sqlite3.Error as exc:
        raise StoreError(f"{name} cannot be read as a database: {exc}.") from exc
    return Copy(path, path.stat().st_size, int(cases), int(drafts), int(schema or 0))


def restore(copy: Path, database: Path) -> tuple[Copy, Path | None]:
    """Put a backup in the database's place (the bot stopped); keep the old file beside it.

    Returns what the restored database holds, and where the one it replaced was moved.
    """
    found = inspect(copy)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    database.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    incoming = database.with_name(f".{database.name}.restoring")
    incoming.unlink(missing_ok=True)
    aside: Path | None = None
    try:
        _private_empty_file(incoming)
        with (
            contextlib.closing(sqlite3.connect(f"file:{copy}?mode=ro", uri=True)) as source,
            contextlib.closing(sqlite3.connect(incoming)) as target,
        ):
            source.backup(target)
        sync_path(incoming)
        if database.exists():
            aside = database.with_name(f"{database.name}.before-restore-{stamp}")
            _settle(database)
            os.replace(database, aside)
        # A journal left under the old name would be replayed onto the restored file.
        kept = aside or database.with_name(f"{database.name}.stale-{stamp}")
        for suffix in ("-wal", "-shm"):
            journal = database.with_name(database.name + suffix)
            if journal.exists():
                os.replace(journal, kept.with_name(kept.name + suffix))
        os.replace(incoming, database)
        sync_path(database.parent)
    except sqlite3.Error as exc:
        incoming.unlink(missing_ok=True)
        raise StoreError(f"Restore into {where(database)} failed: {exc}.") from exc
    except OSError as exc:
        incoming.unlink(missing_ok=True)
        raise StoreError(f"Restore into {where(database)} failed: {exc.strerror}.") from exc
    restored = inspect(database)
    return Copy(database, restored.size, found.cases, found.drafts, found.schema), aside


def _settle(database: Path) -> None:
    """Fold a database's WAL into its file, so the file alone is the whole database."""
    with contextlib.suppress(sqlite3.Error), contextlib.closing(sqlite3.connect(database)) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _private_empty_file(path: Path) -> None:
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
