"""Checks before any handler runs: already processed, blocked, or flooding."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.core.flood import FloodLimit, Verdict
from bot.storage.sqlite.database import Database
from bot.storage.sqlite.inbox import forget_updates, keep_updates, list_unprocessed
from bot.storage.sqlite.safeguards import admission, forget_processed, mark_processed

KEEP_PROCESSED = timedelta(days=2)


class Guard:
    """Decide whether an update is processed at all."""

    def __init__(
        self,
        db: Database,
        flood: FloodLimit,
        clock: Callable[[], datetime],
        monotonic: Callable[[], float],
        exempt: frozenset[int],
    ) -> None:
        """Keep the database, the flood limit and who is exempt from it (staff)."""
        self.db, self.flood, self.clock, self.monotonic = db, flood, clock, monotonic
        self.exempt = exempt

    async def admit(self, update_id: int, user_id: int | None) -> Verdict:
        """Return ALLOW to process the update, WARN to warn the sender once, or DROP."""
        async with self.db.read() as db:
            seen, blocked = await admission(db, update_id, user_id or 0)
            if seen:
                return Verdict.DROP
            if blocked and user_id not in self.exempt:
                await mark_processed(db, update_id, self.clock())
                return Verdict.DROP
        if user_id is None or user_id in self.exempt:
            return Verdict.ALLOW
        return self.flood.check(user_id, self.monotonic())

    async def done(self, update_id: int) -> None:
        """Record that an update has been processed (if its handler did not already)."""
        # One self-committing statement; answers were already marked with their effect.
        async with self.db.read() as db:
            await mark_processed(db, update_id, self.clock())

    async def keep(self, updates: Sequence[dict[str, Any]]) -> None:
        """Store fetched updates until they are processed."""
        async with self.db.transaction() as db:
            await keep_updates(db, updates, self.clock())

    async def unprocessed(self) -> list[dict[str, Any]]:
        """Return fetched updates that were never processed."""
        async with self.db.read() as db:
            return await list_unprocessed(db)

    async def sweep(self) -> None:
        """Forget what is kept of processed updates, once Telegram will not send them again."""
        async with self.db.transaction() as db:
            await forget_updates(db, self.clock() - KEEP_PROCESSED)
            await forget_processed(db, self.clock() - KEEP_PROCESSED)
