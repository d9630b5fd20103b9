"""Transcripts for the end-to-end tests: people acting through the local Bot API server."""

from __future__ import annotations

import contextlib
import re
import sqlite3
from pathlib import Path
from typing import Any

from bot.core.references import parse_reference
from support.botapi import Message, User
from support.intake import Action

Step = tuple[Action, str]


def act(user: User, action: Action) -> None:
    """Do one transcript action as the person would in Telegram."""
    kind, value = action
    if kind == "text":
        user.send_text(value)
    elif kind == "tap":
        user.press(value)
    elif kind == "command":
        user.command(value)
    elif kind == "contact":
        user.share_contact(value)
    elif kind == "photo":
        user.send_photo(value)
    else:
        raise ValueError(kind)


async def play(user: User, steps: list[Step], timeout: float = 10.0) -> Message:  # noqa: ASYNC109
    """Play a transcript, waiting after each action for a message with the expected text."""
    answer: Message | None = None
    for number, (action, expected) in enumerate(steps, start=1):
        act(user, action)
        try:
            answer = await user.wait_for_text(expected, timeout=timeout)
        except AssertionError as error:
            raise AssertionError(f"{user.first_name}, step {number} {action}: {error}") from None
    assert answer is not None
    return answer


def reference_in(message: Message) -> str:
    """Return the case reference a message shows."""
    found = re.search(r"\bSOT-[0-9A-Z]{7}\b", message.text)
    assert found, f"no SOT-XXXXXXX reference in {message.text!r}"
    assert parse_reference(found.group(), "SOT") == found.group()
    return found.group()


def query(database: Path, sql: str, *args: object) -> list[tuple[Any, ...]]:
    """Run one query on the bot's SQLite file."""
    with contextlib.closing(sqlite3.connect(database)) as db:
        return db.execute(sql, args).fetchall()
