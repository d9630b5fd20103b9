"""An office's services on a fresh store with a recording transport, and a whole intake."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.core.case import Case
from bot.core.outbox import Cleanup, OwedMessage
from bot.core.replies import (
    ChoiceReply,
    ContactReply,
    FinishText,
    Reply,
    Send,
    Skip,
    TextReply,
    reply_for_action,
)
from bot.office import prepare
from bot.service.outbox import CardPlace, Shown, Summary
from bot.service.types import Sender
from bot.wiring import Services, build_services, open_store
from support.intake import Clock, make_settings


@dataclass
class RecordingTransport:
    """A channel that keeps what it was asked to deliver: card references and text keys."""

    cards: list[tuple[int, str]] = field(default_factory=list)
    messages: list[tuple[int, str]] = field(default_factory=list)
    owed: list[tuple[int, OwedMessage]] = field(default_factory=list)

    async def show_card(self, chat_id: int, case: Case, place: CardPlace) -> Shown:
        self.cards.append((chat_id, case.reference))
        return Shown(place.message_id or len(self.cards), sent=True)

    async def open_topic(self, chat_id: int, case: Case | None) -> int:
        raise AssertionError("no topics in a flat group")

    async def clean(self, chat_id: int, cleanup: Cleanup) -> int:
        self.messages.append((chat_id, "cleanup"))
        return 1

    async def show_summary(self, chat_id: int, summary: Summary) -> Shown:
        raise AssertionError("no summary in a flat group")

    async def send(self, chat_id: int, owed: OwedMessage, topic_id: int | None = None) -> int:
        question = owed.reply.question if owed.reply is not None else None
        key = owed.text.key if owed.reply is None else f"reply:{question and question.step}"
        self.messages.append((chat_id, key))
        self.owed.append((chat_id, owed))
        return len(self.messages)

    def texts(self) -> list[tuple[int, str]]:
        """Return the catalogue texts delivered, leaving out the intake's own replies."""
        return [(chat, key) for chat, key in self.messages if not key.startswith("reply:")]


@asynccontextmanager
async def running_services(
    folder: Path, clock: Clock, **settings: Any
) -> AsyncIterator[tuple[Services, RecordingTransport]]:
    """Yield an office's services on a new store in ``folder``, and the transport they use."""
    office = prepare(make_settings(folder / "db.sqlite3", **settings))
    store = await open_store(office.settings.database_path)
    numbers = itertools.count(123456)
    built = build_services(office, store, clock, lambda: next(numbers), delivery_backoff=0.01)
    recorder = RecordingTransport()
    built.outbox.transport = recorder
    try:
        yield built, recorder
    finally:
        await store.close()


def _finished_attachments() -> Reply:
    reply = reply_for_action("done")
    assert reply is not None
    return reply


INTAKE: list[Reply] = [
    ChoiceReply("start"),
    ChoiceReply("self"),
    TextReply("Ada Lovelace"),
    TextReply("ST4 1HH"),
    TextReply("12 Example Road, Stoke-on-Trent"),
    ContactReply("447911123456"),
    ChoiceReply("phone"),
    Skip(),
    Skip(),
    ChoiceReply("housing"),
    TextReply("Stoke-on-Trent City Council"),
    Skip(),
    ChoiceReply("yes"),
    TextReply("The council has not repaired the damp in my flat since June."),
    FinishText("what_happened"),
    TextReply("Ask the council to carry out the repair."),
    FinishText("desired_outcome"),
    Skip(),
    _finished_attachments(),
    ChoiceReply("yes"),
]


async def send_intake(services: Services, user_id: int = 5001) -> Case:
    """Run a whole intake through the intake service and return the case it made."""
    sender = Sender(user_id, user_id, {"first_name": "Ada"})
    response = await services.intake.start(sender)
    for reply in [*INTAKE, Send()]:
        response = await services.intake.handle(sender, reply, response.revision)
        assert not response.stale, reply
        if response.case is not None:
            return response.case
    raise AssertionError("no case after the intake")
