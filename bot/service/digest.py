"""The daily digest for the staff group: what falls due today and what is overdue, by assignee."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from bot.core import roles
from bot.core.catalogue import Msg
from bot.core.digest import Digest, build_digest, digest_text
from bot.core.flow import Flow
from bot.core.staff import StaffDirectory
from bot.core.workdays import london_date
from bot.storage.store import Store


class DigestService:
    """Make the day's digest, and owe it to the staff group once a day."""

    def __init__(
        self,
        store: Store,
        staff: StaffDirectory,
        flow: Flow,
        *,
        clock: Callable[[], datetime],
        on_outbox: Callable[[], None],
    ) -> None:
        """Keep the store, the staff (for names and order) and the flow (category labels)."""
        self.store = store
        self.staff = staff
        self.flow = flow
        self.clock = clock
        self.on_outbox = on_outbox

    async def digest(self, today: date | None = None) -> Digest:
        """Return what falls due on ``today`` (London; default now) and what is overdue."""
        day = today or london_date(self.clock())
        async with self.store.autocommit() as tx:
            due = await tx.list_cases_due(day)
        return build_digest(due, day, [m.user_id for m in self.staff.members])

    def text(self, digest: Digest) -> Msg:
        """Return the digest as the catalogue text the staff group is sent."""
        return digest_text(digest, self._name, self._category)

    async def send_daily(self) -> Digest | None:
        """Owe the staff group today's digest, once a day; None if it was already owed today."""
        now = self.clock()
        today = london_date(now)
        due_digest = await self.digest(today)
        async with self.store.transaction() as tx:
            if not await tx.claim_day("digest", today):
                return None
            await tx.owe(self.staff.staff_chat_id, self.text(due_digest), now)
            detail = f"due={due_digest.due_count} overdue={due_digest.overdue_count}"
            await tx.record(now, None, "digest", None, detail)
        self.on_outbox()
        return due_digest

    def _name(self, user_id: int | None) -> str | Msg:
        if user_id is None:
            return Msg("digest.unassigned")
        return self.staff.name_of(user_id) or str(user_id)

    def _category(self, value: str) -> Msg | str:
        option = self.flow.step(roles.CATEGORY).option(value)
        return Msg(option.label) if option is not None else value
