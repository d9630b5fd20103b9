"""One bot per database: an exclusive lock held for as long as a process uses it."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from bot.storage.store import StoreError


def lock_path(database: Path) -> Path:
    """Return the lock file that goes with a database file."""
    return database.with_name(database.name + ".lock")


@contextlib.contextmanager
def exclusive(database: Path) -> Iterator[None]:
    """Hold the database's lock, or raise StoreError if another process holds it."""
    path = lock_path(database)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise StoreError(
            f"DATABASE_PATH {database} cannot be used: cannot create {path} ({exc.strerror})."
        ) from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
        os.close(fd)
        raise StoreError(
            f"DATABASE_PATH {database} is in use by another casework-bot (process {holder});"
            " stop it first, or give this one its own DATABASE_PATH."
        ) from None
    try:
        # Who holds it, for the message above; a full disk leaves it unsaid, and the store
        # then says what is wrong.
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
