"""Webhook mode end to end: the local Bot API server posts updates to the bot's web server."""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from support.botapi import BotProcess, Group, office_env
from support.e2e import play, query, reference_in
from support.intake import intake_to_review
from support.webhook import SECRET_HEADER, WebhookBotApi, free_port

pytestmark = pytest.mark.e2e

SECRET = "a-long-random-secret_0123456789"


@pytest.fixture
async def hook_api() -> AsyncIterator[WebhookBotApi]:
    """Return a Bot API server that posts updates to the bot's webhook."""
    server = WebhookBotApi()
    async with server:
        yield server
    assert not server.unexpected, "\n".join(str(call) for call in server.unexpected)


@pytest.fixture
def hook_url() -> str:
    """Return the URL the bot's webhook server listens on."""
    return f"http://127.0.0.1:{free_port()}/telegram/updates"


@pytest.fixture
def hook_staff(hook_api: WebhookBotApi) -> Group:
    """Return the office's staff group."""
    sam = hook_api.user("Sam", "Caseworker", user_id=9001)
    return hook_api.group("Casework staff", chat_id=-1001234567890, members=[sam])


@pytest.fixture
async def hooked_bot(
    hook_api: WebhookBotApi, hook_staff: Group, tmp_path: Path, hook_url: str
) -> AsyncIterator[BotProcess]:
    """Return the bot running in webhook mode, its webhook set; SIGTERM afterwards."""
    env = office_env(
        hook_api,
        tmp_path / "data" / "casework.sqlite3",
        staff=hook_staff,
        WEBHOOK_URL=hook_url,
        WEBHOOK_SECRET=SECRET,
        WEBHOOK_PORT=hook_url.split(":")[2].split("/")[0],
    )
    process = BotProcess(hook_api, tmp_path, env)
    try:
        process.launch()
        await hook_api.wait_webhook()
        yield process
        if process.running:
            await process.stop()
    finally:
        process.close()
        sys.stdout.write(process.logs() + "\n")


async def test_a_whole_intake_by_webhook(
    hook_api: WebhookBotApi,
    hooked_bot: BotProcess,
    hook_staff: Group,
    hook_url: str,
    tmp_path: Path,
) -> None:
    webhook = hook_api.webhook
    assert webhook is not None
    assert webhook["url"] == hook_url
    assert webhook["secret_token"] == SECRET
    assert webhook["allowed_updates"] == ["message", "callback_query"]
    ada = hook_api.user("Ada", "Lovelace")
    await play(ada, intake_to_review())
    ada.press("Send to the office")
    reference = reference_in(await ada.wait_for_text("Your enquiry has been sent"))
    await hook_staff.wait_for_text(reference)
    database = tmp_path / "data" / "casework.sqlite3"
    assert query(database, "SELECT reference FROM cases") == [(reference,)]
    assert hook_api.calls("getUpdates") == []
    assert {post.status for post in hook_api.posts} == {200}
    assert hook_api.pending_updates == []


async def test_posts_without_the_secret_are_refused(
    hook_api: WebhookBotApi, hooked_bot: BotProcess, hook_url: str, tmp_path: Path
) -> None:
    update = {"update_id": 1, "message": {"message_id": 1, "date": 0, "text": "/start"}}
    async with httpx.AsyncClient() as client:
        missing = await client.post(hook_url, json=update)
        wrong = await client.post(hook_url, json=update, headers={SECRET_HEADER: "guess"})
        health = await client.get(hook_url.rsplit("/", 2)[0] + "/healthz")
    assert (missing.status_code, wrong.status_code, health.status_code) == (403, 403, 200)
    database = tmp_path / "data" / "casework.sqlite3"
    assert query(database, "SELECT count(*) FROM inbox WHERE update_id = 1") == [(0,)]


async def test_an_update_is_stored_before_it_is_acknowledged_and_survives_a_kill(
    hook_api: WebhookBotApi, hooked_bot: BotProcess, tmp_path: Path
) -> None:
    database = tmp_path / "data" / "casework.sqlite3"
    ada = hook_api.user("Ada", "Lovelace")
    await play(ada, intake_to_review()[:3])
    owed = "SELECT count(*) FROM outbox WHERE chat_id = ?"
    [(owed_before,)] = query(database, owed, ada.user_id)
    ada.send_text("Ada Lovelace")
    # The moment the bot says 200, the update is committed: a kill then loses nothing.
    await hook_api.wait_until(lambda: not hook_api.pending_updates, what="the post to be taken")
    [posted] = [p.update_id for p in hook_api.posts[-1:]]
    # Committed: still waiting in the inbox, or already handled (and so forgotten there).
    durable = (
        "SELECT (SELECT count(*) FROM inbox WHERE update_id = ?)"
        " + (SELECT count(*) FROM processed_updates WHERE update_id = ?)"
    )
    assert query(database, durable, posted, posted) == [(1,)]
    assert await hooked_bot.kill() == -signal.SIGKILL
    hooked_bot.launch()
    await ada.wait_for_text("What is your home postcode?", timeout=30)
    await play(ada, [(("text", "st4 1hh"), "What is your address?")])
    # Processed once, whichever run did it: one reply owed for each of the two answers.
    assert query(database, owed, ada.user_id) == [(owed_before + 2,)]
    # Delivered at least once: a kill after Telegram took the reply but before the outbox
    # recorded it sends that reply again on restart.
    answered = [m for m in ada.messages() if "What is your home postcode?" in m.text]
    assert 1 <= len(answered) <= 2


async def test_sigterm_stops_the_webhook_server_within_seconds(
    hook_api: WebhookBotApi, hooked_bot: BotProcess, hook_url: str
) -> None:
    ada = hook_api.user("Ada", "Lovelace")
    await play(ada, intake_to_review()[:1])
    started = time.monotonic()
    assert await hooked_bot.stop(timeout=10) == 0
    assert time.monotonic() - started < 5
    async with httpx.AsyncClient() as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(hook_url.rsplit("/", 2)[0] + "/healthz")
