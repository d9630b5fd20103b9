"""The audit log: who did what to which case, and when. It never holds personal data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.storage.sqlite.database import Connection


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One recorded view or action."""

    at: datetime
    actor: int | None
    action: str
    case_ref: str | None
    detail: str


async def record(
    db: Connection,
    at: datetime,
    actor: int | None,
    action: str,
    case_ref: str | None = None,
    detail: str = "",
) -> None:
    """Record a view or an action; ``detail`` holds plain values only (a status, a user id)."""
    await db.execute(
        "INSERT INTO audit (at, actor, action, case_ref, detail) VALUES (?, ?, ?, ?, ?)",
        (at.isoformat(), actor, action, case_ref, detail),
    )


async def list_audit(db: Connection, case_ref: str) -> list[AuditEntry]:
    """Return everything recorded against a case, oldest first."""
    async with db.execute(
        "SELECT at, actor, action, case_ref, detail FROM audit WHERE case_ref = ? ORDER BY id",
        (case_ref,),
    ) as cursor:
        return [
            AuditEntry(datetime.fromisoformat(r[0]), r[1], r[2], r[3], r[4]) async for r in cursor
        ]
