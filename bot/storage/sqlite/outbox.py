"""The outbox: every message the office owes someone, written in the transaction that owes it.

A delivery worker sends entries after the commit and marks them sent, so a crash, a restart
or a Telegram outage delays a message but never loses it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from bot.storage.sqlite.database import Connection, all_rows, first_row

Kind = Literal["card", "message"]


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One message waiting to be sent (or a case card to post or bring up to date)."""

    id: int
    kind: Kind
    chat_id: int
    case_id: int | None
    payload: dict[str, Any]
    attempts: int


async def enqueue_message(
    db: Connection,
    chat_id: int,
    payload: dict[str, Any],
    now: datetime,
    case_id: int | None = None,
) -> None:
    """Owe ``chat_id`` a message."""
    await db.execute(
        "INSERT INTO outbox (kind, chat_id, case_id, payload, created_at, due_at)"
        " VALUES ('message', ?, ?, ?, ?, ?)",
        (chat_id, case_id, json.dumps(payload), now.isoformat(), now.isoformat()),
    )


async def enqueue_card(db: Connection, case_id: int, chat_id: int, now: datetime) -> None:
    """Owe the staff group an up-to-date card for a case (one waiting update per case)."""
    await db.execute(
        "INSERT OR IGNORE INTO outbox (kind, chat_id, case_id, created_at, due_at)"
        " VALUES ('card', ?, ?, ?, ?)",
        (chat_id, case_id, now.isoformat(), now.isoformat()),
    )


async def list_due(db: Connection, now: datetime, limit: int = 50) -> list[OutboxEntry]:
    """Return entries due now, each the oldest waiting for its chat (so a chat's order holds)."""
    rows = await all_rows(
        db,
        "SELECT id, kind, chat_id, case_id, payload, attempts FROM outbox o"
        " WHERE state = 'pending' AND due_at <= ? AND NOT EXISTS ("
        "   SELECT 1 FROM outbox e WHERE e.chat_id = o.chat_id AND e.state = 'pending'"
        "   AND e.id < o.id)"
        " ORDER BY id LIMIT ?",
        (now.isoformat(), limit),
    )
    return [OutboxEntry(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5]) for r in rows]


async def next_due(db: Connection) -> datetime | None:
    """Return when the next entry that can be sent falls due, or None if nothing waits."""
    row = await first_row(
        db,
        "SELECT min(due_at) FROM outbox o WHERE state = 'pending' AND NOT EXISTS ("
        "  SELECT 1 FROM outbox e WHERE e.chat_id = o.chat_id AND e.state = 'pending'"
        "  AND e.id < o.id)",
    )
    return None if row is None or row[0] is None else datetime.fromisoformat(row[0])


async def mark_sent(db: Connection, entry_id: int, now: datetime) -> None:
    """Record that an entry was delivered."""
    await db.execute(
        "UPDATE outbox SET state = 'sent', sent_at = ?, attempts = attempts + 1 WHERE id = ?",
        (now.isoformat(), entry_id),
    )


async def mark_retry(db: Connection, entry_id: int, due: datetime, error: str) -> None:
    """Record a failed attempt and when to try again."""
    await db.execute(
        "UPDATE outbox SET due_at = ?, attempts = attempts + 1, last_error = ? WHERE id = ?",
        (due.isoformat(), error, entry_id),
    )


async def mark_failed(db: Connection, entry_id: int, error: str) -> None:
    """Record that an entry cannot be delivered (retrying would not help)."""
    await db.execute(
        "UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = ? WHERE id = ?",
        (error, entry_id),
    )


async def count_pending(db: Connection) -> int:
    """Return how many entries are waiting."""
    row = await first_row(db, "SELECT count(*) FROM outbox WHERE state = 'pending'")
    return int(row[0]) if row else 0
