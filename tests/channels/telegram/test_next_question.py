"""The next question always arrives: replies to answers go through the outbox, once each."""

from __future__ import annotations

import logging
from http import HTTPStatus

import pytest
from support.intake import Clock, Harness, intake_to_review, new_user, services_of
from support.telegram import FakeUser, RecordingRequest

from bot.office import Office

ADDRESS_QUESTION = "What is your address?"


def asked(request: RecordingRequest, user: FakeUser, text: str) -> int:
    """Return how many times ``text`` reached the person."""
    return sum(text in t for t in request.sent_texts(user.user_id))


async def deliver(harness: Harness, *, seconds: float = 1.0, rounds: int = 40) -> None:
    """Move the clock on and run delivery passes until nothing is owed."""
    outbox = services_of(harness.app).outbox
    for _ in range(rounds):
        await outbox.deliver_due()
        async with services_of(harness.app).store.transaction() as tx:
            if await tx.count_pending() == 0:
                return
        harness.clock.advance(seconds=seconds)
    raise AssertionError("something is still owed")


async def at_postcode(harness: Harness, user: FakeUser) -> None:
    """Run an intake up to the postcode question."""
    await harness.run(user, intake_to_review()[:4])


async def test_a_429_on_the_next_question_waits_retry_after_then_sends_it_once(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    user = new_user()
    await at_postcode(harness, user)
    harness.request.fail_next("sendMessage", status=HTTPStatus.TOO_MANY_REQUESTS, retry_after=3)
    with caplog.at_level(logging.WARNING):
        await harness.app.process_update(harness.updates.text(user, "ST4 1HH"))
        await services_of(harness.app).outbox.deliver_due()
        assert asked(harness.request, user, ADDRESS_QUESTION) == 0
        harness.clock.advance(seconds=2)
        await services_of(harness.app).outbox.deliver_due()
        assert asked(harness.request, user, ADDRESS_QUESTION) == 0  # retry_after is honoured
        harness.clock.advance(seconds=1)
        await deliver(harness)
    assert asked(harness.request, user, ADDRESS_QUESTION) == 1
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    # The person carries on from the question that arrived late.
    await harness.run(user, [(("text", "12 Example Road"), "What is your phone number?")])


@pytest.mark.parametrize(
    "fault",
    ["500", "502", "timeout"],
)
async def test_a_short_outage_delays_the_next_question_for_everyone_but_loses_none(
    harness: Harness, fault: str
) -> None:
    users = [new_user(f"Person{i}") for i in range(10)]
    for user in users:
        await at_postcode(harness, user)
    if fault == "timeout":
        harness.request.timeout_next("sendMessage", times=10)
    else:
        harness.request.fail_next("sendMessage", status=int(fault), times=10)
    for user in users:
        await harness.app.process_update(harness.updates.text(user, "ST4 1HH"))
    await deliver(harness)
    assert [asked(harness.request, user, ADDRESS_QUESTION) for user in users] == [1] * 10
    for user in users:
        await harness.run(user, [(("text", "12 Example Road"), "What is your phone number?")])


async def test_a_question_owed_when_the_bot_stops_is_sent_when_it_starts_again(
    office: Office, clock: Clock
) -> None:
    user = new_user()
    request = RecordingRequest()
    async with Harness.running(office, clock, request) as first:
        await at_postcode(first, user)
        request.fail_next("sendMessage", status=HTTPStatus.BAD_GATEWAY)
        await first.app.process_update(first.updates.text(user, "ST4 1HH"))
        assert asked(request, user, ADDRESS_QUESTION) == 0  # its retry is not due yet
    clock.advance(minutes=5)
    async with Harness.running(office, clock, request) as second:
        await deliver(second)
        assert asked(request, user, ADDRESS_QUESTION) == 1
        second.updates = first.updates
        await second.run(user, [(("text", "12 Example Road"), "What is your phone number?")])


async def test_a_button_press_is_answered_at_once_while_its_next_question_waits(
    harness: Harness,
) -> None:
    user = new_user()
    await harness.run(user, intake_to_review()[:2])
    harness.request.fail_next("sendMessage", status=HTTPStatus.TOO_MANY_REQUESTS, retry_after=5)
    await harness.app.process_update(harness.updates.press(user, "It is about me"))
    [answer] = harness.request.calls("answerCallbackQuery")[-1:]
    assert answer.ok
    assert asked(harness.request, user, "What is your full name?") == 0
    harness.clock.advance(seconds=5)
    await deliver(harness)
    assert asked(harness.request, user, "What is your full name?") == 1
