"""The outbox worker with no channel at all: a real store, a fake transport, a hand-moved clock."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.case import Case, Consent, Urgency
from bot.core.catalogue import Catalogue, Msg
from bot.core.outbox import Cleanup, OwedMessage
from bot.core.references import make_reference
from bot.service import outbox
from bot.service.outbox import (
    GIVE_UP_AFTER,
    UNEXPECTED_ATTEMPTS,
    CardPlace,
    OutboxWorker,
    Refused,
    RetryLater,
    Shown,
    Summary,
    Unreachable,
)
from bot.service.types import LaneRead
from bot.storage.sqlite.database import SqliteStore
from bot.storage.sqlite.outbox import OutboxRows

STAFF_CHAT = -100777
SAM, PRIYA = 9001, 9002
ADA, BO = 5001, 5002
START = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
BACKOFF = 1.0
TEXTS = Catalogue(
    {
        "hello": "Hello {name}",
        "delivery.failed_card": "card {reference}: {error}",
        "delivery.failed_message": "message {reference}: {error}",
        "delivery.failed_staff_message": "note {reference}: {error}",
    }
)


class Clock:
    """Wall and monotonic time in one, moved by hand."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        """Return the same time as seconds, for the rate limit and rests."""
        return self.now.timestamp()

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += timedelta(seconds=seconds)

    def to(self, at: datetime) -> None:
        """Move time forward to ``at``."""
        assert at >= self.now
        self.now = at


@dataclass(frozen=True, slots=True)
class Call:
    """One call the worker made: to which chat, what (a text, or a card's reference), when."""

    chat_id: int
    what: str
    at: datetime
    ok: bool


class FakeTransport:
    """Render with a small catalogue, record every call, and fail the calls a test chooses."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.calls: list[Call] = []
        # A chat id (messages) or a case reference (cards) -> what the next calls raise.
        self.faults: dict[int | str, list[Exception]] = {}
        self.always: dict[int | str, Exception] = {}
        self.held: dict[str, asyncio.Event] = {}
        self.unchanged: set[str] = set()
        self.notices: list[int] = []  # chats sent a notice about a failed delivery
        self.cards: list[Case] = []  # each case as its card showed it
        self._ids = 100

    def fail(self, target: int | str, *errors: Exception) -> None:
        """Raise ``errors`` from the next calls for ``target``, one each."""
        self.faults.setdefault(target, []).extend(errors)

    def _fault(self, target: int | str) -> Exception | None:
        queued = self.faults.get(target)
        if queued:
            return queued.pop(0)
        return self.always.get(target)

    def _record(self, chat_id: int, what: str, fault: Exception | None) -> None:
        self.calls.append(Call(chat_id, what, self.clock(), fault is None))
        if fault is not None:
            raise fault

    async def show_card(self, chat_id: int, case: Case, place: CardPlace) -> Shown:
        """Post a card, after any hold on it, unless told to fail."""
        if case.reference in self.unchanged and place.message_id is not None:
            return Shown(place.message_id, sent=False)
        if case.reference in self.held:
            await self.held[case.reference].wait()
        self._record(chat_id, case.reference, self._fault(case.reference))
        self.cards.append(case)
        self._ids += 1
        return Shown(self._ids, sent=True)

    async def open_topic(self, chat_id: int, case: Case | None) -> int:
        """Open a topic (this channel has none to open)."""
        raise AssertionError("the worker opened a topic in a group without topics")

    async def clean(self, chat_id: int, cleanup: Cleanup) -> int:
        """Delete what a cleanup names (nothing to do here)."""
        return 1

    async def show_summary(self, chat_id: int, summary: Summary) -> Shown:
        """Show the summary (this channel has none)."""
        raise AssertionError("the worker showed a summary in a group without topics")

    async def send(self, chat_id: int, owed: OwedMessage, topic_id: int | None = None) -> int:
        """Render and send a message, unless told to fail (rendering can fail by itself)."""
        try:
            text = TEXTS.render(owed.text, str)
        except KeyError:
            self.calls.append(Call(chat_id, owed.text.key, self.clock(), ok=False))
            raise
        self._record(chat_id, text, self._fault(chat_id))
        if owed.notice:
            self.notices.append(chat_id)
        self._ids += 1
        return self._ids

    def sent(self, chat_id: int | None = None) -> list[str]:
        """Return what was delivered (to ``chat_id``), in order."""
        return [c.what for c in self.calls if c.ok and chat_id in (None, c.chat_id)]

    def tries(self, target: int | str) -> list[Call]:
        """Return every call for a chat (int) or a card's reference (str)."""
        return [c for c in self.calls if target in (c.chat_id, c.what)]


@dataclass(frozen=True, slots=True)
class Row:
    """One outbox row as stored."""

    id: int
    kind: str
    chat_id: int
    case_id: int | None
    state: str
    attempts: int
    due_at: datetime
    last_error: str | None
    payload: dict[str, object]

    @property
    def key(self) -> object:
        """Return the catalogue key a message owes."""
        msg = self.payload.get("msg")
        return msg.get("key") if isinstance(msg, dict) else None


@pytest.fixture
def clock() -> Clock:
    """Return a clock the test moves by hand."""
    return Clock()


@pytest.fixture
def path(tmp_path: Path) -> Path:
    """Return where the test's database lives."""
    return tmp_path / "casework.sqlite3"


@pytest.fixture
async def store(path: Path) -> AsyncIterator[SqliteStore]:
    """Return a real SQLite store, closed after the test."""
    opened = await SqliteStore.open(path)
    yield opened
    await opened.close()


@pytest.fixture
def transport(clock: Clock) -> FakeTransport:
    """Return the fake channel."""
    return FakeTransport(clock)


def make_worker(
    store: SqliteStore,
    clock: Clock,
    transport: FakeTransport,
    *,
    backoff: float = BACKOFF,
    max_backoff: float = 8.0,
    group_limit: tuple[int, float] = (20, 60.0),
) -> OutboxWorker:
    """Return a worker over ``store`` that delivers through ``transport``, timed by ``clock``."""
    worker = OutboxWorker(
        store,
        staff_chat_id=STAFF_CHAT,
        staff_ids=(SAM, PRIYA),
        clock=clock,
        monotonic=clock.monotonic,
        backoff=backoff,
        max_backoff=max_backoff,
        group_limit=group_limit,
    )
    worker.transport = transport
    return worker


@pytest.fixture
def worker(store: SqliteStore, clock: Clock, transport: FakeTransport) -> OutboxWorker:
    """Return a worker with small backoff values."""
    return make_worker(store, clock, transport)


def make_case(number: int, chat_id: int, at: datetime) -> Case:
    """Return a sent case from ``chat_id``."""
    return Case(
        reference=make_reference("SOT", 1000 + number),
        user_id=chat_id,
        chat_id=chat_id,
        created_at=at,
        updated_at=at,
        flow_id="intake",
        flow_version=1,
        category="housing",
        constituency_code="E14001520",
        constituency_name="Stoke-on-Trent Central",
        answers={"full_name": f"Person {number}"},
        consent=Consent(version="2026-11-v1", answer="yes", recorded_at=at),
        urgency=Urgency(urgent=False),
    )


async def new_case(store: SqliteStore, clock: Clock, number: int, chat_id: int) -> tuple[int, str]:
    """Store a case (owing nothing); return its id and reference."""
    case = make_case(number, chat_id, clock())
    async with store.transaction() as tx:
        return await tx.create_case(case), case.reference


async def owe(
    store: SqliteStore, clock: Clock, chat_id: int, msg: Msg, case_id: int | None = None
) -> None:
    """Owe a message in a transaction of its own."""
    async with store.transaction() as tx:
        await tx.owe(chat_id, msg, clock(), case_id)


async def owe_card(store: SqliteStore, clock: Clock, case_id: int) -> None:
    """Owe the staff group a case's card."""
    async with store.transaction() as tx:
        await tx.owe_card(case_id, STAFF_CHAT, clock())


def rows(path: Path) -> list[Row]:
    """Return every outbox row, oldest first."""
    sql = (
        "SELECT id, kind, chat_id, case_id, state, attempts, due_at, last_error, payload"
        " FROM outbox ORDER BY id"
    )
    with sqlite3.connect(path) as db:
        found = db.execute(sql).fetchall()
    return [
        Row(
            r[0], r[1], r[2], r[3], r[4], r[5], datetime.fromisoformat(r[6]), r[7], json.loads(r[8])
        )
        for r in found
    ]


def row_for(path: Path, chat_id: int, key: str | None = None) -> Row:
    """Return the one outbox row for a chat (and catalogue key)."""
    [row] = [r for r in rows(path) if r.chat_id == chat_id and key in (None, r.key)]
    return row


def row_by_id(path: Path, entry_id: int) -> Row:
    """Return one outbox row by its id (a finished row's text is no longer kept)."""
    [row] = [r for r in rows(path) if r.id == entry_id]
    return row


def hello(name: str | None = None) -> Msg:
    """Return the greeting, with the value it needs or (a fault in the bot) a misspelt one."""
    return Msg("hello", {"nmae": "Ada"} if name is None else {"name": name})


async def passes(worker: OutboxWorker, count: int = 5) -> None:
    """Run delivery passes without moving the clock, as a hot loop would."""
    for _ in range(count):
        await worker.deliver_due()


# --- a fault in the bot ----------------------------------------------------------------------


async def test_a_fault_in_the_bot_is_retried_with_backoff_then_failed_and_staff_are_told(
    store: SqliteStore,
    clock: Clock,
    worker: OutboxWorker,
    transport: FakeTransport,
    path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=outbox.__name__)
    case_id, reference = await new_case(store, clock, 1, ADA)
    await owe(store, clock, ADA, hello(), case_id)  # a misspelt value for {name}: a KeyError
    await owe(store, clock, ADA, hello("Ada"), case_id)
    await owe(store, clock, BO, hello("Bo"))

    dues = []
    for attempt in range(1, UNEXPECTED_ATTEMPTS):
        await passes(worker)
        [bad, _] = [r for r in rows(path) if r.chat_id == ADA]
        assert (bad.state, bad.attempts, bad.last_error) == (
            "pending",
            attempt,
            "unexpected KeyError",
        )
        assert bad.due_at > clock()
        dues.append(bad.due_at - clock())
        assert transport.sent(ADA) == []  # the later message waits its turn
        # The other chat is not held up by it.
        assert transport.sent(BO) == ["Hello Bo"]
        clock.to(bad.due_at)
    assert dues == sorted(dues)
    assert dues[0] >= timedelta(seconds=BACKOFF * 0.8)
    assert dues[-1] > dues[0]

    await passes(worker)
    [bad, good] = [r for r in rows(path) if r.chat_id == ADA]
    assert (bad.state, bad.attempts) == ("failed", UNEXPECTED_ATTEMPTS)
    assert bad.last_error == "unexpected KeyError"
    assert transport.sent(ADA) == ["Hello Ada"]
    assert good.state == "sent"
    # The staff group is told about the constituent's missing message.
    assert transport.sent(STAFF_CHAT) == [f"message {reference}: unexpected KeyError"]
    assert transport.notices == [STAFF_CHAT]
    assert row_for(path, STAFF_CHAT).payload == {}  # delivered: its text is not kept
    async with store.transaction() as tx:
        audit = await tx.list_audit(reference)
        assert await tx.count_pending() == 0
    [failed] = [a for a in audit if a.action == "delivery_failed"]
    assert (failed.actor, failed.detail) == (None, "message: unexpected KeyError")

    # One log line per failed attempt, the traceback only with the first.
    lines = [
        r for r in caplog.records if r.name == outbox.__name__ and r.levelno >= logging.WARNING
    ]
    assert len(lines) == UNEXPECTED_ATTEMPTS
    assert [r.exc_info is not None for r in lines] == [True] + [False] * (UNEXPECTED_ATTEMPTS - 1)
    assert "needs a value for {name}" in lines[-1].getMessage()
    assert lines[-1].levelno == logging.ERROR


async def test_a_card_that_cannot_be_shown_fails_after_its_attempts_and_staff_are_told(
    store: SqliteStore, clock: Clock, worker: OutboxWorker, transport: FakeTransport, path: Path
) -> None:
    case_id, reference = await new_case(store, clock, 1, ADA)
    await owe_card(store, clock, case_id)
    transport.always[reference] = KeyError("card.body")
    for _ in range(UNEXPECTED_ATTEMPTS):
        await passes(worker)
        clock.advance(60)
    [card, *notices] = rows(path)
    assert (card.kind, card.state, card.attempts) == ("card", "failed", UNEXPECTED_ATTEMPTS)
    assert len(transport.tries(reference)) == UNEXPECTED_ATTEMPTS
    # A card the group did not get is reported to each caseworker privately.
    assert {n.chat_id for n in notices} == {SAM, PRIYA}
    for member in (SAM, PRIYA):
        assert transport.sent(member) == [f"card {reference}: unexpected KeyError"]


async def test_the_background_worker_does_not_spin_on_a_fault(
    store: SqliteStore, clock: Clock, worker: OutboxWorker, transport: FakeTransport, path: Path
) -> None:
    await owe(store, clock, ADA, hello())
    worker.start(transport)
    try:
        for _ in range(500):  # real time, as the worker runs by itself
            if row_for(path, ADA).attempts:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)  # a hot loop would try hundreds of times meanwhile
        assert row_for(path, ADA).attempts == 1
        assert len(transport.tries(ADA)) == 1
    finally:
        await worker.stop()


async def test_a_failure_to_record_an_outcome_rests_the_lane(
    store: SqliteStore,
    clock: Clock,
    worker: OutboxWorker,
    transport: FakeTransport,
    path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def locked(*args: object) -> None:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(OutboxRows, "mark_retry", locked)
    await owe(store, clock, ADA, hello())
    await owe(store, clock, BO, hello("Bo"))
    await passes(worker)
    assert len(transport.tries(ADA)) == 1  # resting, not retried at once
    assert transport.sent(BO) == ["Hello Bo"]
    clock.advance(BACKOFF * 2)
    await passes(worker)
    assert len(transport.tries(ADA)) == 2
    monkeypatch.undo()
    clock.advance(BACKOFF * 8)
    await passes(worker)
    assert len(transport.tries(ADA)) == 3
    assert row_for(path, ADA).attempts == 1  # the first attempt that could be recorded


# --- transient failures and refusals -------------------------------------------------------


@pytest.mark.parametrize(("seconds", "waited"), [(30.0, 30.0), (0.0, BACKOFF)])
async def test_a_request_to_wait_is_honoured(
    store: SqliteStore,
    clock: Clock,
    worker: OutboxWorker,
    transport: FakeTransport,
    path: Path,
    seconds: float,
    waited: float,
) -> None:
    await owe(store, clock, ADA, hello("Ada"))
    transport.fail(ADA, RetryLater(seconds))
    await passes(worker)
    row = row_for(path, ADA)
    assert (row.state, row.attempts) == ("pending", 1)
    assert row.due_at == clock() + timedelta(seconds=waited)
    clock.advance(waited - 0.5)
    await passes(worker)
    assert len(transport.tries(ADA)) == 1
    clock.advance(0.5)
    await passes(worker)
    assert transport.sent(ADA) == ["Hello Ada"]


async def test_an_unreachable_channel_is_retried_with_capped_backoff_until_it_is_given_up(
    store: SqliteStore, clock: Clock, transport: FakeTransport, path: Path
) -> None:
    # Minutes and an hour, so a day of retries takes a few dozen passes of the hand-moved clock.
    worker = make_worker(store, clock, transport, backoff=60.0, max_backoff=3600.0)
    owed_at = clock()
    case_id, reference = await new_case(store, clock, 1, ADA)
    await owe(store, clock, ADA, hello("Ada"), case_id)
    transport.always[ADA] = Unreachable("TimedOut")
    delays = []
    entry = row_for(path, ADA, "hello").id
    while (row := row_by_id(path, entry)).state == "pending":
        await passes(worker, 2)
        after = row_by_id(path, entry)
        assert after.attempts == row.attempts + 1
        if after.state == "pending":
            delays.append((after.due_at - clock()).total_seconds())
            clock.to(after.due_at)
    assert len(transport.tries(ADA)) == after.attempts
    assert 48 <= delays[0] <= 60
    assert all(b > a for a, b in itertools.pairwise(delays[:6]))
    assert max(delays) <= 3600
    assert clock() - owed_at >= GIVE_UP_AFTER
    assert clock() - owed_at < GIVE_UP_AFTER + timedelta(hours=1)
    assert after.last_error == "TimedOut"
    assert row_for(path, STAFF_CHAT).kind == "message"  # the notice; its text is checked below
    await passes(worker)
    assert transport.sent(STAFF_CHAT) == [f"message {reference}: TimedOut"]


async def test_backoff_stays_capped_however_many_attempts_went_before(
    store: SqliteStore, clock: Clock, worker: OutboxWorker, transport: FakeTransport, path: Path
) -> None:
    await owe(store, clock, ADA, hello("Ada"))
    with sqlite3.connect(path) as db:  # a day of one-second waits, say
        db.execute("UPDATE outbox SET attempts = 86400")
    transport.always[ADA] = Unreachable("TimedOut")
    await passes(worker)
    row = row_for(path, ADA)
    assert (row.state, row.attempts) == ("pending", 86401)
    assert clock() < row.due_at <= clock() + timedelta(seconds=8.0)
    assert len(transport.tries(ADA)) == 1


async def test_a_refusal_fails_at_once(
    store: SqliteStore, clock: Clock, worker: OutboxWorker, transport: FakeTransport, path: Path
) -> None:
    case_id, reference = await new_case(store, clock, 1, ADA)
    await owe(store, clock, ADA, hello("Ada"), case_id)
    transport.fail(ADA, Refused("Forbidden: bot was blocked by the user"))
    await passes(worker)
    row = row_for(path, ADA)
    assert (row.state, row.attempts) == ("failed", 1)
    assert transport.sent(STAFF_CHAT) == [
        f"message {reference}: Forbidden: bot was blocked by the user"
    ]


async def test_a_notice_that_fails_is_only_logged(
    store: SqliteStore, clock: Clock, worker: OutboxWorker, transport: FakeTransport, path: Path
) -> None:
    case_id, reference = await new_case(store, clock, 1, ADA)
    await owe_card(store, clock, case_id)
    transport.fail(reference, Refused("Forbidden: bot was kicked"))
    transport.always[SAM] = Refused("Forbidden: bot can't initiate conversation")
    await passes(worker)
    assert [(r.kind, r.chat_id, r.state) for r in rows(path)] == [
        ("card", STAFF_CHAT, "failed"),
        ("message", SAM, "failed"),
        ("message", PRIYA, "sent"),
    ]
    assert len(transport.tries(SAM)) == 1
    async with store.transaction() as tx:
        audit = await tx.list_audit(reference)
    assert [a.detail for a in audit if a.action == "delivery_failed"] == [
        "card: Forbidden: bot was kicked",
        "message: Forbidden: bot can't initiate conversation",
    ]


# --- lanes ------------------------------------------------------------------------------------


async def test_a_case_whose_card_keeps_failing_does_not_hold_up_another_cases_card(
    store: SqliteStore, clock: Clock, worker: OutboxWorker, transport: FakeTransport, path: Path
) -> None:
    a, ref_a = await new_case(store, clock, 1, ADA)
    b, ref_b = await new_case(store, clock, 2, BO)
    await owe_card(store, clock, a)
    transport.always[ref_a] = Unreachable("TimedOut")
    await passes(worker)
    await owe_card(store, clock, b)
    await passes(worker)
    assert transport.sent(STAFF_CHAT) == [ref_b]
    assert len(transport.tries(ref_a)) == 1
    clock.advance(60)
    await passes(worker)
    assert len(transport.tries(ref_a)) == 2
    assert [r.state for r in rows(path)] == ["pending", "sent"]


async def test_a_case_whose_card_hangs_does_not_hold_up_another_cases_card(
    store: SqliteStore, clock: Clock, worker: OutboxWorker, transport: FakeTransport
) -> None:
    a, ref_a = await new_case(store, clock, 1, ADA)
    b, ref_b = await new_case(store, clock, 2, BO)
    transport.held[ref_a] = asyncio.Event()
    await owe_card(store, clock, a)
    await worker.deliver_due(wait=False)  # A's card is now in flight, and stays there
    await owe_card(store, clock, b)
    await worker.deliver_due()
    assert transport.sent(STAFF_CHAT) == [ref_b]
    assert transport.tries(ref_a) == []
    transport.held[ref_a].set()
    await worker.drain(seconds=2)
    assert transport.sent(STAFF_CHAT) == [ref_b, ref_a]


async def test_a_case_changed_while_its_card_is_in_flight_has_its_card_shown_again(
    store: SqliteStore, clock: Clock, worker: OutboxWorker, transport: FakeTransport, path: Path
) -> None:
    a, ref_a = await new_case(store, clock, 1, ADA)
    transport.held[ref_a] = asyncio.Event()
    await owe_card(store, clock, a)
    await worker.deliver_due(wait=False)  # the card is in flight with the case as listed
    async with store.transaction() as tx:
        stored = await tx.get_case_by_id(a)
        assert stored is not None
        await tx.save_case(a, stored.case.model_copy(update={"category": "benefits"}))
        await tx.owe_card(a, STAFF_CHAT, clock())  # folded into the entry in flight
    transport.held[ref_a].set()
    await worker.drain(seconds=2)
    assert [case.category for case in transport.cards] == ["housing", "benefits"]
    assert [r.state for r in rows(path)] == ["sent"]


async def test_a_private_chat_keeps_its_order_through_failures(
    store: SqliteStore, clock: Clock, worker: OutboxWorker, transport: FakeTransport
) -> None:
    for name in ("one", "two", "three"):
        await owe(store, clock, ADA, hello(name))
    transport.fail(ADA, Unreachable("TimedOut"), RetryLater(5), Unreachable("BadGateway"))
    for _ in range(20):
        await passes(worker, 2)
        clock.advance(5)
    assert transport.sent(ADA) == ["Hello one", "Hello two", "Hello three"]
    assert [c.what for c in transport.tries(ADA)] == ["Hello one"] * 4 + [
        "Hello two",
        "Hello three",
    ]


async def test_a_backlog_of_cards_does_not_crowd_out_a_private_message(
    store: SqliteStore, clock: Clock, worker: OutboxWorker, transport: FakeTransport
) -> None:
    async with store.transaction() as tx:
        for number in range(80):  # more than one listing of due entries holds
            case_id = await tx.create_case(make_case(number, 6000 + number, clock()))
            await tx.owe_card(case_id, STAFF_CHAT, clock())
    await passes(worker, 5)
    assert len(transport.sent(STAFF_CHAT)) == 20  # the group's limit
    await owe(store, clock, ADA, hello("Ada"))
    await passes(worker, 1)
    assert transport.sent(ADA) == ["Hello Ada"]


# --- the staff group's rate limit --------------------------------------------------------------


async def test_every_attempt_to_the_group_counts_against_its_limit(
    store: SqliteStore, clock: Clock, transport: FakeTransport
) -> None:
    worker = make_worker(store, clock, transport, group_limit=(2, 60.0))
    cases = [await new_case(store, clock, n, 6000 + n) for n in range(3)]
    [ref_a, ref_b, ref_c] = [reference for _, reference in cases]
    transport.fail(ref_a, Unreachable("TimedOut"))  # Telegram may have taken it all the same
    for case_id, _ in cases:
        await owe_card(store, clock, case_id)
    await passes(worker)
    assert [call.what for call in transport.calls] == [ref_a, ref_b]
    assert 0 < await worker.deliver_due() <= 60
    clock.advance(60)
    await passes(worker)
    assert sorted(transport.sent(STAFF_CHAT)) == sorted([ref_a, ref_b, ref_c])


async def test_a_card_edit_that_calls_no_one_does_not_count_against_the_limit(
    store: SqliteStore, clock: Clock, transport: FakeTransport
) -> None:
    worker = make_worker(store, clock, transport, group_limit=(2, 60.0))
    (a, ref_a), (b, ref_b) = [await new_case(store, clock, n, 6000 + n) for n in range(2)]
    await owe_card(store, clock, a)
    await passes(worker)
    transport.unchanged.add(ref_a)
    await owe_card(store, clock, a)  # the card would say the same: no call
    await passes(worker)
    await owe_card(store, clock, b)
    await passes(worker)
    assert transport.sent(STAFF_CHAT) == [ref_a, ref_b]


# --- a handler's own delivery, with the lane read at its commit ------------------------------


async def owe_and_read(
    store: SqliteStore, worker: OutboxWorker, clock: Clock, chat_id: int, *keys: str
) -> LaneRead:
    """Owe messages as an answer does, reading the lane with the commit."""
    turn = worker.turn()
    async with store.transaction() as tx:
        for key in keys:
            await tx.owe(chat_id, Msg(key, {"name": "Ada"}), clock())
        lane = tx.lane_with_commit(chat_id, outbox.LANE_READ)
    read = lane()
    assert read is not None
    return LaneRead(read, turn)


async def test_a_lane_read_with_the_commit_is_delivered_without_reading_again(
    store: SqliteStore,
    worker: OutboxWorker,
    clock: Clock,
    transport: FakeTransport,
    path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    read = await owe_and_read(store, worker, clock, ADA, "hello", "hello")
    reads = 0
    autocommit = store.autocommit

    def counted() -> object:
        nonlocal reads
        reads += 1
        return autocommit()

    monkeypatch.setattr(store, "autocommit", counted)
    await worker.deliver_lane(ADA, read)
    assert transport.sent(ADA) == ["Hello Ada", "Hello Ada"]
    assert reads == 0
    await worker.drain(seconds=5)
    assert {row.state for row in rows(path)} == {"sent"}


async def test_a_lane_the_worker_delivered_meanwhile_is_read_again_not_sent_twice(
    store: SqliteStore, worker: OutboxWorker, clock: Clock, transport: FakeTransport
) -> None:
    read = await owe_and_read(store, worker, clock, ADA, "hello")
    await worker.deliver_due()  # the worker got there first
    assert transport.sent(ADA) == ["Hello Ada"]
    await worker.deliver_lane(ADA, read)
    assert transport.sent(ADA) == ["Hello Ada"]


async def test_a_lane_read_before_an_older_message_failed_keeps_the_order(
    store: SqliteStore, worker: OutboxWorker, clock: Clock, transport: FakeTransport
) -> None:
    await owe(store, clock, ADA, Msg("hello", {"name": "first"}))
    transport.fail(ADA, Unreachable("timed out"))
    await worker.deliver_due()  # the first message waits for its retry
    read = await owe_and_read(store, worker, clock, ADA, "hello")
    await worker.deliver_lane(ADA, read)
    assert transport.sent(ADA) == []  # not before the one owed earlier
    clock.advance(BACKOFF * 2)
    await worker.drain(seconds=5)
    assert transport.sent(ADA) == ["Hello first", "Hello Ada"]


async def test_the_worker_does_not_send_again_what_a_handler_delivered(
    store: SqliteStore, worker: OutboxWorker, clock: Clock, transport: FakeTransport, path: Path
) -> None:
    read = await owe_and_read(store, worker, clock, ADA, "hello")
    await worker.deliver_lane(ADA, read)
    assert transport.sent(ADA) == ["Hello Ada"]
    await worker.deliver_due()  # straight after: the entry is marked sent
    await worker.drain(seconds=5)
    assert transport.sent(ADA) == ["Hello Ada"]
    assert row_for(path, ADA).state == "sent"


# --- a lane left to the handler answering in it ------------------------------------------


async def test_the_worker_leaves_a_lane_to_the_handler_answering_in_it(
    store: SqliteStore, worker: OutboxWorker, clock: Clock, transport: FakeTransport
) -> None:
    worker.expect(ADA)
    read = await owe_and_read(store, worker, clock, ADA, "hello")
    await owe_and_read(store, worker, clock, BO, "hello")
    await worker.deliver_due()
    assert transport.sent(ADA) == []  # left to its handler
    assert transport.sent(BO) == ["Hello Ada"]  # no one said they would deliver it
    await worker.deliver_lane(ADA, read)
    worker.done_with(ADA)
    assert transport.sent(ADA) == ["Hello Ada"]


async def test_a_lane_a_handler_never_delivered_is_the_workers_again(
    store: SqliteStore, worker: OutboxWorker, clock: Clock, transport: FakeTransport
) -> None:
    worker.expect(ADA)
    await owe_and_read(store, worker, clock, ADA, "hello")
    assert 0 < await worker.deliver_due() <= outbox.RECHECK  # it looks again soon
    assert transport.sent(ADA) == []
    worker.done_with(ADA)  # the handler ended without delivering
    await worker.deliver_due()
    assert transport.sent(ADA) == ["Hello Ada"]
    worker.expect(ADA)
    await owe_and_read(store, worker, clock, ADA, "hello")
    clock.advance(seconds=outbox.EXPECT_FOR)  # nor said it was done
    await worker.deliver_due()
    assert transport.sent(ADA) == ["Hello Ada", "Hello Ada"]
