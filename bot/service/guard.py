"""Checks before any handler runs: already processed, blocked, or flooding."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.core.flood import FloodLimit, Verdict
from bot.storage.store import Store

KEEP_PROCESSED = timedelta(days=2)
# Updates noted as recorded by their handler are forgotten once processed; should processing
# stop part-way, this many at most are kept.
MAX_RECORDED = 10_000
# The newest updates known processed in this run, remembered so a new update needs no read;
# about an older one, the store is asked.
REMEMBERED = 10_000


class Guard:
    """Decide whether an update is processed at all."""

    def __init__(
        self,
        store: Store,
        flood: FloodLimit,
        clock: Callable[[], datetime],
        monotonic: Callable[[], float],
        exempt: frozenset[int],
    ) -> None:
        """Keep the database, the flood limit and who is exempt from it (staff)."""
        self.store, self.flood, self.clock, self.monotonic = store, flood, clock, monotonic
        self.exempt = exempt
        # Updates a handler recorded as processed in the transaction of their effect.
        self._recorded: set[int] = set()
        # Once the store's state is read (adopt_bot): who is blocked, and the update ids known
        # processed in this run (newest last). An update above ``_asked_up_to`` and not among
        # them was never processed, as every update this run processes is noted; until then
        # (None), and about any update at or below it, the store is asked.
        self._blocked: set[int] = set()
        self._processed: dict[int, None] = {}
        self._asked_up_to: int | None = None

    async def admit(self, update_id: int, user_id: int | None) -> Verdict:
        """Return ALLOW to process the update, WARN to warn the sender once, or DROP.

        A new update from someone not blocked is decided without reading the store.
        """
        if self._asked_up_to is not None and update_id > self._asked_up_to:
            if update_id in self._processed:
                return Verdict.DROP
            if user_id is None or user_id not in self._blocked:
                return await self._flood_check(update_id, user_id)
        async with self.store.autocommit() as tx:
            seen, blocked = await tx.admission(update_id, user_id or 0)
            if seen:
                return Verdict.DROP
            if blocked and user_id not in self.exempt:
                await tx.mark_processed(update_id, self.clock())
                self._note(update_id)
                return Verdict.DROP
        return await self._flood_check(update_id, user_id)

    async def _flood_check(self, update_id: int, user_id: int | None) -> Verdict:
        if user_id is None or user_id in self.exempt:
            return Verdict.ALLOW
        verdict = self.flood.check(user_id, self.monotonic())
        if verdict is not Verdict.ALLOW:
            # Handled by being ignored: replayed after a restart, it must not be read.
            async with self.store.autocommit() as tx:
                await tx.mark_processed(update_id, self.clock())
            self._note(update_id)
        return verdict

    async def adopt_bot(self, bot_id: int) -> int:
        """Record which bot's updates these are; forget another bot's. Return how many were.

        Then learn who is blocked and how far processing had gone, so that from now on a
        new update is admitted without reading the store.
        """
        async with self.store.transaction() as tx:
            forgotten = await tx.adopt_bot(bot_id)
            self._blocked, newest = await tx.guard_state()
        self._processed.clear()
        self._asked_up_to = newest
        return forgotten

    def note_block(self, user_id: int, blocked: bool) -> None:
        """Note a committed block (or unblock) of a sender."""
        if blocked:
            self._blocked.add(user_id)
        else:
            self._blocked.discard(user_id)

    def _note(self, update_id: int) -> None:
        """Note an update recorded as processed; the oldest noted is left to the store."""
        if self._asked_up_to is None:  # the store is asked about every update until then
            return
        self._processed[update_id] = None
        if len(self._processed) > REMEMBERED:
            oldest = next(iter(self._processed))
            del self._processed[oldest]
            self._asked_up_to = max(self._asked_up_to, oldest)

    def recorded(self, update_id: int) -> None:
        """Note that a handler recorded an update as processed, with its effect."""
        if len(self._recorded) > MAX_RECORDED:  # left by updates whose processing failed
            self._recorded.clear()
        self._recorded.add(update_id)
        self._note(update_id)

    async def done(self, update_id: int) -> None:
        """Record that an update has been processed (if its handler did not already)."""
        if update_id in self._recorded:
            self._recorded.discard(update_id)
            return
        # One self-committing statement.
        async with self.store.autocommit() as tx:
            await tx.mark_processed(update_id, self.clock())
        self._note(update_id)

    async def keep(self, updates: Sequence[dict[str, Any]]) -> None:
        """Store fetched updates until they are processed."""
        async with self.store.transaction() as tx:
            await tx.keep_updates(updates, self.clock())

    async def unprocessed(self) -> list[dict[str, Any]]:
        """Return fetched updates that were never processed."""
        async with self.store.autocommit() as tx:
            return await tx.list_unprocessed()

    async def sweep(self) -> None:
        """Forget what is kept of processed updates, once Telegram will not send them again."""
        async with self.store.transaction() as tx:
            await tx.forget_updates(self.clock() - KEEP_PROCESSED)
            await tx.forget_processed(self.clock() - KEEP_PROCESSED)
