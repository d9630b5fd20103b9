"""Count the trips a store makes to aiosqlite's database thread."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from bot.storage.sqlite.database import SqliteStore


class Trips:
    """Count the trips one store makes to aiosqlite's database thread."""

    def __init__(self, store: SqliteStore, monkeypatch: pytest.MonkeyPatch) -> None:
        """Start counting ``store``'s trips (until ``monkeypatch`` is undone)."""
        self.count = 0
        connection = store._connection
        execute: Callable[..., Awaitable[object]] = connection._execute

        async def counted(fn: Callable[..., object], *args: object, **kwargs: object) -> object:
            self.count += 1
            return await execute(fn, *args, **kwargs)

        monkeypatch.setattr(connection, "_execute", counted)
