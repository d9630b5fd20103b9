"""Drafts kept in memory: the next answer's draft needs no read, and is always the stored one."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.trips import Trips

from bot.core.draft import Draft
from bot.storage.sqlite.database import SqliteStore
from bot.storage.sqlite.drafts import UNKNOWN, DraftCache
from bot.storage.store import AlreadyProcessed

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def draft(revision: int) -> Draft:
    return Draft(
        flow_id="intake",
        flow_version=1,
        step="name",
        revision=revision,
        started_at=NOW,
        updated_at=NOW,
    )


def stored_revision(path: Path, user_id: int) -> int | None:
    """Return the revision of the draft in the file, read as another program would."""
    with sqlite3.connect(path) as db:
        row = db.execute("SELECT state FROM drafts WHERE user_id = ?", (user_id,)).fetchone()
    return None if row is None else Draft.model_validate_json(row[0]).revision


async def reopened_with(path: Path, user_id: int, stored: Draft) -> SqliteStore:
    """Store ``stored`` as ``user_id``'s draft, then open the file again: nothing kept."""
    first = await SqliteStore.open(path, watch_every=None)
    async with first.transaction() as tx:
        await tx.save_draft(user_id, user_id, stored)
    await first.close()
    return await SqliteStore.open(path, watch_every=None)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "casework.sqlite3"


@pytest.fixture
async def db(path: Path) -> AsyncIterator[SqliteStore]:
    database = await SqliteStore.open(path, watch_every=None)
    try:
        yield database
    finally:
        await database.close()


async def test_an_answers_draft_is_claimed_without_a_read_once_kept(
    db: SqliteStore, path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with db.transaction() as tx:
        assert await tx.claim_draft(1, 501, NOW) == (True, None)
        await tx.save_draft(501, 501, draft(1))
    trips = Trips(db, monkeypatch)
    async with db.transaction() as tx:
        fresh, found = await tx.claim_draft(2, 501, NOW)
        assert (fresh, found) == (True, draft(1))
        await tx.save_draft(501, 501, draft(2))
    assert trips.count == 1  # the claim, the draft and the commit went together
    assert stored_revision(path, 501) == 2
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT count(*) FROM processed_updates WHERE update_id = 2").fetchone()


async def test_a_second_delivery_of_a_kept_drafts_update_commits_nothing(
    db: SqliteStore, path: Path
) -> None:
    async with db.transaction() as tx:
        await tx.claim_draft(1, 501, NOW)
        await tx.save_draft(501, 501, draft(1))

    async def again() -> None:
        async with db.transaction() as tx:
            fresh, _ = await tx.claim_draft(1, 501, NOW)
            assert fresh  # not known yet: found out as the transaction goes on
            await tx.save_draft(501, 501, draft(9))
            await tx.count_outcome("2026-12-01", "started")

    with pytest.raises(AlreadyProcessed):
        await again()
    assert stored_revision(path, 501) == 1
    async with db.transaction() as tx:
        assert await tx.get_draft(501) == draft(1)
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT count(*) FROM intake_counts").fetchone() == (0,)


async def test_a_rolled_back_change_is_not_kept(db: SqliteStore) -> None:
    async with db.transaction() as tx:
        await tx.save_draft(501, 501, draft(1))

    async def failing() -> None:
        async with db.transaction() as tx:
            await tx.save_draft(501, 501, draft(2))
            await tx.delete_draft(502)
            raise RuntimeError("the handler failed")

    with pytest.raises(RuntimeError):
        await failing()
    async with db.transaction() as tx:
        assert await tx.get_draft(501) == draft(1)


async def test_a_deleted_draft_is_gone_from_memory_too(db: SqliteStore, path: Path) -> None:
    async with db.transaction() as tx:
        await tx.save_draft(501, 501, draft(1))
    async with db.transaction() as tx:
        await tx.delete_draft(501)
    async with db.transaction() as tx:
        assert await tx.get_draft(501) is None
        assert await tx.claim_draft(5, 501, NOW) == (True, None)
    assert stored_revision(path, 501) is None


async def test_a_state_rewritten_by_the_sweep_is_the_one_kept(db: SqliteStore) -> None:
    async with db.transaction() as tx:
        await tx.save_draft(501, 501, draft(1))
    async with db.transaction() as tx:
        await tx.set_draft_state(501, draft(3))
    async with db.transaction() as tx:
        assert await tx.get_draft(501) == draft(3)


def test_the_least_recently_used_are_forgotten_first() -> None:
    cache = DraftCache(size=2)
    cache.keep({1: draft(1), 2: draft(2)})
    assert cache.get(1) == draft(1)  # 1 is now the most recent
    cache.keep({3: None})
    assert cache.get(2) is UNKNOWN
    assert cache.get(1) == draft(1)
    assert cache.get(3) is None


async def test_a_draft_not_kept_is_read_with_the_language_in_one_trip(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = await reopened_with(path, 7, draft(3).in_language("cy"))
    try:
        trips = Trips(store, monkeypatch)
        async with store.autocommit() as tx:
            found, language = await tx.draft_and_language(7, 7)
            assert trips.count == 1
            assert (found, language) == (await tx.get_draft(7), await tx.language_of(7))
            assert found is not None
            assert (found.revision, language) == (3, "cy")
            assert await tx.draft_and_language(8, 8) == (None, None)
    finally:
        await store.close()


def test_once_told_who_has_a_draft_anyone_else_has_none() -> None:
    cache = DraftCache(size=1)
    assert cache.get(1) is UNKNOWN  # not told: anyone may have one
    cache.know_holders({1, 2})
    assert cache.get(3) is None
    assert cache.get(1) is UNKNOWN
    cache.keep({3: draft(1), 2: None})
    cache.keep({4: draft(1)})  # only one kept: 3 and 2 are no longer
    assert cache.get(3) is UNKNOWN  # has one: read it
    assert cache.get(2) is None  # deleted
    cache.forget([4])  # a change that failed: read again
    assert cache.get(4) is UNKNOWN


async def test_a_new_persons_first_message_needs_no_read(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = await reopened_with(path, 7, draft(3))
    try:
        trips = Trips(store, monkeypatch)
        async with store.transaction() as tx:
            assert await tx.claim_draft(1, 501, NOW) == (True, None)
            await tx.save_draft(501, 501, draft(1))
        assert trips.count == 1  # the claim and the draft went with the commit
        async with store.transaction() as tx:  # stored before this store opened: read
            fresh, found = await tx.claim_draft(2, 7, NOW)
        assert trips.count == 3
        assert (fresh, found) == (True, draft(3))

        async def again() -> None:  # an update already processed, from someone new
            async with store.transaction() as tx:
                assert await tx.claim_draft(1, 502, NOW) == (True, None)
                await tx.save_draft(502, 502, draft(1))

        with pytest.raises(AlreadyProcessed):  # found out at the commit, without a read
            await again()
        assert trips.count == 5  # its one trip, and the ROLLBACK
        assert stored_revision(path, 502) is None
    finally:
        await store.close()
    assert stored_revision(path, 501) == 1
