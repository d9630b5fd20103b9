"""What can be wrong with a database file, each said in one plain line an operator can act on."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

HEADER = b"SQLite format 3\x00"
# Stamped in the file's header (PRAGMA application_id): "CWBT", a casework bot's database.
APPLICATION_ID = 0x43574254
# SQLite result codes (primary, as in sqlite_errorcode & 0xFF) that mean the disk, not the bot.
DISK_FAULTS = {
    "SQLITE_FULL",
    "SQLITE_READONLY",
    "SQLITE_IOERR",
    "SQLITE_CANTOPEN",
    "SQLITE_NOTADB",
    "SQLITE_CORRUPT",
}


def where(path: Path) -> str:
    """Return how a message names the database."""
    return f"DATABASE_PATH {path}"


def path_problem(path: Path) -> str | None:
    """Return what stops ``path`` from being (or becoming) the database, without touching it."""
    if path.is_dir():
        return (
            f"{where(path)} is a folder; expected a file in it, like {path / 'casework.sqlite3'}."
        )
    folder = path.parent
    existing = next((p for p in (folder, *folder.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        return f"{where(path)} cannot be used: {existing} is a file, not a folder."
    if not path.exists():
        if existing is not None and not os.access(existing, os.W_OK | os.X_OK):
            return f"{where(path)} cannot be created: the folder {existing} is not writable."
        return None
    if not path.is_file():
        return f"{where(path)} is not a regular file."
    if not os.access(path, os.R_OK):
        return f"{where(path)} cannot be read by this user."
    if not os.access(path, os.W_OK):
        return f"{where(path)} is read-only; the bot must be able to write it."
    if not os.access(folder, os.W_OK | os.X_OK):
        return (
            f"{where(path)} cannot be used: its folder {folder} is not writable"
            " (SQLite keeps its journal beside the file)."
        )
    return file_problem(path)


def file_problem(path: Path) -> str | None:
    """Return why an existing file is not a SQLite database, or None if it may be one."""
    try:
        with path.open("rb") as handle:
            head = handle.read(len(HEADER))
    except OSError as exc:
        return f"{where(path)} cannot be read: {exc.strerror}."
    if head and head != HEADER:
        return f"{where(path)} is not a SQLite database; point it at the bot's database file."
    return None


def describe_error(path: Path, error: sqlite3.Error) -> str:
    """Return one line saying what a SQLite error means for the database at ``path``."""
    name = getattr(error, "sqlite_errorname", "") or ""
    if name.startswith(("SQLITE_IOERR", "SQLITE_CANTOPEN")) and disk_is_full(path):
        name = "SQLITE_FULL"  # a write that found no space is often reported as an I/O error
    if name.startswith("SQLITE_NOTADB"):
        return f"{where(path)} is not a SQLite database; point it at the bot's database file."
    if name.startswith("SQLITE_FULL"):
        return f"The disk holding {where(path)} is full; free some space."
    if name.startswith("SQLITE_READONLY"):
        return f"{where(path)} is read-only; the bot must be able to write it."
    if name.startswith("SQLITE_CANTOPEN"):
        return f"{where(path)} cannot be opened; check its folder exists and is writable."
    if name.startswith("SQLITE_CORRUPT"):
        return f"{where(path)} is damaged ({error}); restore it from a backup."
    if name.startswith("SQLITE_IOERR"):
        return f"{where(path)} cannot be written: a disk error ({error})."
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return f"{where(path)} is locked by another program."
    return f"{where(path)} cannot be used: {error}."


def disk_is_full(path: Path) -> bool:
    """Tell whether the file system holding ``path`` has (next to) no space left."""
    folder = next((p for p in (path.parent, *path.parent.parents) if p.exists()), None)
    if folder is None:
        return False
    try:
        found = os.statvfs(folder)
    except OSError:
        return False
    no_inodes = found.f_files > 0 and found.f_favail == 0
    return found.f_bavail * found.f_frsize < 64 * 1024 or no_inodes


def is_disk_fault(error: BaseException) -> bool:
    """Tell whether an error is the disk's or the file's (full, read-only...), not the bot's."""
    name = getattr(error, "sqlite_errorname", "") or ""
    return isinstance(error, sqlite3.Error) and any(name.startswith(f) for f in DISK_FAULTS)


def identity(path: Path) -> tuple[int, int] | None:
    """Return the (device, inode) of the file at ``path``, or None if there is none."""
    try:
        found = path.stat()
    except OSError:
        return None
    return found.st_dev, found.st_ino


def sync_path(path: Path) -> None:
    """Make what has been written to a file (or a folder's entries) reach the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
