"""The office's staff: who may act, their names, roles, export permission and specialisms."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime

from bot.core.staff import StaffMember, StaffRole
from bot.storage.sqlite.rows import Connection, all_rows


def _member(row: sqlite3.Row) -> StaffMember:
    specialisms = tuple(s for s in str(row[4]).split(",") if s)
    return StaffMember(row[0], row[1], StaffRole(row[2]), bool(row[3]), specialisms)


class TeamRows:
    """The office's staff."""

    db: Connection

    async def seed_staff(self, members: Sequence[StaffMember], at: datetime) -> bool:
        """Store ``members`` if the staff were never seeded; return whether they were now."""
        cursor = await self.db.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('staff_seeded', ?)", (at.isoformat(),)
        )
        if cursor.rowcount != 1:
            return False
        for member in members:
            await self.save_staff_member(member, at)
        return True

    async def list_staff(self) -> tuple[list[StaffMember], dict[int, str]]:
        """Return the staff in the order they were added, and the names of former staff."""
        rows = await all_rows(
            self.db,
            "SELECT user_id, name, role, may_export, specialisms, removed_at FROM staff"
            " ORDER BY position, user_id",
        )
        members = [_member(r) for r in rows if r[5] is None]
        former = {int(r[0]): str(r[1]) for r in rows if r[5] is not None}
        return members, former

    async def save_staff_member(self, member: StaffMember, at: datetime) -> None:
        """Add a staff member (or bring one back), or change one; their place is kept."""
        await self.db.execute(
            "INSERT INTO staff (user_id, name, role, may_export, specialisms, position, added_at)"
            " VALUES (?, ?, ?, ?, ?, (SELECT coalesce(max(position), 0) + 1 FROM staff), ?)"
            " ON CONFLICT (user_id) DO UPDATE SET name = excluded.name, role = excluded.role,"
            " may_export = excluded.may_export, specialisms = excluded.specialisms,"
            " removed_at = NULL",
            (
                member.user_id,
                member.name,
                member.role.value,
                int(member.may_export),
                ",".join(member.specialisms),
                at.isoformat(),
            ),
        )

    async def remove_staff_member(self, user_id: int, at: datetime) -> bool:
        """Take someone off the staff (their name stays for the history); False if not on it."""
        cursor = await self.db.execute(
            "UPDATE staff SET removed_at = ? WHERE user_id = ? AND removed_at IS NULL",
            (at.isoformat(), user_id),
        )
        return cursor.rowcount == 1
