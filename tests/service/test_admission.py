"""The guard: which updates are processed at all, decided without a read where it can be."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.flood import FloodLimit, Verdict
from bot.service.guard import REMEMBERED, Guard
from bot.storage.sqlite.database import SqliteStore
from bot.storage.sqlite.tx import SqliteTx

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
BOT = 4242
BLOCKED, CONSTITUENT = 501, 502


class CountingStore:
    """A real store that counts the reads and writes opened on it."""

    def __init__(self, store: SqliteStore) -> None:
        self.store = store
        self.opened = 0

    def autocommit(self) -> AbstractAsyncContextManager[SqliteTx]:
        self.opened += 1
        return self.store.autocommit()

    def transaction(self) -> AbstractAsyncContextManager[SqliteTx]:
        self.opened += 1
        return self.store.transaction()


@asynccontextmanager
async def opened(path: Path) -> AsyncIterator[SqliteStore]:
    store = await SqliteStore.open(path, watch_every=None)
    try:
        yield store
    finally:
        await store.close()


def guard_on(store: CountingStore) -> Guard:
    flood = FloodLimit(1000, 60, 300)
    return Guard(store, flood, lambda: NOW, lambda: 0.0, frozenset())  # type: ignore[arg-type]


async def earlier_run(store: SqliteStore) -> None:
    """What an earlier run left: updates 1-10 processed, and one sender blocked."""
    async with store.transaction() as tx:
        await tx.adopt_bot(BOT)
        for update_id in range(1, 11):
            await tx.mark_processed(update_id, NOW)
        await tx.block(BLOCKED, NOW, 1, "SOT-1")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[CountingStore]:
    async with opened(tmp_path / "db.sqlite3") as real:
        await earlier_run(real)
        yield CountingStore(real)


async def test_a_new_update_from_anyone_not_blocked_needs_no_read(store: CountingStore) -> None:
    guard = guard_on(store)
    await guard.adopt_bot(BOT)
    store.opened = 0
    assert await guard.admit(11, CONSTITUENT) is Verdict.ALLOW
    assert await guard.admit(12, None) is Verdict.ALLOW
    assert store.opened == 0


async def test_updates_of_an_earlier_run_and_blocked_senders_are_still_dropped(
    store: CountingStore,
) -> None:
    guard = guard_on(store)
    await guard.adopt_bot(BOT)
    assert await guard.admit(7, CONSTITUENT) is Verdict.DROP  # processed before the restart
    assert await guard.admit(13, BLOCKED) is Verdict.DROP  # blocked before the restart
    assert await guard.admit(14, CONSTITUENT) is Verdict.ALLOW


async def test_an_update_processed_in_this_run_is_dropped_when_it_comes_again(
    store: CountingStore,
) -> None:
    guard = guard_on(store)
    await guard.adopt_bot(BOT)
    assert await guard.admit(20, CONSTITUENT) is Verdict.ALLOW
    await guard.done(20)
    assert await guard.admit(21, CONSTITUENT) is Verdict.ALLOW
    guard.recorded(21)  # recorded by its handler, with its effect
    store.opened = 0
    assert await guard.admit(20, CONSTITUENT) is Verdict.DROP
    assert await guard.admit(21, CONSTITUENT) is Verdict.DROP
    assert store.opened == 0


async def test_an_update_that_failed_is_admitted_again(store: CountingStore) -> None:
    guard = guard_on(store)
    await guard.adopt_bot(BOT)
    assert await guard.admit(30, CONSTITUENT) is Verdict.ALLOW
    # Its handler failed: it was never recorded as processed, so a second delivery counts.
    assert await guard.admit(30, CONSTITUENT) is Verdict.ALLOW


async def test_blocks_and_unblocks_committed_in_this_run_hold_at_once(
    store: CountingStore,
) -> None:
    guard = guard_on(store)
    await guard.adopt_bot(BOT)
    guard.note_block(CONSTITUENT, blocked=True)
    guard.note_block(BLOCKED, blocked=False)
    async with store.store.transaction() as tx:  # as StaffService.block commits them
        await tx.block(CONSTITUENT, NOW, 1, "SOT-2")
        await tx.unblock(BLOCKED)
    assert await guard.admit(40, CONSTITUENT) is Verdict.DROP
    assert await guard.admit(41, BLOCKED) is Verdict.ALLOW


async def test_updates_forgotten_from_memory_are_asked_of_the_store(
    store: CountingStore,
) -> None:
    guard = guard_on(store)
    await guard.adopt_bot(BOT)
    first = 100
    for update_id in range(first, first + REMEMBERED + 5):
        await guard.done(update_id)
    store.opened = 0
    # The oldest are no longer remembered: the store still knows them.
    assert await guard.admit(first, CONSTITUENT) is Verdict.DROP
    assert store.opened == 1


async def test_before_the_store_is_read_every_update_is_asked_of_it(
    store: CountingStore,
) -> None:
    guard = guard_on(store)
    store.opened = 0
    assert await guard.admit(7, CONSTITUENT) is Verdict.DROP
    assert await guard.admit(50, BLOCKED) is Verdict.DROP
    assert await guard.admit(51, CONSTITUENT) is Verdict.ALLOW
    assert store.opened >= 3
