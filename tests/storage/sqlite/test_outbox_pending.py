"""What the outbox keeps once an entry is delivered, and what its indexes hold."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from bot.core.catalogue import Msg
from bot.core.outbox import OwedMessage, OwedReply
from bot.storage.sqlite.database import SqliteStore

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
ADA = 4242


async def owe_and_send(path: Path) -> None:
    """Owe Ada a plain message and an intake's reply, then record both as delivered."""
    store = await SqliteStore.open(path)
    try:
        async with store.transaction() as tx:
            await tx.owe(ADA, Msg("hello", {"name": "Ada Lovelace"}), NOW)
            reply = OwedReply.of([Msg("intake.ask", {"name": "Ada Lovelace"})], revision=3)
            await tx.owe_message(ADA, OwedMessage.of_reply(reply), NOW)
        async with store.autocommit() as tx:
            lane = await tx.lane_of_chat(ADA, 10)
        async with store.transaction() as tx:
            for entry, _ in lane.waiting:
                await tx.mark_sent(entry.id, NOW)
    finally:
        await store.close()


async def test_recording_a_delivery_forgets_the_message_by_itself(tmp_path: Path) -> None:
    path = tmp_path / "casework.sqlite3"
    await (await SqliteStore.open(path)).close()
    with sqlite3.connect(path) as db:
        # Without the trigger that would do it in a second write of the row.
        db.execute("DROP TRIGGER outbox_forgets_delivered")
    await owe_and_send(path)
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT state, payload FROM outbox ORDER BY id").fetchall()
    assert rows == [("sent", "{}"), ("sent", '{"reply":{}}')]


async def test_the_outbox_look_ups_index_only_what_is_still_owed(tmp_path: Path) -> None:
    path = tmp_path / "casework.sqlite3"
    await owe_and_send(path)
    with sqlite3.connect(path) as db:
        made = dict(
            db.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'outbox'"
            ).fetchall()
        )
        lane = db.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM outbox WHERE chat_id = ? AND state = 'pending'",
            (ADA,),
        ).fetchall()
        due = db.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM outbox WHERE state = 'pending' AND due_at <= ?",
            (NOW.isoformat(),),
        ).fetchall()
    # One index of what is still owed serves both the chat's lane and what is due.
    assert made["outbox_by_chat"].endswith("WHERE state = 'pending'")
    assert "outbox_due" not in made
    # Erasing a case finds its entries through an index on the case, sent or not.
    assert made["outbox_by_case"].endswith("(case_id) WHERE case_id IS NOT NULL")
    assert "outbox_by_chat" in lane[0][3]
    assert "outbox_by_chat" in due[0][3]
