"""Fixtures for end-to-end tests: a Bot API server on 127.0.0.1 and the bot as a process."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from support.botapi import BotApiServer, BotProcess, Group, office_env


@pytest.fixture
async def api() -> AsyncIterator[BotApiServer]:
    """Return a running Bot API server; fail the test if the bot called anything unknown."""
    async with BotApiServer() as server:
        yield server
    assert not server.unexpected, "calls the Bot API server does not implement:\n" + "\n".join(
        str(call) for call in server.unexpected
    )
    assert not server.conflicts, "two bots polled at once:\n" + "\n".join(
        str(call) for call in server.conflicts
    )


@pytest.fixture
def staff_group(api: BotApiServer) -> Group:
    """Return the office's staff group, with two caseworkers in it."""
    sam = api.user("Sam", "Caseworker", user_id=9001)
    priya = api.user("Priya", "Caseworker", user_id=9002)
    return api.group("Casework staff", chat_id=-1001234567890, members=[sam, priya])


@pytest.fixture
def database(tmp_path: Path) -> Path:
    """Return where the bot keeps its SQLite database."""
    return tmp_path / "data" / "casework.sqlite3"


@pytest.fixture
def bot_env(api: BotApiServer, staff_group: Group, database: Path) -> dict[str, str]:
    """Return the bot's whole environment (settings only from here, never from a .env)."""
    return office_env(api, database, staff=staff_group)


@pytest.fixture
async def bot(
    api: BotApiServer, tmp_path: Path, bot_env: dict[str, str]
) -> AsyncIterator[BotProcess]:
    """Return the bot running as ``python -m bot``, polling; stopped with SIGTERM afterwards."""
    process = BotProcess(api, tmp_path, bot_env)
    try:
        await process.start()
        yield process
        if process.running:
            await process.stop()
    finally:
        process.close()
        # Shown by pytest only when the test fails.
        sys.stdout.write(process.logs() + "\n")
