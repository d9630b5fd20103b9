"""Delivered outbox entries recorded as sent with the store's next trip, or moments later."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.catalogue import Msg
from bot.storage.sqlite import database as database_module
from bot.storage.sqlite.database import SqliteStore

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
ADA = 4242


@pytest.fixture
def path(tmp_path: Path) -> Path:
    """Return where the database goes."""
    return tmp_path / "casework.sqlite3"


@pytest.fixture
async def store(path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[SqliteStore]:
    """Return an open store whose records of sent entries wait for a trip (no timer)."""
    monkeypatch.setattr(database_module, "SENT_WITHIN", 3600.0)
    opened = await SqliteStore.open(path)
    yield opened
    await opened.close()


def states(path: Path) -> dict[int, str]:
    """Return each outbox entry's state as the file holds it (another connection's view)."""
    with sqlite3.connect(path) as connection:
        return dict(connection.execute("SELECT id, state FROM outbox ORDER BY id").fetchall())


async def owe(store: SqliteStore, count: int) -> list[int]:
    """Owe Ada ``count`` messages; return their entry ids."""
    async with store.transaction() as tx:
        for n in range(count):
            await tx.owe(ADA, Msg("hello", {"n": str(n)}), NOW)
    async with store.autocommit() as tx:
        lane = await tx.lane_of_chat(ADA, 10)
    return [entry.id for entry, _ in lane.waiting]


async def test_the_record_waits_for_the_next_trip_and_no_read_finds_the_entry_owed(
    store: SqliteStore, path: Path
) -> None:
    first, second = await owe(store, 2)
    store.mark_sent_soon([first], NOW)
    assert states(path) == {first: "pending", second: "pending"}
    async with store.autocommit() as tx:
        lane = await tx.lane_of_chat(ADA, 10)
    assert [entry.id for entry, _ in lane.waiting] == [second]
    assert states(path) == {first: "sent", second: "pending"}
    store.mark_sent_soon([second], NOW)
    async with store.transaction() as tx:
        await tx.owe(ADA, Msg("hello"), NOW)
    assert list(states(path).values()) == ["sent", "sent", "pending"]


async def test_with_nothing_else_to_go_the_record_is_written_within_moments(
    store: SqliteStore, path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    [entry] = await owe(store, 1)
    monkeypatch.setattr(database_module, "SENT_WITHIN", 0.01)
    store.mark_sent_soon([entry], NOW)
    for _ in range(200):
        if states(path)[entry] == "sent":
            break
        await asyncio.sleep(0.01)
    assert states(path) == {entry: "sent"}


async def test_a_record_a_failed_block_carried_is_kept_for_the_next(
    store: SqliteStore, path: Path
) -> None:
    [entry] = await owe(store, 1)
    store.mark_sent_soon([entry], NOW)

    async def failing() -> None:
        async with store.transaction() as tx:
            await tx.owe(ADA, Msg("hello"), NOW)
            await tx.db.execute("SELECT 1")  # the records went in this trip
            raise RuntimeError("the block failed")

    with pytest.raises(RuntimeError):
        await failing()
    assert states(path) == {entry: "pending"}
    async with store.autocommit() as tx:
        await tx.lane_of_chat(ADA, 10)
    assert states(path) == {entry: "sent"}


async def test_closing_writes_the_records_waiting(path: Path) -> None:
    opened = await SqliteStore.open(path)
    entries = await owe(opened, 2)
    opened.mark_sent_soon(entries, NOW)
    await opened.close()
    assert set(states(path).values()) == {"sent"}


async def test_a_timed_write_that_fails_keeps_the_records_and_tries_again(
    store: SqliteStore,
    path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    [entry] = await owe(store, 1)
    monkeypatch.setattr(database_module, "SENT_WITHIN", 0.01)
    monkeypatch.setattr(database_module, "SENT_RETRY", 0.2)
    monkeypatch.setattr(database_module, "MARK_SENT", "UPDATE no_such_table SET x = ?, y = ?")
    store.mark_sent_soon([entry], NOW)
    for _ in range(100):
        if "could not record" in caplog.text:
            break
        await asyncio.sleep(0.01)
    assert "could not record delivered messages as sent" in caplog.text
    monkeypatch.undo()  # the store can write them again
    monkeypatch.setattr(database_module, "SENT_WITHIN", 3600.0)
    assert states(path) == {entry: "pending"}
    for _ in range(100):
        if states(path)[entry] == "sent":
            break
        await asyncio.sleep(0.01)
    assert states(path) == {entry: "sent"}
    assert caplog.text.count("could not record") == 1
