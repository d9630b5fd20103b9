"""The services driven with no channel at all: a whole intake, staff actions, the outbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.intake import Clock
from support.services import RecordingTransport, running_services, send_intake
from support.trips import Trips

from bot.core.references import make_reference
from bot.core.replies import (
    ChoiceReply,
    TextReply,
)
from bot.core.workdays import working_days
from bot.service.staff import Actor, NotStaffError
from bot.service.types import Sender
from bot.storage.sqlite.database import SqliteStore
from bot.wiring import Services

STAFF_CHAT = -100777
SAM = 9001


@pytest.fixture
async def services(tmp_path: Path, clock: Clock) -> AsyncIterator[Services]:
    """Return an office's services on a fresh store, with a recording transport."""
    async with running_services(tmp_path, clock) as (built, _):
        yield built


def transport(services: Services) -> RecordingTransport:
    """Return the recording transport the fixture gave the outbox."""
    found = services.outbox.transport
    assert isinstance(found, RecordingTransport)
    return found


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


async def test_a_start_is_recorded_as_processed_with_what_it_began(services: Services) -> None:
    once = Sender(5001, 5001, {"first_name": "Ada"}, update_id=78)
    first = await services.intake.start(once)
    # Delivered again past the guard (as after a restart): it begins nothing more.
    again = await services.intake.start(once)
    assert (first.stale, again.stale) == (False, True)
    async with services.store.autocommit() as tx:
        seen, _ = await tx.admission(78, 5001)
        draft = await tx.get_draft(5001)
        pending = await tx.count_pending()
    assert seen
    assert draft is not None
    assert draft.revision == first.revision
    assert pending == 1  # the welcome, owed once


async def test_the_time_and_the_reference_number_come_from_what_the_services_were_given(
    services: Services, clock: Clock
) -> None:
    clock.now = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    case = await send_intake(services)
    again = await send_intake(services, user_id=5002)
    assert case.created_at == again.created_at == clock.now
    assert case.reference == make_reference("SOT", 123456)
    assert again.reference == make_reference("SOT", 123457)


async def test_the_bank_holiday_calendar_is_made_before_the_first_case(
    tmp_path: Path, clock: Clock
) -> None:
    working_days.cache_clear()
    async with running_services(tmp_path, clock):
        # Made with the services: the first person to press Send does not wait for it.
        assert working_days.cache_info().currsize == 1


@pytest.mark.parametrize(
    ("languages", "trips"),
    [
        # Only English: a new person's first message reads nothing, and commits in one trip.
        ("en", 1),
        # Welsh too: their language is looked for (a draft, or an earlier case) first.
        ("en,cy", 2),
    ],
)
async def test_a_new_persons_start_reads_their_language_only_where_there_is_a_choice(
    tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch, languages: str, trips: int
) -> None:
    async with running_services(tmp_path, clock, languages=languages) as (built, _):
        assert isinstance(built.store, SqliteStore)
        counted = Trips(built.store, monkeypatch)
        response = await built.intake.start(Sender(5001, 5001, {"first_name": "Ada"}, 77))
        assert counted.count == trips
        assert response.prompt is not None
        first = "question.welcome" if languages == "en" else "language.choose"
        assert response.prompt.text.key == first
        async with built.store.autocommit() as tx:
            draft = await tx.get_draft(5001)
        assert (draft is not None) == (languages == "en")
