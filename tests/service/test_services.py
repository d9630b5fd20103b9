"""The services driven with no channel at all: a whole intake, staff actions, the outbox."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.intake import Clock, make_settings

from bot.core.case import Case
from bot.core.outbox import Cleanup, OwedMessage
from bot.core.references import make_reference
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
from bot.service.staff import Actor, NotStaffError
from bot.service.types import Sender
from bot.wiring import Services, build_services, open_store

STAFF_CHAT = -100777
SAM = 9001


@dataclass
class RecordingTransport:
    """A channel that keeps what it was asked to deliver."""

    cards: list[tuple[int, str]] = field(default_factory=list)
    messages: list[tuple[int, str]] = field(default_factory=list)

    async def show_card(self, chat_id: int, case: Case, place: CardPlace) -> Shown:
        self.cards.append((chat_id, case.reference))
        return Shown(place.message_id or len(self.cards), sent=True)

    async def send(self, chat_id: int, owed: OwedMessage, topic_id: int | None = None) -> int:
        question = owed.reply.question if owed.reply is not None else None
        key = owed.text.key if owed.reply is None else f"reply:{question and question.step}"
        self.messages.append((chat_id, key))
        return len(self.messages)

    def texts(self) -> list[tuple[int, str]]:
        """Return the catalogue texts delivered, leaving out the intake's own replies."""
        return [(chat, key) for chat, key in self.messages if not key.startswith("reply:")]

    async def open_topic(self, chat_id: int, case: Case | None) -> int:
        raise AssertionError("no topics in a flat group")

    async def clean(self, chat_id: int, cleanup: Cleanup) -> int:
        self.messages.append((chat_id, "cleanup"))
        return 1

    async def show_summary(self, chat_id: int, summary: Summary) -> Shown:
        raise AssertionError("no summary in a flat group")


@pytest.fixture
async def services(tmp_path: Path, clock: Clock) -> AsyncIterator[Services]:
    """Return an office's services on a fresh store, with a recording transport."""
    office = prepare(make_settings(tmp_path / "db.sqlite3"))
    store = await open_store(office.settings.database_path)
    numbers = itertools.count(123456)
    built = build_services(office, store, clock, lambda: next(numbers), delivery_backoff=0.01)
    built.outbox.transport = RecordingTransport()
    try:
        yield built
    finally:
        await store.close()


def transport(services: Services) -> RecordingTransport:
    """Return the recording transport the fixture gave the outbox."""
    found = services.outbox.transport
    assert isinstance(found, RecordingTransport)
    return found


def finished_attachments() -> Reply:
    """Return the reply of the "I have finished" button under the documents question."""
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
    finished_attachments(),
    ChoiceReply("yes"),
]


async def send_intake(services: Services, user_id: int = 5001) -> Case:
    """Run a whole intake through the intake service and return the case it made."""
    sender = Sender(user_id, user_id, {"first_name": "Ada"})
    response = await services.intake.start(sender)
    for reply in [*INTAKE, Send()]:
        assert response.revision is not None or response.case is not None
        response = await services.intake.handle(sender, reply, response.revision)
        assert not response.stale, reply
        if response.case is not None:
            return response.case
    step = response.prompt.step if response.prompt else None
    raise AssertionError(f"no case after the intake; it stopped at {step!r}")


async def test_a_whole_intake_makes_a_case_and_owes_a_confirmation_and_a_card(
    services: Services,
) -> None:
    case = await send_intake(services)
    assert case.reference.startswith("SOT-")
    assert case.category == "housing"
    await services.outbox.drain(seconds=5)
    assert transport(services).texts() == [(5001, "confirmation.sent")]
    # Every answer's next question was owed to the person, up to check-your-answers.
    asked = [key for _, key in transport(services).messages if key.startswith("reply:")]
    assert asked[0] == "reply:welcome"
    assert asked[-1] == "reply:review"
    assert transport(services).cards == [(STAFF_CHAT, case.reference)]


async def test_only_staff_in_a_staff_chat_are_authorised(services: Services) -> None:
    with pytest.raises(NotStaffError):
        await services.staff.authorise(Actor(5001, 5001), "queue")
    with pytest.raises(NotStaffError):
        await services.staff.authorise(Actor(SAM, -100999), "queue")
    who = await services.staff.authorise(Actor(SAM, STAFF_CHAT, 77), "queue")
    assert (who.user_id, who.chat_id, who.update_id) == (SAM, STAFF_CHAT, 77)
    mine = await services.staff.authorise(Actor(SAM, SAM), "queue")
    assert mine.chat_id == SAM


async def test_a_reply_in_an_update_applied_twice_is_owed_once(services: Services) -> None:
    case = await send_intake(services)
    who = await services.staff.authorise(Actor(SAM, STAFF_CHAT, 4242), "reply")
    first = await services.staff.reply(who, case.reference, "We have written to the council.")
    again = await services.staff.reply(who, case.reference, "We have written to the council.")
    assert (first.duplicate, again.duplicate) == (False, True)
    await services.outbox.drain(seconds=5)
    sent = [key for chat, key in transport(services).texts() if chat == 5001]
    assert sent == ["confirmation.sent", "reply.to_constituent"]


async def test_an_answer_in_an_update_handled_twice_counts_once(services: Services) -> None:
    sender = Sender(5001, 5001, {"first_name": "Ada"})
    started = await services.intake.start(sender)
    await services.intake.handle(sender, ChoiceReply("start"), started.revision)
    asked = await services.intake.handle(sender, ChoiceReply("self"))
    # The draft is now kept in memory: the second delivery is found out as it commits.
    once = replace(sender, update_id=77)
    first = await services.intake.handle(once, TextReply("Ada Lovelace"), asked.revision)
    again = await services.intake.handle(once, TextReply("Grace Hopper"), asked.revision)
    assert (first.stale, again.stale) == (False, True)
    async with services.store.transaction() as tx:
        draft = await tx.get_draft(5001)
    assert draft is not None
    assert draft.revision == first.revision
    assert [a.value for a in draft.answers.values()][-1] == "Ada Lovelace"


async def test_the_time_and_the_reference_number_come_from_what_the_services_were_given(
    services: Services, clock: Clock
) -> None:
    clock.now = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    case = await send_intake(services)
    again = await send_intake(services, user_id=5002)
    assert case.created_at == again.created_at == clock.now
    assert case.reference == make_reference("SOT", 123456)
    assert again.reference == make_reference("SOT", 123457)
