"""The outbox delivery worker through the real Application: retries, restarts, refusals, limits."""

from __future__ import annotations

import asyncio
import itertools
import logging
import sqlite3
from collections.abc import Callable
from datetime import datetime
from http import HTTPStatus
from typing import Any

import pytest
from support.intake import (
    PRIYA,
    SAM,
    STAFF_CHAT,
    Clock,
    Harness,
    intake_to_review,
    new_user,
    services_of,
)
from support.telegram import JSON, FakeUser, RecordingRequest, SentCall
from telegram.error import TimedOut
from telegram.request import RequestData

from bot.core.catalogue import Msg
from bot.core.references import make_reference
from bot.office import Office
from bot.service import outbox
from bot.service.outbox import UNEXPECTED_ATTEMPTS, RateLimit

SENDS = ("sendMessage", "editMessageText")


class ChatFaults(RecordingRequest):
    """The offline Bot API, able to fail sends to one chat while other chats work."""

    def __init__(self) -> None:
        super().__init__()
        self.down: dict[int, tuple[int, str | None]] = {}  # chat -> (status, description)
        self.queued: dict[int, list[tuple[int | None, int | None]]] = {}  # (status, retry_after)

    def fail_chat(
        self, chat_id: int, *, status: int | None, retry_after: int | None = None, times: int = 1
    ) -> None:
        """Fail the next ``times`` sends to ``chat_id`` (status None: time out)."""
        self.queued.setdefault(chat_id, []).extend([(status, retry_after)] * times)

    def _answer(
        self, api_method: str, params: JSON, request_data: RequestData | None
    ) -> tuple[int | None, JSON]:
        chat = int(params["chat_id"]) if "chat_id" in params else None
        if api_method in SENDS and chat is not None:
            queued = self.queued.get(chat)
            if queued:
                status, retry_after = queued.pop(0)
                if status is None:
                    self.timeout_next(api_method)
                else:
                    self.fail_next(api_method, status=status, retry_after=retry_after)
            elif chat in self.down:
                status, description = self.down[chat]
                self.fail_next(api_method, status=status, description=description)
        return super()._answer(api_method, params, request_data)


def posts(request: RecordingRequest, chat_id: int, needle: str) -> list[SentCall]:
    """Return the successful sendMessage calls to a chat whose text contains ``needle``."""
    return [
        c
        for c in request.calls("sendMessage")
        if c.ok and c.chat_id == chat_id and needle in (c.text or "")
    ]


def failures(request: RecordingRequest, chat_id: int) -> list[SentCall]:
    """Return the sendMessage calls to a chat that were answered with an error."""
    return [c for c in request.calls("sendMessage") if not c.ok and c.chat_id == chat_id]


async def pending(harness: Harness) -> int:
    """Return how many outbox entries wait."""
    async with services_of(harness.app).store.transaction() as tx:
        return await tx.count_pending()


async def deliver_all(harness: Harness, *, step: float = 2.0, rounds: int = 200) -> None:
    """Run delivery passes, moving the fake clock past each retry, until nothing waits."""
    delivery = services_of(harness.app).outbox
    for _ in range(rounds):
        await delivery.deliver_due()
        if await pending(harness) == 0:
            return
        harness.clock.advance(seconds=step)
    raise AssertionError("the outbox still holds entries")


async def to_review(harness: Harness, user: FakeUser) -> None:
    """Run an intake up to check-your-answers (nothing is owed to anyone yet)."""
    await harness.run(user, intake_to_review())


async def press_send(harness: Harness, user: FakeUser) -> str:
    """Press Send without waiting for the outbox; return the new case's reference."""
    await harness.app.process_update(harness.updates.press(user, "Send to the office"))
    cases = await services_of(harness.app).intake.cases_of(user.user_id)
    return cases[-1].reference


def outbox_rows(office: Office) -> list[tuple[str, int, str, str | None]]:
    """Return every outbox entry but the intake's replies as (kind, chat, state, last error)."""
    with sqlite3.connect(office.settings.database_path) as db:
        rows = db.execute(
            "SELECT kind, chat_id, state, last_error FROM outbox"
            " WHERE json_extract(payload, '$.reply') IS NULL ORDER BY id"
        )
        return [(r[0], r[1], r[2], r[3]) for r in rows.fetchall()]


# --- transient failures --------------------------------------------------------------------


Fault = tuple[int | None, int | None]  # (HTTP status or None for a timeout, retry_after)
SERVER_ERROR: Fault = (HTTPStatus.INTERNAL_SERVER_ERROR, None)
BAD_GATEWAY: Fault = (HTTPStatus.BAD_GATEWAY, None)
TOO_MANY: Fault = (HTTPStatus.TOO_MANY_REQUESTS, 1)
TIMEOUT: Fault = (None, None)


@pytest.mark.parametrize(
    "faults",
    [
        [SERVER_ERROR] * 4,
        [BAD_GATEWAY] * 4,
        [TOO_MANY] * 4,
        [TIMEOUT] * 4,
        [BAD_GATEWAY, TOO_MANY, TIMEOUT, SERVER_ERROR],
    ],
    ids=["500", "502", "429", "timeout", "mixed"],
)
async def test_card_and_confirmation_survive_repeated_transient_failures(
    office: Office, clock: Clock, faults: list[Fault]
) -> None:
    request = ChatFaults()
    async with Harness.running(office, clock, request) as harness:
        user = new_user()
        await to_review(harness, user)
        for status, retry_after in faults:
            request.fail_chat(STAFF_CHAT, status=status, retry_after=retry_after)
        for status, retry_after in faults[:3]:
            request.fail_chat(user.user_id, status=status, retry_after=retry_after)
        reference = await press_send(harness, user)
        await deliver_all(harness)
        assert len(failures(request, STAFF_CHAT)) == 4
        assert len(failures(request, user.user_id)) == 3
        assert len(posts(request, STAFF_CHAT, f"<code>{reference}</code>")) == 1
        assert len(posts(request, user.user_id, "Your enquiry has been sent")) == 1
        assert [r[2] for r in outbox_rows(office)] == ["sent", "sent"]
        # Nothing more is posted later.
        clock.advance(minutes=30)
        await deliver_all(harness)
        assert len(posts(request, STAFF_CHAT, reference)) == 1
        assert len(posts(request, user.user_id, reference)) == 1


async def test_retry_after_is_waited_for(office: Office, clock: Clock) -> None:
    request = ChatFaults()
    async with Harness.running(office, clock, request) as harness:
        user = new_user()
        await to_review(harness, user)
        request.fail_chat(STAFF_CHAT, status=HTTPStatus.TOO_MANY_REQUESTS, retry_after=30)
        reference = await press_send(harness, user)
        delivery = services_of(harness.app).outbox
        await delivery.deliver_due()
        await delivery.deliver_due()
        assert len(failures(request, STAFF_CHAT)) == 1
        clock.advance(seconds=29)
        await delivery.deliver_due()
        assert len([c for c in request.calls("sendMessage") if c.chat_id == STAFF_CHAT]) == 1
        clock.advance(seconds=2)
        await delivery.deliver_due()
        assert len(posts(request, STAFF_CHAT, reference)) == 1


# --- restarts ------------------------------------------------------------------------------


async def test_cards_owed_at_a_restart_are_posted_once_after_it(
    office: Office, clock: Clock
) -> None:
    users = [new_user(f"Person{i}") for i in range(3)]
    first = ChatFaults()
    first.down[STAFF_CHAT] = (HTTPStatus.BAD_GATEWAY, None)
    async with Harness.running(office, clock, first) as harness:
        for user in users:
            await to_review(harness, user)
        references = [await press_send(harness, user) for user in users]
        delivery = services_of(harness.app).outbox
        for _ in range(10):
            await delivery.deliver_due()
            clock.advance(seconds=1)
        assert await pending(harness) == 3  # the three cards
    assert failures(first, STAFF_CHAT)
    assert not [c for c in first.calls("sendMessage") if c.ok and c.chat_id == STAFF_CHAT]
    for user, reference in zip(users, references, strict=True):
        assert len(posts(first, user.user_id, reference)) == 1

    clock.advance(minutes=5)
    second = RecordingRequest()
    async with Harness.running(office, clock, second) as harness:
        await harness.settle()
        assert await pending(harness) == 0
    for reference in references:
        assert len(posts(second, STAFF_CHAT, f"<code>{reference}</code>")) == 1
    assert len([c for c in second.calls("sendMessage") if c.chat_id == STAFF_CHAT]) == 3
    assert not [c for c in second.calls("sendMessage") if c.chat_id != STAFF_CHAT]

    third = RecordingRequest()
    async with Harness.running(office, clock, third) as harness:
        await harness.settle()
    assert third.calls("sendMessage") == []
    assert third.calls("editMessageText") == []


# --- refusals for good -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "description", "shown"),
    [
        (HTTPStatus.BAD_REQUEST, "Bad Request: chat not found", "BadRequest: Chat not found"),
        (
            HTTPStatus.FORBIDDEN,
            "Forbidden: bot was kicked from the supergroup chat",
            "Forbidden: bot was kicked from the supergroup chat",
        ),
    ],
    ids=["400", "403"],
)
async def test_a_card_the_staff_group_refuses_is_failed_and_staff_are_told_privately(
    office: Office, clock: Clock, status: int, description: str, shown: str
) -> None:
    request = ChatFaults()
    request.down[STAFF_CHAT] = (status, description)
    async with Harness.running(office, clock, request) as harness:
        user = new_user()
        await harness.run(user, intake_to_review())
        texts = await harness.act(user, ("tap", "Send to the office"))
        assert any("Your enquiry has been sent" in t for t in texts)
        reference = (await services_of(harness.app).intake.cases_of(user.user_id))[0].reference
        async with services_of(harness.app).store.transaction() as tx:
            entries = await tx.list_audit(reference)
    assert len(failures(request, STAFF_CHAT)) == 1  # not retried
    assert ("card", STAFF_CHAT, "failed", shown) in outbox_rows(office)
    [failed] = [e for e in entries if e.action == "delivery_failed"]
    assert failed.detail == f"card: {shown}"
    assert failed.actor is None
    for member in (SAM, PRIYA):
        [notice] = request.sent_texts(member.user_id)
        assert f"The card for case {reference} could not be posted to the staff group" in notice
        assert shown in notice
        assert f"Send /case {reference} to see it." in notice


@pytest.mark.parametrize(
    ("status", "shown"),
    [
        (HTTPStatus.BAD_REQUEST, "BadRequest: Chat not found"),
        (HTTPStatus.FORBIDDEN, "Forbidden: bot was blocked by the user"),
    ],
    ids=["400", "403"],
)
async def test_a_message_a_constituent_cannot_get_is_failed_and_the_group_is_told(
    office: Office, clock: Clock, status: int, shown: str
) -> None:
    request = ChatFaults()
    async with Harness.running(office, clock, request) as harness:
        user = new_user()
        await harness.run(user, intake_to_review())
        request.down[user.user_id] = (status, None)
        await harness.act(user, ("tap", "Send to the office"))
        reference = (await services_of(harness.app).intake.cases_of(user.user_id))[0].reference
        async with services_of(harness.app).store.transaction() as tx:
            entries = await tx.list_audit(reference)
    assert len(failures(request, user.user_id)) == 1
    assert ("message", user.user_id, "failed", shown) in outbox_rows(office)
    [failed] = [e for e in entries if e.action == "delivery_failed"]
    assert failed.detail == f"message: {shown}"
    notices = [t for t in request.sent_texts(STAFF_CHAT) if t.startswith("⚠️")]
    assert notices == [
        f"⚠️ A message to the constituent on case {reference} could not be delivered: {shown}."
        " Contact them another way."
    ]
    assert request.sent_texts(SAM.user_id) == []


# --- the staff group's rate limit --------------------------------------------------------------


async def test_the_staff_group_gets_twenty_cards_a_minute(harness: Harness) -> None:
    now = [0.0]
    delivery = services_of(harness.app).outbox
    delivery.group_limit = RateLimit(20, 60.0, lambda: now[0])
    users = [new_user(f"Person{i}") for i in range(25)]
    await asyncio.gather(*(harness.run(user, intake_to_review()) for user in users))
    presses = [harness.updates.press(user, "Send to the office") for user in users]
    await asyncio.gather(*(harness.app.process_update(press) for press in presses))

    def cards() -> list[SentCall]:
        return [c for c in harness.request.calls("sendMessage") if c.chat_id == STAFF_CHAT]

    for _ in range(60):
        await delivery.deliver_due()
    assert len(cards()) == 20
    assert all(call.ok for call in cards())
    assert await pending(harness) == 5
    for user in users:
        assert len(posts(harness.request, user.user_id, "Your enquiry has been sent")) == 1
    wait = await delivery.deliver_due()
    assert 0 < wait <= 60

    now[0] = 59.0
    for _ in range(10):
        await delivery.deliver_due()
    assert len(cards()) == 20

    now[0] = 60.0
    for _ in range(10):
        await delivery.deliver_due()
    assert len(cards()) == 25
    assert await pending(harness) == 0
    references = {
        c.reference
        for u in users
        for c in await services_of(harness.app).intake.cases_of(u.user_id)
    }
    posted = {ref for ref in references for c in cards() if f"<code>{ref}</code>" in (c.text or "")}
    assert posted == references


# --- cards stay up to date -------------------------------------------------------------------


class Held(RecordingRequest):
    """The offline Bot API, keeping ``method`` calls to one chat in flight until ``release``."""

    def __init__(self, method: str, chat_id: int) -> None:
        super().__init__()
        self.method, self.chat_id = method, chat_id
        self.release = asyncio.Event()
        self.release.set()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = RecordingRequest.DEFAULT_NONE,
        write_timeout: Any = RecordingRequest.DEFAULT_NONE,
        connect_timeout: Any = RecordingRequest.DEFAULT_NONE,
        pool_timeout: Any = RecordingRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        answer = await super().do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )
        chat = request_data.parameters.get("chat_id") if request_data else None
        if url.endswith(f"/{self.method}") and chat == self.chat_id:
            await self.release.wait()  # Telegram has it; the answer is on its way
        return answer

    def in_flight(self) -> list[SentCall]:
        """Return the calls this double holds (or held)."""
        return [c for c in self.calls(self.method) if c.chat_id == self.chat_id]


async def until(check: Callable[[], object], seconds: float = 5.0) -> None:
    """Wait (in real time: the worker uses a database thread) until ``check()`` is true."""
    for _ in range(int(seconds / 0.01)):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("timed out waiting")


async def test_a_change_made_while_the_card_is_updated_reaches_the_card(
    office: Office, clock: Clock
) -> None:
    request = Held("editMessageText", STAFF_CHAT)
    async with Harness.running(office, clock, request) as harness:
        user = new_user()
        await harness.run(user, intake_to_review())
        await harness.act(user, ("tap", "Send to the office"))
        reference = (await services_of(harness.app).intake.cases_of(user.user_id))[0].reference
        request.release.clear()
        claim = harness.updates.group_command(SAM, STAFF_CHAT, "/claim", reference)
        await harness.app.process_update(claim)
        await until(request.in_flight)
        [edit] = request.in_flight()
        assert "Assigned to: Sam" in str(edit.params["text"])
        assign = harness.updates.group_command(SAM, STAFF_CHAT, "/assign", reference, "Priya")
        await harness.app.process_update(assign)
        request.release.set()
        await harness.settle()
        card = request.message(STAFF_CHAT, int(edit.params["message_id"]))
    assert card is not None
    assert "Assigned to: Priya" in card["text"]


async def test_stopping_while_a_card_is_in_flight_does_not_post_it_twice(
    office: Office, clock: Clock
) -> None:
    first = Held("sendMessage", STAFF_CHAT)
    async with Harness.running(office, clock, first) as harness:
        user = new_user()
        await harness.run(user, intake_to_review())
        first.release.clear()
        await harness.app.process_update(harness.updates.press(user, "Send to the office"))
        await until(first.in_flight)
        # Telegram has the card; its answer arrives just after the bot is told to stop.
        asyncio.get_running_loop().call_later(0.05, first.release.set)
    second = RecordingRequest()
    async with Harness.running(office, clock, second) as harness:
        await harness.settle()
    cards = [c for r in (first, second) for c in r.calls("sendMessage") if c.chat_id == STAFF_CHAT]
    assert len(cards) == 1


async def test_a_note_a_caseworker_cannot_get_is_not_reported_as_a_constituent_message(
    office: Office, clock: Clock
) -> None:
    request = ChatFaults()
    request.down[PRIYA.user_id] = (
        HTTPStatus.FORBIDDEN,
        "Forbidden: bot can't initiate conversation with a user",
    )
    async with Harness.running(office, clock, request) as harness:
        user = new_user()
        await harness.run(user, intake_to_review())
        await harness.act(user, ("tap", "Send to the office"))
        reference = (await services_of(harness.app).intake.cases_of(user.user_id))[0].reference
        await harness.send(
            harness.updates.group_command(SAM, STAFF_CHAT, "/assign", reference, "Priya")
        )
    [notice] = [t for t in request.sent_texts(STAFF_CHAT) if t.startswith("⚠️")]
    assert reference in notice
    assert "to the constituent" not in notice


async def test_a_hanging_chat_does_not_hold_up_other_chats(office: Office, clock: Clock) -> None:
    request = Held("sendMessage", STAFF_CHAT)
    async with Harness.running(office, clock, request) as harness:
        first, second = new_user(), new_user()
        for user in (first, second):
            await harness.run(user, intake_to_review())
        request.release.clear()
        await harness.app.process_update(harness.updates.press(first, "Send to the office"))
        await until(request.in_flight)
        # The staff group's card is stuck in flight; the second person's confirmation is not.
        await harness.app.process_update(harness.updates.press(second, "Send to the office"))
        await until(lambda: any("has been sent" in t for t in request.sent_texts(second.user_id)))
        request.release.set()
        await harness.settle()


# --- faults in the bot, and sends Telegram took but did not answer ---------------------------


def attempts_to(office: Office, chat_id: int) -> list[tuple[str, int]]:
    """Return the state and attempt count of each entry but intake replies for a chat."""
    with sqlite3.connect(office.settings.database_path) as db:
        sql = (
            "SELECT state, attempts FROM outbox WHERE chat_id = ?"
            " AND json_extract(payload, '$.reply') IS NULL ORDER BY id"
        )
        return [(r[0], r[1]) for r in db.execute(sql, (chat_id,)).fetchall()]


async def test_a_text_the_code_does_not_fill_fails_without_spinning_and_the_next_message_arrives(
    office: Office, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=outbox.__name__)
    request = ChatFaults()
    async with Harness.running(office, clock, request) as harness:
        user = new_user()
        await harness.run(user, intake_to_review())
        await harness.act(user, ("tap", "Send to the office"))
        reference = (await services_of(harness.app).intake.cases_of(user.user_id))[0].reference
        services = services_of(harness.app)
        async with services.store.transaction() as tx:
            stored = await tx.get_case(reference)
            assert stored is not None
            # A reply owed without the caseworker's name and words: the text cannot be filled.
            broken = Msg("reply.to_constituent", {"reference": reference})
            await tx.owe(user.user_id, broken, clock(), stored.id)
        services.outbox.wake()
        reply = harness.updates.group_command(
            SAM, STAFF_CHAT, "/reply", reference, "We have written to the council."
        )
        await harness.app.process_update(reply)
        # The background worker runs meanwhile (in real time; the fake clock stands still):
        # it tries once, then waits, where a hot loop would try hundreds of times.
        await until(lambda: attempts_to(office, user.user_id)[1] == ("pending", 1))
        await asyncio.sleep(0.2)
        assert attempts_to(office, user.user_id)[1:] == [("pending", 1), ("pending", 0)]
        await deliver_all(harness, step=60.0)
    assert attempts_to(office, user.user_id)[1:] == [
        ("failed", UNEXPECTED_ATTEMPTS),
        ("sent", 1),
    ]
    assert ("message", user.user_id, "failed", "unexpected KeyError") in outbox_rows(office)
    notices = [t for t in request.sent_texts(STAFF_CHAT) if t.startswith("⚠️")]
    assert notices == [
        f"⚠️ A message to the constituent on case {reference} could not be delivered:"
        " unexpected KeyError. Contact them another way."
    ]
    # The constituent's next message still arrives, after the one that failed.
    last = request.sent_texts(user.user_id)[-1]
    assert "<b>Message from Sam at the office of Jo Example</b>" in last
    assert "We have written to the council." in last
    # One line per attempt, with the traceback once.
    lines = [r for r in caplog.records if "unexpected KeyError" in r.getMessage()]
    assert len(lines) == UNEXPECTED_ATTEMPTS
    assert sum(r.exc_info is not None for r in lines) == 1


class TakenButTimedOut(RecordingRequest):
    """The offline Bot API: it takes a staff-group post mentioning ``needle``, then times out."""

    def __init__(self, needle: str, times: int, wall: Callable[[], datetime]) -> None:
        super().__init__()
        self.needle, self.times, self.wall = needle, times, wall
        self.posted_at: list[datetime] = []

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = RecordingRequest.DEFAULT_NONE,
        write_timeout: Any = RecordingRequest.DEFAULT_NONE,
        connect_timeout: Any = RecordingRequest.DEFAULT_NONE,
        pool_timeout: Any = RecordingRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        answer = await super().do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )
        params = request_data.parameters if request_data else {}
        mentioned = self.needle in str(params.get("text", ""))
        if url.endswith("/sendMessage") and params.get("chat_id") == STAFF_CHAT and mentioned:
            self.posted_at.append(self.wall())
            if len(self.posted_at) <= self.times:
                raise TimedOut("Timed out (injected) after Telegram took the card")
        return answer


async def test_a_card_post_that_times_out_is_retried_with_backoff_and_holds_no_other_card(
    office: Office, clock: Clock
) -> None:
    # Cards name no one: Alice's is told by its reference, the first the bot makes.
    numbers = itertools.count(1000)
    alices = make_reference("SOT", 1000)
    request = TakenButTimedOut(alices, times=5, wall=clock)
    async with Harness.running(
        office, clock, request, random_number=numbers.__next__, delivery_backoff=1.0
    ) as harness:
        now = [0.0]
        delivery = services_of(harness.app).outbox
        delivery.group_limit = RateLimit(4, 60.0, lambda: now[0])
        alice, bob = new_user("Alice", "Timeout"), new_user("Bob", "Other")
        await harness.run(alice, intake_to_review("Alice Timeout"))
        await harness.run(bob, intake_to_review("Bob Other"))
        await press_send(harness, alice)
        await until(lambda: request.posted_at)
        for _ in range(5):
            await delivery.deliver_due()
        assert len(request.posted_at) == 1  # not again at once
        second = await press_send(harness, bob)
        await until(lambda: posts(request, STAFF_CHAT, f"<code>{second}</code>"))
        assert len(request.posted_at) == 1  # Bob's card did not wait for Alice's

        # Every attempt counts against the group's limit, Telegram having taken them all:
        # Alice's card, Bob's, then Alice's twice more, and the group has had its four.
        for _ in range(40):
            clock.advance(seconds=1)
            await delivery.deliver_due()
        assert len(request.posted_at) == 3
        now[0] = 60.0
        for _ in range(60):
            clock.advance(seconds=1)
            await delivery.deliver_due()
        assert await pending(harness) == 0
    # Posted six times, Telegram having taken each post that timed out, but never in a row.
    assert len(request.posted_at) == 6
    gaps = [b - a for a, b in itertools.pairwise(request.posted_at)]
    assert all(gap.total_seconds() >= 0.8 for gap in gaps)
    assert gaps[3] > gaps[0]
    assert len(posts(request, STAFF_CHAT, f"<code>{second}</code>")) == 1
