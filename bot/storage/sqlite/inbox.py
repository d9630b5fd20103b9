"""Fetched updates, kept until processed so a crash after Telegram forgets them loses none."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.storage.sqlite.rows import Connection, all_rows


class InboxRows:
    """Fetched updates kept until processed."""

    db: Connection

    async def keep_updates(self, updates: Sequence[dict[str, Any]], now: datetime) -> None:
        """Store fetched updates (an update already kept is left as it is)."""
        await self.db.executemany(
            "INSERT OR IGNORE INTO inbox (update_id, data, received_at) VALUES (?, ?, ?)",
            [(int(u["update_id"]), json.dumps(u), now.isoformat()) for u in updates],
        )

    async def list_unprocessed(self) -> list[dict[str, Any]]:
        """Return kept updates not yet processed, oldest first."""
        rows = await all_rows(
            self.db,
            "SELECT data FROM inbox"
            " WHERE update_id NOT IN (SELECT update_id FROM processed_updates)"
            " ORDER BY update_id",
        )
        return [json.loads(row[0]) for row in rows]

    async def forget_updates(self, before: datetime) -> None:
        """Forget kept updates that have been processed, or that are older than ``before``."""
        await self.db.execute(
            "DELETE FROM inbox WHERE received_at < ?"
            " OR update_id IN (SELECT update_id FROM processed_updates)",
            (before.isoformat(),),
        )
