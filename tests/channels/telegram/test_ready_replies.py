"""Intake replies rendered while their answer is committed, and taken as made when sent."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from support.intake import Harness, intake_to_review, new_user, services_of

from bot.channels.telegram.render import Outgoing
from bot.channels.telegram.transport import ReadyReplies, TelegramTransport
from bot.core.catalogue import Msg
from bot.core.outbox import OwedReply
from bot.service.types import Response


class Counting:
    """A renderer that says how often it was asked, and can fail."""

    def __init__(self) -> None:
        self.calls: list[tuple[OwedReply, str | None]] = []
        self.failing = False

    def __call__(self, reply: OwedReply, language: str | None) -> Outgoing:
        self.calls.append((reply, language))
        if self.failing:
            raise KeyError("text 'intake.ask' needs a value for {name}")
        return Outgoing(f"{len(self.calls)} in {language}")


async def test_a_reply_made_ahead_is_sent_as_made_and_only_for_itself() -> None:
    render = Counting()
    ready = ReadyReplies(render)
    reply = OwedReply.of([Msg("intake.ask")], revision=1)
    ready.soon(reply, "cy")
    assert render.calls == []  # made once the event loop is free, not at once
    await asyncio.sleep(0)
    made = ready(reply, "cy")
    assert made.text == "1 in cy"
    assert len(render.calls) == 1
    # Taken once; an equal reply that is another object, or another language, is made anew.
    assert ready(reply, "cy").text == "2 in cy"
    ready.soon(reply, "cy")
    await asyncio.sleep(0)
    assert ready(OwedReply.of([Msg("intake.ask")], revision=1), "cy").text == "4 in cy"
    assert ready(reply, "en").text == "5 in en"


async def test_a_reply_that_cannot_be_made_ahead_fails_where_it_is_sent() -> None:
    render = Counting()
    render.failing = True
    ready = ReadyReplies(render)
    reply = OwedReply.of([Msg("intake.ask")], revision=1)
    ready.soon(reply, None)
    await asyncio.sleep(0)  # no error escapes into the event loop
    with pytest.raises(KeyError):
        ready(reply, None)


async def test_an_answers_reply_is_made_during_its_commit_and_sent_as_made(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = new_user()
    await harness.run(user, intake_to_review()[:3])
    services = services_of(harness.app)
    transport = services.outbox.transport
    assert isinstance(transport, TelegramTransport)
    ready = transport.render_reply
    assert isinstance(ready, ReadyReplies)
    happened: list[str] = []
    render, handle = ready._render, services.intake.handle

    def spy(reply: OwedReply, language: str | None) -> Outgoing:
        out = render(reply, language)
        happened.append(out.text)
        return out

    async def handled(*args: Any, **kwargs: Any) -> Response:
        response = await handle(*args, **kwargs)
        happened.append("committed")
        return response

    monkeypatch.setattr(ready, "_render", spy)
    monkeypatch.setattr(services.intake, "handle", handled)
    texts = await harness.send(harness.updates.text(user, "Ada Lovelace"), chat_id=user.user_id)
    assert "What is your home postcode?" in texts[-1]
    # Rendered once, while the answer was being committed, and sent as made.
    assert happened == [texts[-1], "committed"]
    assert ready._ready == {}
