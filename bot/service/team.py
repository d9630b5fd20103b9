"""The office's staff for any channel: office managers add, change and remove caseworkers."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime

from bot.core.catalogue import Msg
from bot.core.staff import StaffDirectory, StaffMember, StaffRole
from bot.core.text import one_line
from bot.service.staff import Caseworker
from bot.storage.store import Store

log = logging.getLogger(__name__)

NAME_LIMIT = 40


class TeamError(ValueError):
    """A change to the staff that cannot be made: ``msg`` says why, and nothing changed."""

    def __init__(self, msg: Msg) -> None:
        """Keep the text that tells the office manager what is wrong."""
        super().__init__(msg.key, dict(msg.params))
        self.msg = msg


class TeamService:
    """Keep the shared staff directory and the store's staff list the same, and change both."""

    def __init__(
        self,
        store: Store,
        staff: StaffDirectory,
        categories: Iterable[str],
        *,
        clock: Callable[[], datetime],
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        """Keep the store, the directory every service reads, and the flow's categories."""
        self.store = store
        self.staff = staff
        self.categories = tuple(categories)
        self.clock = clock
        self.on_change = on_change

    async def start(self) -> None:
        """Seed the staff from the settings on the first run, then read them from the store."""
        listed = {m.user_id for m in self.staff.members}
        async with self.store.transaction() as tx:
            seeded = await tx.seed_staff(self.staff.members, self.clock())
            members, former = await tx.list_staff()
        if not seeded and {m.user_id for m in members} != listed:
            log.info(
                "the staff list is kept in the database (%s staff); STAFF_USER_IDS and"
                " OFFICE_MANAGERS are read on the first run only",
                len(members),
            )
        self.staff.replace(members, former)
        self.on_change()

    def list_staff(self) -> list[StaffMember]:
        """Return the office's staff, in the order they were added."""
        return list(self.staff.members)

    async def save_member(
        self,
        who: Caseworker,
        user_id: int,
        name: str,
        *,
        role: StaffRole = StaffRole.CASEWORKER,
        may_export: bool = True,
        specialisms: Iterable[str] = (),
    ) -> StaffMember:
        """Add someone to the staff, or change them; audited. Raises TeamError.

        Only an office manager may; the office always keeps at least one manager.
        """
        self._check_manager(who)
        shown = one_line(name, NAME_LIMIT + 1)
        if not shown or len(shown) > NAME_LIMIT or shown.isdigit() or user_id <= 0:
            raise TeamError(Msg("team.bad_member", {"limit": str(NAME_LIMIT)}))
        wanted = tuple(dict.fromkeys(s.strip() for s in specialisms if s.strip()))
        unknown = [s for s in wanted if s not in self.categories]
        if unknown:
            shown_categories = ", ".join(self.categories)
            raise TeamError(
                Msg("team.unknown_category", {"category": unknown[0], "known": shown_categories})
            )
        same_name = self.staff.find(shown)
        if same_name is not None and same_name.user_id != user_id:
            raise TeamError(Msg("team.name_taken", {"name": shown}))
        before = self.staff.get(user_id)
        member = StaffMember(user_id, shown, role, may_export, wanted)
        if before is not None and before.manager and not member.manager:
            self._keep_a_manager(user_id)
        now = self.clock()
        async with self.store.transaction() as tx:
            await tx.save_staff_member(member, now)
            action = "staff_added" if before is None else "staff_changed"
            await tx.record(now, who.user_id, action, None, _detail(member))
            members, former = await tx.list_staff()
        self.staff.replace(members, former)
        self.on_change()
        return member

    async def remove_member(self, who: Caseworker, user_id: int) -> StaffMember:
        """Take someone off the staff at once (their next action is refused); audited."""
        self._check_manager(who)
        member = self.staff.get(user_id)
        if member is None:
            raise TeamError(Msg("staff.unknown_staff", {"who": str(user_id)}))
        if member.manager:
            self._keep_a_manager(user_id)
        now = self.clock()
        async with self.store.transaction() as tx:
            await tx.remove_staff_member(user_id, now)
            await tx.record(now, who.user_id, "staff_removed", None, f"user={user_id}")
            members, former = await tx.list_staff()
        self.staff.replace(members, former)
        self.on_change()
        return member

    def _check_manager(self, who: Caseworker) -> None:
        # The directory, not the Caseworker alone: a manager demoted a moment ago is refused.
        member = self.staff.get(who.user_id)
        if not who.manager or member is None or not member.manager:
            raise TeamError(Msg("team.managers_only"))

    def _keep_a_manager(self, leaving: int) -> None:
        if not any(m.manager for m in self.staff.members if m.user_id != leaving):
            raise TeamError(Msg("team.last_manager"))


def _detail(member: StaffMember) -> str:
    """Return the audit detail of a staff change: plain values, no one's words."""
    export = "yes" if member.may_export else "no"
    specialisms = ",".join(member.specialisms) or "-"
    return (
        f"user={member.user_id} role={member.role.value} export={export} specialisms={specialisms}"
    )
