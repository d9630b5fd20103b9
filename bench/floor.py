"""The floor: bare dispatch plus one synchronous SQLite transaction per update.

The bare ConversationHandler, and after each update, on the event loop's own thread with the
standard library's ``sqlite3``, one ``BEGIN IMMEDIATE … COMMIT`` writing the rows our bot
writes for that update: the update recorded as processed, the draft stored whole (the
calibration intake's JSON at that step; deleted at Send), and each reply owed in the outbox
and marked sent. Same file layout (the bot's own migrations, other drafts stored), same
pragmas (WAL, synchronous=NORMAL, secure_delete). No thread hand-off at all: the most a
durable bot on SQLite can hope for with this dispatcher.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from datetime import UTC, datetime
from pathlib import Path

from bench.baselines import conversation_bot
from bench.driver import Subject
from bench.offline import Call
from bench.ours import Calibration, create_schema, populate_drafts
from bot.storage.sqlite.outbox import MARK_SENT

PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
    "PRAGMA secure_delete=ON",
    "PRAGMA wal_autocheckpoint=4000",
)


def _payload(call: Call) -> str:
    return json.dumps({"text": call.text, "markup": call.markup}, ensure_ascii=False)


@asynccontextmanager
async def floor_bot(folder: Path, stored: int, calibration: Calibration) -> AsyncIterator[Subject]:
    """Start the bare ConversationHandler with one synchronous transaction after each update."""
    database_path = folder / "floor.sqlite3"
    await create_schema(database_path)
    populate_drafts(database_path, stored, calibration.drafts)
    drafts = calibration.drafts
    payloads = [
        [_payload(c) for c in calls if c.method == "sendMessage"] for calls in calibration.calls
    ]
    with closing(sqlite3.connect(database_path, isolation_level=None)) as db:
        for pragma in PRAGMAS:
            db.execute(pragma)
        async with conversation_bot(calibration.calls, stored=stored) as subject:
            subject.run.variant = "floor"
            state = {"update": 0, "step": 0}

            async def write() -> None:
                step = state["step"] % len(calibration.calls)
                state["step"] += 1
                state["update"] += 1
                user_id = subject.people
                now = datetime.now(UTC).isoformat()
                db.execute("BEGIN IMMEDIATE")
                db.execute(
                    "INSERT OR IGNORE INTO processed_updates (update_id, processed_at)"
                    " VALUES (?, ?)",
                    (state["update"], now),
                )
                if step < len(drafts):
                    db.execute(
                        "INSERT INTO drafts (user_id, chat_id, state, updated_at)"
                        " VALUES (?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET"
                        " state = excluded.state, updated_at = excluded.updated_at",
                        (user_id, user_id, drafts[step], now),
                    )
                else:
                    db.execute("DELETE FROM drafts WHERE user_id = ?", (user_id,))
                for payload in payloads[step]:
                    cursor = db.execute(
                        "INSERT INTO outbox (kind, chat_id, payload, created_at, due_at)"
                        " VALUES ('message', ?, ?, ?, ?)",
                        (user_id, payload, now, now),
                    )
                    db.execute(MARK_SENT, (now, cursor.lastrowid))
                db.execute("COMMIT")

            subject.after = write
            yield subject
