"""A staff action is recorded as processed with its effect, so a crash repeats nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
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
from telegram import Update
from telegram.request import BaseRequest, RequestData

from bot.channels.telegram.inbox import replay
from bot.office import prepare


class ProcessDiedError(BaseException):
    """The process stops here, as a SIGKILL would (an Exception would reach PTB's handler)."""


def die_on_staff_acknowledgement(harness: Harness) -> None:
    """Make the bot's next message to the staff group kill the process instead."""
    request = harness.request
    real = request.do_request

    async def dying(
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        params = request_data.parameters if request_data else {}
        if url.endswith("/sendMessage") and params.get("chat_id") == STAFF_CHAT:
            request.do_request = real  # type: ignore[method-assign]
            raise ProcessDiedError
        return await real(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )

    request.do_request = dying  # type: ignore[method-assign]


async def sent_case(harness: Harness) -> tuple[int, str]:
    """Return a constituent's user id and the reference of the case they sent."""
    user = new_user()
    await harness.run(user, intake_to_review())
    await harness.act(user, ("tap", "Send to the office"))
    [case] = await services_of(harness.app).intake.cases_of(user.user_id)
    return user.user_id, case.reference


async def process_replayed(harness: Harness) -> int:
    """Replay what was fetched but never processed, as a restart does; return how many."""
    queue: asyncio.Queue[Update] = asyncio.Queue()
    count = await replay(services_of(harness.app).guard, queue, harness.app.bot)
    while not queue.empty():
        await harness.send(queue.get_nowait())
    return count


@pytest.mark.parametrize(
    ("command", "expected_notes"),
    [("/reply {ref} We have written to the council.", 0), ("/note {ref} Called DWP.", 1)],
)
async def test_a_staff_command_killed_before_its_answer_is_not_repeated(
    tmp_path: Path, clock: Clock, command: str, expected_notes: int
) -> None:
    settings = make_settings(tmp_path / "db.sqlite3")
    async with Harness.running(prepare(settings), clock) as harness:
        constituent, reference = await sent_case(harness)
        words = command.format(ref=reference).split()
        update = harness.updates.group_command(SAM, STAFF_CHAT, words[0], *words[1:])
        guard = services_of(harness.app).guard
        data = update.to_dict()
        await guard.keep([data])
        die_on_staff_acknowledgement(harness)
        with pytest.raises(ProcessDiedError):
            await harness.app.process_update(update)
        await harness.settle()
        assert await process_replayed(harness) == 0
        await harness.settle()
        replies = [t for t in harness.request.sent_texts(constituent) if "written to" in t]
        assert len(replies) == (1 if "reply" in command else 0)
        async with services_of(harness.app).store.transaction() as tx:
            stored = await tx.get_case(reference)
            assert stored is not None
            messages = await tx.list_messages(stored.id)
        assert len([m for m in messages if m.kind == "note"]) == expected_notes
        assert len([m for m in messages if m.kind == "to_constituent"]) == 1 - expected_notes


async def test_messages_ignored_as_a_flood_are_not_replayed(tmp_path: Path, clock: Clock) -> None:
    settings = make_settings(tmp_path / "db.sqlite3", flood_messages=2, flood_pause_seconds=300)
    async with Harness.running(prepare(settings), clock) as harness:
        flooder = new_user()
        guard = services_of(harness.app).guard
        updates = [harness.updates.text(flooder, f"message {n}") for n in range(6)]
        await guard.keep([u.to_dict() for u in updates])
        for update in updates:
            await harness.send(update)
        assert await guard.unprocessed() == []
        harness.request.clear()
        assert await process_replayed(harness) == 0
        assert harness.request.sent_texts(flooder.user_id) == []
