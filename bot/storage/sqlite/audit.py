"""The audit log: who did what to which case, and when. It never holds personal data."""

from __future__ import annotations

from datetime import datetime

from bot.storage.records import AuditEntry
from bot.storage.sqlite.rows import Connection, first_row


class AuditRows:
    """The audit log."""

    db: Connection

    async def record(
        self,
        at: datetime,
        actor: int | None,
        action: str,
        case_ref: str | None = None,
        detail: str = "",
    ) -> None:
        """Record a view or an action; ``detail`` holds plain values only (a status, a user id)."""
        self.db.defer(
            "INSERT INTO audit (at, actor, action, case_ref, detail) VALUES (?, ?, ?, ?, ?)",
            (at.isoformat(), actor, action, case_ref, detail),
        )

    async def list_audit(self, case_ref: str) -> list[AuditEntry]:
        """Return everything recorded against a case, oldest first."""
        async with self.db.execute(
            "SELECT at, actor, action, case_ref, detail FROM audit WHERE case_ref = ? ORDER BY id",
            (case_ref,),
        ) as cursor:
            return [
                AuditEntry(datetime.fromisoformat(r[0]), r[1], r[2], r[3], r[4])
                async for r in cursor
            ]

    async def count_audit(self, action: str) -> int:
        """Return how many times ``action`` was recorded."""
        row = await first_row(self.db, "SELECT count(*) FROM audit WHERE action = ?", (action,))
        return int(row[0]) if row else 0
