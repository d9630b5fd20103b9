"""What a data-protection officer checks beyond the deletion paths: nothing lingers anywhere."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from support.intake import (
    Clock,
    Harness,
    intake_to_review,
    make_settings,
    new_user,
    services_of,
)
from support.telegram import BOT_USER, RecordingRequest, offline_builder

from bot.channels.telegram.application import build_application
from bot.office import prepare


def count(database: Path, sql: str) -> int:
    """Return a count from the database, read as another process would."""
    with sqlite3.connect(database) as db:
        return int(db.execute(sql).fetchone()[0])


async def test_a_fetched_update_is_dropped_when_it_is_processed(
    tmp_path: Path, clock: Clock
) -> None:
    database = tmp_path / "db.sqlite3"
    async with Harness.running(prepare(make_settings(database)), clock) as harness:
        user = new_user()
        guard = services_of(harness.app).guard
        for action, _ in intake_to_review()[:5]:
            kind, value = action
            update = (
                harness.updates.command(user, value)
                if kind == "command"
                else harness.updates.press(user, value)
                if kind == "tap"
                else harness.updates.text(user, value)
            )
            await guard.keep([update.to_dict()])
            assert count(database, "SELECT count(*) FROM inbox") == 1
            await harness.send(update)
            assert count(database, "SELECT count(*) FROM inbox") == 0
    assert count(database, "SELECT count(*) FROM processed_updates") == 5


async def test_a_delivered_message_keeps_no_copy_of_what_it_said(
    tmp_path: Path, clock: Clock
) -> None:
    database = tmp_path / "db.sqlite3"
    async with Harness.running(prepare(make_settings(database)), clock) as harness:
        user = new_user()
        await harness.run(user, intake_to_review())
        await harness.act(user, ("tap", "Send to the office"))
    assert count(database, "SELECT count(*) FROM outbox WHERE state = 'sent'") >= 2
    kept = "SELECT count(*) FROM outbox WHERE payload NOT IN ('{}', '{\"reply\":{}}')"
    assert count(database, kept) == 0


async def test_a_database_used_with_another_bot_token_forgets_the_old_update_ids(
    tmp_path: Path, clock: Clock
) -> None:
    database = tmp_path / "db.sqlite3"
    async with Harness.running(prepare(make_settings(database)), clock) as harness:
        user = new_user()
        await harness.run(user, intake_to_review()[:3])
        await services_of(harness.app).guard.keep([harness.updates.text(user, "x").to_dict()])
    assert count(database, "SELECT count(*) FROM processed_updates") == 3
    request = RecordingRequest()
    request.stub("getMe", {**BOT_USER, "id": 654321, "username": "AnotherOfficeBot"})
    builder = offline_builder(request, token="654321:ANOTHER-bot")
    app = build_application(prepare(make_settings(database)), builder, clock=clock)
    await app.initialize()
    assert app.post_init is not None
    await app.post_init(app)
    try:
        assert count(database, "SELECT count(*) FROM processed_updates") == 0
        assert count(database, "SELECT count(*) FROM inbox") == 0
        assert count(database, "SELECT value FROM meta WHERE key = 'bot_id'") == 654321
    finally:
        assert app.post_shutdown is not None
        await app.post_shutdown(app)
        await app.shutdown()


async def test_the_same_bot_keeps_its_update_ids(tmp_path: Path, clock: Clock) -> None:
    database = tmp_path / "db.sqlite3"
    for _ in range(2):
        async with Harness.running(prepare(make_settings(database)), clock) as harness:
            await harness.run(new_user(), intake_to_review()[:2])
    assert count(database, "SELECT count(*) FROM processed_updates") == 4


async def test_the_first_sweep_runs_at_start_up(tmp_path: Path, clock: Clock) -> None:
    database = tmp_path / "db.sqlite3"
    settings = make_settings(database, sweep_minutes=60)
    user = new_user()
    async with Harness.running(prepare(settings), clock) as harness:
        await harness.run(user, intake_to_review()[:6])
    assert count(database, "SELECT count(*) FROM drafts") == 1
    clock.advance(days=8)
    async with Harness.running(prepare(settings), clock) as harness:
        assert count(database, "SELECT count(*) FROM drafts") == 0
        await harness.settle()
        told = harness.request.sent_texts(user.user_id)
        assert any("has been deleted" in text for text in told)
