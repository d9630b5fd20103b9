"""Processed update ids are forgotten once Telegram will not deliver them again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.storage.sqlite.database import SqliteStore

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    """Return a fresh store, closed after the test."""
    opened = await SqliteStore.open(tmp_path / "db.sqlite3")
    try:
        yield opened
    finally:
        await opened.close()


async def test_forget_processed_drops_old_ids_and_keeps_recent_ones(store: SqliteStore) -> None:
    async with store.transaction() as tx:
        assert await tx.mark_processed(1, NOW - timedelta(days=3))
        assert await tx.mark_processed(2, NOW - timedelta(hours=1))
        assert not await tx.mark_processed(2, NOW)
    async with store.transaction() as tx:
        assert await tx.forget_processed(NOW - timedelta(days=2)) == 1
    async with store.autocommit() as tx:
        assert await tx.admission(1, 0) == (False, False)
        assert await tx.admission(2, 0) == (True, False)
    async with store.transaction() as tx:
        assert await tx.mark_processed(1, NOW)  # forgotten, so new again
