"""The staff desk end to end: served by the bot's own process beside polling, stopped by SIGTERM."""

from __future__ import annotations

import re
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from support.botapi import BotApiServer, BotProcess, Group, office_env
from support.webhook import WebhookBotApi, free_port

pytestmark = pytest.mark.e2e

LINK = re.compile(r"http://127\.0\.0\.1:\d+/login/[A-Za-z0-9_-]+")
CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


@pytest.fixture
def desk_port() -> int:
    """Return a free port for the desk."""
    return free_port()


@pytest.fixture
async def desk_bot(
    api: BotApiServer, tmp_path: Path, bot_env: dict[str, str], desk_port: int
) -> AsyncIterator[BotProcess]:
    """Return the bot polling, with its desk on ``desk_port``."""
    env = {**bot_env, "DESK_ENABLED": "true", "DESK_PORT": str(desk_port)}
    process = BotProcess(api, tmp_path, env)
    try:
        await process.start()
        yield process
        if process.running:
            await process.stop()
    finally:
        process.close()
        sys.stdout.write(process.logs() + "\n")


async def test_sign_in_to_the_desk_beside_polling_then_sigterm_stops_both(
    api: BotApiServer, staff_group: Group, desk_bot: BotProcess, desk_port: int
) -> None:
    sam = next(iter(staff_group.members.values()))
    sam.command("/desk")
    message = await sam.wait_for_text("/login/")
    found = LINK.search(message.text)
    assert found is not None
    link = found.group()
    assert link.startswith(f"http://127.0.0.1:{desk_port}/login/")
    async with httpx.AsyncClient() as client:
        landing = await client.get(link)
        assert landing.status_code == 200
        csrf = CSRF.search(landing.text)
        assert csrf is not None
        token = link.rsplit("/", 1)[1]
        signed = await client.post(
            f"http://127.0.0.1:{desk_port}/login", data={"token": token, "csrf": csrf.group(1)}
        )
        assert signed.status_code == 303
        queue = await client.get(f"http://127.0.0.1:{desk_port}/")
        assert queue.status_code == 200
        assert "<h1" in queue.text
        assert "Cases" in queue.text
    started = time.monotonic()
    assert await desk_bot.stop(timeout=10) == 0
    assert time.monotonic() - started < 5
    async with httpx.AsyncClient() as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"http://127.0.0.1:{desk_port}/")


async def test_sigint_stops_it_too(desk_bot: BotProcess) -> None:
    desk_bot.runs[-1].expected_exit = True
    desk_bot.runs[-1].popen.send_signal(signal.SIGINT)
    assert await desk_bot.wait_exit(timeout=10) == 0


async def test_a_desk_port_in_use_stops_start_up_in_one_line(
    api: BotApiServer, tmp_path: Path, bot_env: dict[str, str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        env = {**bot_env, "DESK_ENABLED": "true", "DESK_PORT": str(port)}
        process = BotProcess(api, tmp_path, env)
        try:
            process.launch()
            assert await process.wait_exit(timeout=15) == 2
            lines = process.stderr().strip().splitlines()
        finally:
            process.close()
    # The log's INFO lines on start-up, then the one plain line: no traceback.
    assert lines[-1] == (
        f"The staff desk cannot listen on 127.0.0.1:{port}: another program uses that port."
        " Set DESK_PORT to a free port, or DESK_ENABLED=false."
    )
    assert all(" INFO " in line for line in lines[:-1]), lines
    assert api.calls("getUpdates") == []


async def test_in_webhook_mode_the_webhooks_server_serves_the_desk_on_its_port(
    tmp_path: Path,
) -> None:
    port = free_port()
    hook_api = WebhookBotApi()
    async with hook_api:
        sam = hook_api.user("Sam", "Caseworker", user_id=9001)
        staff = hook_api.group("Casework staff", chat_id=-1001234567890, members=[sam])
        env = office_env(
            hook_api,
            tmp_path / "data" / "casework.sqlite3",
            staff=staff,
            WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram/updates",
            WEBHOOK_SECRET="a-long-random-secret_0123456789",
            WEBHOOK_PORT=str(port),
            DESK_ENABLED="true",
            DESK_PORT=str(port),
        )
        process = BotProcess(hook_api, tmp_path, env)
        try:
            process.launch()
            await hook_api.wait_webhook()
            sam.command("/desk")
            message = await sam.wait_for_text("/login/")
            found = LINK.search(message.text)
            assert found is not None
            assert found.group().startswith(f"http://127.0.0.1:{port}/login/")
            async with httpx.AsyncClient() as client:
                landing = await client.get(found.group())
                health = await client.get(f"http://127.0.0.1:{port}/healthz")
            assert landing.status_code == 200
            assert "Sign in" in landing.text
            assert health.text == "ok"
            assert await process.stop(timeout=10) == 0
        finally:
            process.close()
            sys.stdout.write(process.logs() + "\n")
        assert not hook_api.unexpected, "\n".join(str(call) for call in hook_api.unexpected)
