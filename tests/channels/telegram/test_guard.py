"""Updates delivered twice, floods and blocked senders, through the real Application."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from support.intake import (
    SAM,
    STAFF_CHAT,
    Clock,
    Harness,
    intake_to_review,
    make_settings,
    new_user,
    services_of,
)

from bot.office import Office, prepare


def _draft_step(office: Office, user_id: int) -> str:
    with sqlite3.connect(office.settings.database_path) as db:
        row = db.execute("SELECT state FROM drafts WHERE user_id = ?", (user_id,)).fetchone()
    return str(json.loads(row[0])["step"])


async def test_an_update_delivered_twice_is_processed_once(
    harness: Harness, office: Office
) -> None:
    user = new_user()
    await harness.run(user, intake_to_review()[:3])
    answer = harness.updates.text(user, "Ada Lovelace")
    first = await harness.send(answer, chat_id=user.user_id)
    second = await harness.send(answer, chat_id=user.user_id)
    assert "What is your home postcode?" in first[-1]
    assert second == []
    assert _draft_step(office, user.user_id) == "postcode"


async def test_a_button_press_delivered_twice_is_answered_once(harness: Harness) -> None:
    user = new_user()
    await harness.run(user, intake_to_review()[:2])
    press = harness.updates.press(user, "It is about me")
    assert await harness.send(press, chat_id=user.user_id)
    assert await harness.send(press, chat_id=user.user_id) == []


async def test_a_flood_gets_one_polite_message_then_silence(tmp_path: Path, clock: Clock) -> None:
    settings = make_settings(tmp_path / "db.sqlite3", flood_messages=3, flood_pause_seconds=300)
    async with Harness.running(prepare(settings), clock) as harness:
        flooder, other = new_user(), new_user()
        replies = [
            await harness.send(
                harness.updates.text(flooder, f"message {n}"), chat_id=flooder.user_id
            )
            for n in range(6)
        ]
        assert all(r for r in replies[:3])
        assert "You have sent a lot of messages" in replies[3][-1]
        assert replies[4] == []
        assert replies[5] == []
        others = await harness.act(other, ("command", "/start"))
        assert "call 999" in others[-1]


async def test_staff_block_and_unblock_a_sender_with_an_audit_line(
    harness: Harness, office: Office
) -> None:
    user = new_user()
    await harness.run(user, intake_to_review())
    await harness.act(user, ("tap", "Send to the office"))
    [case] = await services_of(harness.app).intake.cases_of(user.user_id)
    blocked = await harness.send(
        harness.updates.group_command(SAM, STAFF_CHAT, "/block", case.reference),
        chat_id=STAFF_CHAT,
    )
    assert "will be ignored" in blocked[-1]
    assert await harness.act(user, ("text", "are you there?")) == []
    assert await harness.act(user, ("command", "/status")) == []
    await harness.send(harness.updates.group_command(SAM, STAFF_CHAT, "/unblock", case.reference))
    texts = await harness.act(user, ("command", "/status"))
    assert case.reference in texts[-1]
    with sqlite3.connect(office.settings.database_path) as db:
        actions = [
            r[0] for r in db.execute("SELECT action FROM audit WHERE actor = ?", (SAM.user_id,))
        ]
    assert "blocked" in actions
    assert "unblocked" in actions


async def test_a_constituent_cannot_block_anyone(harness: Harness) -> None:
    user, other = new_user(), new_user()
    await harness.run(other, intake_to_review())
    await harness.act(other, ("tap", "Send to the office"))
    [case] = await services_of(harness.app).intake.cases_of(other.user_id)
    texts = await harness.act(user, ("command", f"/block {case.reference}"))
    assert texts == ["This command is for office staff."]
    assert await harness.act(other, ("command", "/status"))
