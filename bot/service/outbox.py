"""The outbox worker: deliver what is owed, in order per lane, through any channel's transport.

Everything owed (a confirmation, a staff card, a reply) is written to the outbox in the
transaction that owes it; this worker sends it after the commit, through a ``Transport`` that a
channel supplies. A lane is a private chat, or one case in a group chat: a lane's messages keep
their order, lanes are served side by side, and one lane's slow or failing message never holds
up another's. Every failure is retried with backoff and counted; one that cannot succeed ends
``failed``, and staff are told.

The staff group takes about 20 messages a minute, all of its topics together. Its lanes go by
priority (urgent notices and new cases' cards first), a burst of relayed messages waiting for
one case goes as one message, and every call the group is sent counts against the limit. When
the group is a forum, each case has its own topic there, opened with the case's first card and
opened again, with a fresh card, if staff delete it by hand.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import Enum
from typing import Protocol

from bot.core.case import Case, QueueFilter
from bot.core.catalogue import Msg
from bot.core.outbox import DELETE_BATCH, Cleanup, OwedMessage, Priority, joinable_run
from bot.service.types import LaneRead
from bot.storage.records import OutboxEntry, QueueRow, StoredCase, SummaryPlace
from bot.storage.store import Store, Tx

log = logging.getLogger(__name__)

IDLE = 60.0
# While a lane waits on the rate limit or a send is in flight, look again this often: the store
# cannot say when the next *other* lane falls due, and a retry there must not wait behind them.
POLL = 1.0
# A lane whose delivery ended while the due entries were read is looked at again this soon.
RECHECK = 0.05
# The longest a private chat's lane is left to a handler that said it will deliver it.
EXPECT_FOR = 2.0
LANES_AT_ONCE = 8
# The backoff doubles up to ``max_backoff``; past this many doublings it cannot grow any more
# (and 2.0 ** attempts would overflow after a day of one-second waits).
MAX_DOUBLINGS = 32
# An error the transport did not expect (a fault in the bot, such as a text it cannot fill)
# is tried this many times, with backoff, before the entry fails.
UNEXPECTED_ATTEMPTS = 3
# A channel that stays unreachable this long after a message was owed: the message fails.
GIVE_UP_AFTER = timedelta(hours=24)
# A topic found deleted this many times for one entry: something else is wrong, so it fails.
TOPIC_ATTEMPTS = 5
# Cases the summary of open cases lists (the rest are counted).
SUMMARY_ROWS = 30
# A handler delivering its chat's replies reads this many of what the chat is owed at once.
LANE_READ = 8
# Lanes whose latest delivery's turn is remembered (see ``turn``).
LANES_REMEMBERED = 10_000


class LookUp(Enum):
    """A message's language is not known yet: look it up as it is sent."""

    LOOK_UP = "look up"


LOOK_UP = LookUp.LOOK_UP


class RetryLater(Exception):  # noqa: N818 -- the name says what the worker does
    """The channel asks for a pause (Telegram's 429 and its ``retry_after``)."""

    def __init__(self, seconds: float) -> None:
        """Wait ``seconds`` before trying again."""
        super().__init__(f"retry after {seconds:.0f}s")
        self.seconds = seconds


class Unreachable(Exception):  # noqa: N818
    """The channel could not be reached, or timed out: the message may or may not have gone."""


class Refused(Exception):  # noqa: N818
    """The channel refuses this message for good (a blocked bot, a chat that is gone)."""


class TopicGone(Exception):  # noqa: N818
    """The forum topic this was for no longer exists (staff deleted it by hand)."""


@dataclass(frozen=True, slots=True)
class Shown:
    """A card shown: its message id, whether the channel was called, and how many times."""

    message_id: int
    sent: bool
    calls: int = 1

    @property
    def used(self) -> int:
        """Return how many calls counted against the chat's rate limit."""
        return self.calls if self.sent else 0


@dataclass(frozen=True, slots=True)
class CardPlace:
    """Where a case's card is: its message, and in a forum its topic (and its linked case's)."""

    message_id: int | None
    topic_id: int | None = None
    linked_topic_id: int | None = None


@dataclass(frozen=True, slots=True)
class Summary:
    """The summary of open cases: the first rows, how many there are, and where it is shown."""

    rows: list[QueueRow]
    total: int
    place: SummaryPlace


class Transport(Protocol):
    """How one channel delivers what the outbox owes."""

    async def show_card(self, chat_id: int, case: Case, place: CardPlace) -> Shown:
        """Post a case's card (or bring the posted one up to date, with its topic's title)."""

    async def send(self, chat_id: int, owed: OwedMessage, topic_id: int | None = None) -> int:
        """Send one owed message (into a forum topic); return the channel's id for it."""

    async def open_topic(self, chat_id: int, case: Case | None) -> int:
        """Open a forum topic for a case (None: for the summary); return its id."""

    async def clean(self, chat_id: int, cleanup: Cleanup) -> int:
        """Delete an erased case's topic or messages; return how many calls it took."""

    async def show_summary(self, chat_id: int, summary: Summary) -> Shown:
        """Post the summary of open cases, or bring the posted one up to date."""


class RateLimit:
    """At most ``count`` messages per ``period`` seconds to one chat (groups: 20 a minute)."""

    def __init__(self, count: int, period: float, clock: Callable[[], float]) -> None:
        """Allow ``count`` sends per ``period`` seconds, timed by ``clock``."""
        self.count, self.period, self.clock = count, period, clock
        self._sent: dict[int, deque[float]] = {}

    def wait(self, chat_id: int, need: int = 1, headroom: int = 0) -> float:
        """Return how many seconds until ``chat_id`` may take ``need`` more messages (0 = now).

        ``headroom`` slots are kept free for more pressing messages.
        """
        sent = self._sent.get(chat_id)
        if sent is None:
            return 0.0
        now = self.clock()
        while sent and sent[0] <= now - self.period:
            sent.popleft()
        allowed = max(1, self.count - headroom)
        over = len(sent) + min(need, allowed) - allowed
        return 0.0 if over <= 0 else sent[over - 1] + self.period - now

    def headroom(self, priority: Priority) -> int:
        """Return the slots a lane of ``priority`` leaves free for more pressing ones."""
        if priority <= Priority.NEW_CASE:
            return 0
        return self.count // 5 if priority is Priority.NORMAL else self.count // 2

    def note(self, chat_id: int) -> float:
        """Record a message sent (or about to be sent) to ``chat_id``; return when."""
        at = self.clock()
        self._sent.setdefault(chat_id, deque()).append(at)
        return at

    def forget(self, chat_id: int, at: float) -> None:
        """Forget the message noted at ``at`` for ``chat_id`` (the channel was not called)."""
        with contextlib.suppress(KeyError, ValueError):
            self._sent[chat_id].remove(at)


Lane = tuple[int, int | None, bool]


def lane_of(entry: OutboxEntry) -> Lane:
    """Return the lane an entry keeps its order in: its chat, and in a group its case.

    A group's summary of open cases has a lane of its own: it never holds up anything else.
    """
    if entry.chat_id > 0:
        return (entry.chat_id, None, False)
    return (entry.chat_id, entry.case_id, entry.kind == "summary")


class OutboxWorker:
    """Deliver outbox entries after their transaction commits, until the channel takes them."""

    def __init__(
        self,
        store: Store,
        *,
        staff_chat_id: int,
        staff_ids: Iterable[int],
        clock: Callable[[], datetime],
        monotonic: Callable[[], float] = time.monotonic,
        backoff: float = 2.0,
        max_backoff: float = 300.0,
        group_limit: tuple[int, float] = (20, 60.0),
        topics: bool = False,
    ) -> None:
        """Keep what delivering needs; ``backoff`` is the first retry delay in seconds.

        With ``topics``, the staff group is a forum and each case has its own topic there.
        """
        self.store = store
        self.topics = topics
        self.staff_chat_id, self.staff_ids = staff_chat_id, tuple(staff_ids)
        self.clock, self.monotonic = clock, monotonic
        self.backoff, self.max_backoff = backoff, max_backoff
        self.group_limit = RateLimit(*group_limit, monotonic)
        self.transport: Transport | None = None
        self._wake = asyncio.Event()
        # One delivery pass at a time, so an entry is never picked up by two passes at once.
        self._busy = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._in_flight: dict[Lane, asyncio.Future[None]] = {}
        # Deliveries beginning and ending are counted: the lanes of the latest, with the
        # turn each was last touched at (newest last), and the latest turn forgotten.
        self._turn = 0
        self._touched: OrderedDict[Lane, int] = OrderedDict()
        self._forgotten_turn = 0
        # Lanes whose last outcome could not be recorded (the store failing): not before then.
        self._resting: dict[Lane, float] = {}
        # Entries whose outcome could not be recorded, and how often, so their rests grow.
        self._unrecorded: dict[int, int] = {}
        # Entries whose fault has been logged with its traceback: later attempts log one line.
        self._traced: set[int] = set()
        # Private chats whose handler delivers their lane itself, until when (monotonic).
        self._expected: dict[int, float] = {}
        # When the group's rate limit noted each call an entry in flight to a group may make.
        self._noted: dict[int, list[float]] = {}

    def wake(self) -> None:
        """Look at the outbox now (called after a transaction that added to it)."""
        self._wake.set()

    def expect(self, chat_id: int) -> None:
        """Leave a private chat's lane to the handler now answering in it.

        The handler owes its replies with its commit and delivers them itself
        (``deliver_lane``): meanwhile the worker passes the lane by, and looks again
        within RECHECK, rather than send them first and make the handler wait and read
        the lane again. The lane is the worker's again once the handler says it is done
        (``done_with``), or after EXPECT_FOR seconds if it never does.
        """
        self._expected[chat_id] = self.monotonic() + EXPECT_FOR

    def done_with(self, chat_id: int) -> None:
        """Give a private chat's lane back to the worker."""
        self._expected.pop(chat_id, None)

    def _left_to_handler(self, lane: Lane) -> bool:
        """Tell whether the worker leaves ``lane`` to a handler for now."""
        until = self._expected.get(lane[0]) if lane[1] is None else None
        if until is None:
            return False
        if until <= self.monotonic():
            del self._expected[lane[0]]
            return False
        return True

    def spent(self, chat_id: int) -> None:
        """Count a message the channel sent a group directly (an answer) against its limit."""
        if chat_id < 0:
            self.group_limit.note(chat_id)

    def start(self, transport: Transport) -> None:
        """Deliver through ``transport`` in the background until ``stop``."""
        self.transport = transport
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="outbox-delivery")

    async def stop(self) -> None:
        """Stop the background worker; anything undelivered waits in the outbox."""
        self._stopping = True
        # Never cancel a send in flight: the channel may have taken it, and it would go again.
        await self._settle_in_flight()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        while not self._stopping:
            try:
                wait = await self.deliver_due(wait=False)
            except Exception:  # the worker must outlive any one failure
                log.exception("outbox delivery failed; trying again shortly")
                wait = 5.0
            self._wake.clear()
            if wait > 0:
                # asyncio.timeout, not wait_for: wait_for can swallow the stop's cancellation.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):
                        await self._wake.wait()

    async def deliver_due(self, wait: bool = True) -> float:
        """Send every entry due now; return seconds until something else may be due.

        With ``wait`` false (the background worker) the sends are started, not awaited.
        Each listed entry is the oldest owed in its lane, and each lane has at most one send
        in flight, so lanes are served side by side and keep their own order.
        """
        async with self._busy:
            turn = self._turn
            # Reads only (here and below): no transaction to begin and commit around them.
            async with self.store.autocommit() as tx:
                # When the next falls due too, in case none of these can start.
                entries, due = await tx.list_due_and_next(self.clock())
            held, started = math.inf, []
            # Groups whose most pressing lane waits for the rate limit: their later lanes wait too.
            limited: set[int] = set()
            for entry in entries:
                lane = lane_of(entry)
                if self._stopping or len(self._in_flight) >= LANES_AT_ONCE:
                    break
                if lane in self._in_flight or entry.chat_id in limited:
                    continue
                if not self._untouched_since(lane, turn) or (
                    entry.chat_id > 0 and self._left_to_handler(lane)
                ):
                    # A delivery in it ended during the read, which may show what it sent
                    # as still owed, or a handler is delivering it: look again shortly.
                    held = min(held, RECHECK)
                    continue
                need = self._cost(entry) if entry.chat_id < 0 else 0
                rate = 0.0
                if need:
                    room = self.group_limit.headroom(entry.priority)
                    rate = self.group_limit.wait(entry.chat_id, need, room)
                pause = max(rate, self._rest(lane))
                if pause > 0:
                    held = min(held, pause)
                    if rate > 0:
                        limited.add(entry.chat_id)
                    continue
                if need:
                    # Noted before the calls, whatever comes of them: a send that fails or times
                    # out may still have reached the group, and it counts against the limit.
                    chat = entry.chat_id
                    self._noted[entry.id] = [self.group_limit.note(chat) for _ in range(need)]
                task = asyncio.create_task(self._deliver_and_release(entry, lane))
                self._in_flight[lane] = task
                self._touch(lane)
                started.append(task)
            if not started:
                if self._in_flight or held < math.inf:
                    return min(held, POLL)
                return IDLE if due is None else max(0.0, (due - self.clock()).total_seconds())
        if wait:
            await asyncio.gather(*started)
        # A finishing send wakes the worker, which then looks for what is owed next.
        return 0.0

    def _rest(self, lane: Lane) -> float:
        """Return how long a lane must still rest after its outcome could not be recorded."""
        rest = self._resting.get(lane)
        if rest is not None:
            left = rest - self.monotonic()
            if left > 0:
                return left
            del self._resting[lane]
        return 0.0

    def _in_topic(self, entry: OutboxEntry) -> bool:
        """Tell whether an entry belongs in its case's forum topic in the staff group.

        A case whose card was posted before the group became a forum keeps its flat card.
        """
        return (
            self.topics
            and entry.chat_id == self.staff_chat_id
            and entry.case_open is not None
            and (entry.topic_id is not None or entry.card_message_id is None)
        )

    def _cost(self, entry: OutboxEntry) -> int:
        """Return the most calls to a group an entry may take (the unused are given back)."""
        if entry.kind == "cleanup":
            count = len(entry.cleanup.message_ids) if entry.cleanup else 0
            return max(1, -(-count // DELETE_BATCH))
        if entry.kind == "summary":
            return 2 if self.topics else 0  # its topic and message, the first time
        if not self._in_topic(entry):
            return 1
        # Opening the topic and posting the card in it; closing it too, if the case is closed.
        opening = 0 if entry.topic_id is not None else (2 if entry.case_open else 3)
        if entry.kind == "card":
            # An existing topic: its title, the card, and closing or reopening it.
            return opening or 3
        return opening + 1

    async def _deliver_and_release(self, entry: OutboxEntry, lane: Lane) -> None:
        used: int | None = None
        try:
            used = await self._deliver(entry)
            self._unrecorded.pop(entry.id, None)
        except Exception as exc:  # the outcome could not be recorded: the lane rests a while
            times = self._unrecorded[entry.id] = self._unrecorded.get(entry.id, 0) + 1
            delay = self._backoff(entry.attempts + times)
            self._resting[lane] = self.monotonic() + delay
            log.warning(
                "outbox entry %s: could not record the outcome (%s: %s); lane rests %.1fs",
                entry.id,
                type(exc).__name__,
                exc,
                delay,
                exc_info=self._first_trace(entry, exc),
            )
        finally:
            self._give_back(entry, used)
            del self._in_flight[lane]
            self._touch(lane)
            self.wake()

    async def _settle_in_flight(self) -> None:
        while self._in_flight:
            await asyncio.gather(*self._in_flight.values(), return_exceptions=True)

    async def drain(self, seconds: float = 30.0) -> None:
        """Deliver until nothing waits (for tests and orderly shutdown), or for ``seconds``."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            wait = await self.deliver_due()
            if self._in_flight:
                await asyncio.wait(
                    list(self._in_flight.values()), timeout=max(0.0, deadline - time.monotonic())
                )
                continue
            async with self.store.autocommit() as tx:
                if await tx.count_pending() == 0:
                    return
            await asyncio.sleep(min(wait, 0.05) if wait > 0 else 0)
        raise TimeoutError("outbox not empty")

    def turn(self) -> int:
        """Return how often a delivery has begun or ended: a mark to ask about later."""
        return self._turn

    def _touch(self, lane: Lane) -> None:
        """Note that a delivery in ``lane`` begins or ends now.

        An entry sent is recorded as such with the store's next trip: a read that began
        before a delivery ended may still show what it sent as owed.
        """
        self._turn += 1
        self._touched[lane] = self._turn
        self._touched.move_to_end(lane)
        if len(self._touched) > LANES_REMEMBERED:
            _, self._forgotten_turn = self._touched.popitem(last=False)

    def _untouched_since(self, lane: Lane, turn: int) -> bool:
        """Tell whether no delivery in ``lane`` has begun or ended since ``turn``."""
        return self._forgotten_turn <= turn and self._touched.get(lane, 0) <= turn

    async def deliver_lane(self, chat_id: int, read: LaneRead | None = None) -> None:
        """Send what a private chat is owed now, in order, before returning.

        The handler that owed an intake's reply calls this right after the commit, so the
        next question does not wait for the background worker. It reads what the chat is
        owed (and the language its person reads) once, or uses ``read``, the lane as read
        with that commit, if no delivery to the chat has begun since. It takes its turns
        under the worker's lock, marking the lane in flight like the worker, so an entry is
        never sent by both at once; what cannot be sent now stays owed, and the worker
        retries it (with backoff, honouring ``retry_after``) like any other entry. Whatever
        is owed after the read is sent by whoever owed it: the next handler's call, or the
        worker it wakes.
        """
        lane: Lane = (chat_id, None, False)
        tried: set[int] = set()
        while not self._stopping and self.transport is not None:
            async with self._busy:
                task = self._in_flight.get(lane)
                whole = False
                run: list[OutboxEntry] = []
                sent: list[int] = []
                if task is None:
                    if read is not None and self._untouched_since(lane, read.turn):
                        owed = read.lane
                    else:
                        # One read: no transaction to begin and commit around it.
                        async with self.store.autocommit() as tx:
                            owed = await tx.lane_of_chat(chat_id, LANE_READ)
                    read = None
                    run = self._run_due(owed.waiting, tried)
                    if not run:
                        if owed.waiting:
                            self.wake()  # a retry waits: the worker keeps its time
                        return
                    tried.update(entry.id for entry in run)
                    whole = len(run) == len(owed.waiting) < LANE_READ
                    language = None if self._staff_side(chat_id) else owed.language
                    # Delivered here, not in a task of its own: in flight meanwhile is a
                    # future that the worker and other handlers see, and wait for.
                    mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                    self._in_flight[lane] = mine
                    self._touch(lane)
            if task is not None:
                read = None  # the lane moved on meanwhile
                await asyncio.wait([task])
                continue
            try:
                await self._deliver_run(run, language, sent)
            finally:
                del self._in_flight[lane]
                self._touch(lane)
                mine.set_result(None)
            if whole and len(sent) == len(run):
                return  # all it was owed when read is sent

    def _run_due(
        self, waiting: Sequence[tuple[OutboxEntry, datetime]], tried: set[int]
    ) -> list[OutboxEntry]:
        """Return the entries, from the first, that can be sent now, one after another.

        A relayed message may take those behind it with it: the run ends there, and the
        lane is read again after it.
        """
        run: list[OutboxEntry] = []
        now = self.clock()
        for entry, due in waiting:
            if entry.id in tried or due > now:
                break
            run.append(entry)
            if entry.message is not None and entry.message.joinable:
                break
        return run

    async def _deliver_run(
        self, entries: Sequence[OutboxEntry], language: str | None, sent: list[int]
    ) -> None:
        """Try entries in order for ``deliver_lane``, stopping at the first not sent.

        The ids of those sent are added to ``sent``; unlike the worker's sends, success
        wakes no one.
        """
        try:
            for entry in entries:
                if await self._deliver(entry, language) is None:
                    return
                sent.append(entry.id)
        except Exception as exc:  # the outcome was not recorded: the worker tries it again
            log.warning("outbox entry %s: %s; left to the worker", entry.id, type(exc).__name__)

    async def _deliver(
        self, entry: OutboxEntry, language: str | LookUp | None = LOOK_UP
    ) -> int | None:
        """Try an entry once and record the outcome: sent, a retry with backoff, or failed.

        A message goes in ``language`` if the caller read it with the entry, else in the
        one looked up now. Return how many calls it made, or None if an attempt failed
        (each may have counted).
        """
        try:
            if entry.kind == "card":
                used = await self._show_card(entry)
            elif entry.kind == "summary":
                used = await self._show_summary(entry)
            elif entry.kind == "cleanup":
                used = await self._clean(entry)
            else:
                assert entry.message is not None
                used = await self._send(entry, entry.message, language)
        except TopicGone as exc:
            await self._topic_gone(entry, str(exc))
        except RetryLater as exc:
            # Never sooner than the first backoff: a channel asking for no wait must not spin.
            await self._retry_until_too_old(entry, max(exc.seconds, self.backoff), str(exc))
        except Unreachable as exc:
            await self._retry_until_too_old(entry, self._backoff(entry.attempts), str(exc))
        except Refused as exc:
            await self._give_up(entry, str(exc))
        except Exception as exc:  # a fault in the bot: tried a few times, never for ever
            error = f"unexpected {type(exc).__name__}"
            trace = self._first_trace(entry, exc)
            if entry.attempts + 1 >= UNEXPECTED_ATTEMPTS:
                await self._give_up(entry, error, exc, trace)
            else:
                await self._retry(entry, self._backoff(entry.attempts), error, exc, trace)
        else:
            self._traced.discard(entry.id)
            return used
        return None

    def _first_trace(self, entry: OutboxEntry, exc: Exception) -> Exception | None:
        """Return ``exc`` to log its traceback the first time this entry meets a fault."""
        if entry.id in self._traced:
            return None
        self._traced.add(entry.id)
        return exc

    async def _retry_until_too_old(self, entry: OutboxEntry, delay: float, error: str) -> None:
        if self.clock() - entry.created_at >= GIVE_UP_AFTER:
            await self._give_up(entry, error)
        else:
            await self._retry(entry, delay, error)

    def _backoff(self, attempts: int) -> float:
        """Return the delay after ``attempts`` failures: doubling, capped, with jitter."""
        delay = min(self.max_backoff, self.backoff * 2.0 ** min(attempts, MAX_DOUBLINGS))
        return delay * random.uniform(0.8, 1.0)  # noqa: S311 -- jitter, not secrecy

    def _transport(self) -> Transport:
        if self.transport is None:
            raise RuntimeError("the outbox worker has no transport")
        return self.transport

    async def _show_card(self, entry: OutboxEntry) -> int:
        assert entry.case_id is not None
        # Listed with its case; a follow-up's card also shows the topic of the case it follows.
        stored, linked = entry.case, None
        if stored is None or stored.case.linked_to is not None:
            async with self.store.autocommit() as tx:
                stored = await tx.get_case_by_id(entry.case_id)
                linked = await _linked_topic(tx, stored)
        if stored is None:  # deleted meanwhile: nothing to show
            self._not_sent(entry)
            await self._sent(entry)
            return 0
        calls = 0
        if self._in_topic(entry) and stored.topic_id is None:
            stored = await self._open_topic(entry.chat_id, stored)
            calls += 1
        place = CardPlace(stored.card_message_id, stored.topic_id, linked)
        shown = await self._transport().show_card(entry.chat_id, stored.case, place)
        calls += shown.used
        async with self.store.transaction() as tx:
            if shown.message_id != stored.card_message_id:
                await tx.set_card_message(stored.id, shown.message_id)
            # A change made while the card was in flight folded into this entry (one waiting
            # update per case): it is left waiting, so the card is brought up to date again.
            await tx.mark_card_sent(entry.id, stored, self.clock())
            if shown.sent and stored.topic_id is not None:
                await tx.owe_summary(entry.chat_id, self.clock())
        return calls

    async def _open_topic(self, chat_id: int, stored: StoredCase) -> StoredCase:
        """Open a case's forum topic and remember it at once (a retry must not open another)."""
        topic = await self._transport().open_topic(chat_id, stored.case)
        async with self.store.transaction() as tx:
            await tx.set_topic(stored.id, topic)
        return replace(stored, card_message_id=None, topic_id=topic)

    async def _topic_for(self, entry: OutboxEntry) -> tuple[int | None, int]:
        """Return the forum topic an entry goes into (opened, with its card, if it has none)."""
        if not self._in_topic(entry):
            return None, 0
        assert entry.case_id is not None
        async with self.store.autocommit() as tx:
            stored = await tx.get_case_by_id(entry.case_id)
            linked = await _linked_topic(tx, stored)
        if stored is None:
            return None, 0
        if stored.topic_id is not None:
            return stored.topic_id, 0
        stored = await self._open_topic(entry.chat_id, stored)
        shown = await self._transport().show_card(
            entry.chat_id, stored.case, CardPlace(None, stored.topic_id, linked)
        )
        async with self.store.transaction() as tx:
            await tx.set_card_message(stored.id, shown.message_id)
            await tx.owe_summary(entry.chat_id, self.clock())
        return stored.topic_id, 1 + shown.used

    def _not_sent(self, entry: OutboxEntry) -> None:
        """Give back the group's rate-limit slots taken for an entry that called no one."""
        self._give_back(entry, 0)

    def _give_back(self, entry: OutboxEntry, used: int | None) -> None:
        """Settle the group's rate-limit slots an entry took, once its calls are over.

        The slots it did not use are given back; those it used (all, if an attempt failed:
        each call may have reached the group) count from now, as Telegram may have had the
        last call only just now.
        """
        noted = self._noted.pop(entry.id, [])
        kept = len(noted) if used is None else used
        for at in noted:
            self.group_limit.forget(entry.chat_id, at)
        if entry.chat_id < 0:
            for _ in range(kept):
                self.group_limit.note(entry.chat_id)

    async def _send(
        self, entry: OutboxEntry, owed: OwedMessage, language: str | LookUp | None = LOOK_UP
    ) -> int:
        topic, calls = await self._topic_for(entry)
        joined = await self._joined(entry, owed) if owed.joinable else []
        if joined:
            owed = join([owed, *(e.message for e in joined if e.message is not None)])
        if language is LOOK_UP:
            language = await self._language_of(entry.chat_id)
        owed = owed.in_language(language)
        message_id = await self._transport().send(entry.chat_id, owed, topic)
        now = self.clock()
        staff_side = entry.case_id is not None and self._staff_side(entry.chat_id)
        if owed.case_message_id is None and not staff_side:
            # Nothing but the record that it went: that goes with the store's next trip.
            self.store.mark_sent_soon([done.id for done in (entry, *joined)], now)
            return calls + 1
        async with self.store.transaction() as tx:
            if owed.case_message_id is not None:
                await tx.set_telegram_message(owed.case_message_id, message_id)
            for done in (entry, *joined):
                await tx.mark_sent(done.id, now)
            if staff_side:
                assert entry.case_id is not None
                if owed.edit_message_id is None:
                    await tx.record_post(
                        entry.case_id, entry.chat_id, message_id, topic, now, owed.relayed
                    )
                if await tx.get_case_by_id(entry.case_id) is None:
                    # The case was erased while this was on its way: take it down again.
                    gone = Cleanup(message_ids=(message_id,))
                    await tx.owe_cleanup(entry.chat_id, gone, now)
        return calls + 1

    async def _joined(self, entry: OutboxEntry, owed: OwedMessage) -> list[OutboxEntry]:
        """Return the relayed messages waiting right behind ``entry`` that go with it as one."""
        async with self.store.autocommit() as tx:
            behind = await tx.list_behind(entry)
        run: list[OutboxEntry] = []
        for later in behind:
            if later.message is None or later.case_id != entry.case_id:
                break
            run.append(later)
        count = joinable_run([owed, *(e.message for e in run if e.message is not None)])
        return run[: max(0, count - 1)]

    def _staff_side(self, chat_id: int) -> bool:
        return chat_id == self.staff_chat_id or chat_id in self.staff_ids

    async def _clean(self, entry: OutboxEntry) -> int:
        assert entry.cleanup is not None
        calls = await self._transport().clean(entry.chat_id, entry.cleanup)
        await self._sent(entry)
        return calls

    async def _show_summary(self, entry: OutboxEntry) -> int:
        if not self.topics or entry.chat_id != self.staff_chat_id:
            self._not_sent(entry)
            await self._sent(entry)
            return 0
        async with self.store.autocommit() as tx:
            place = await tx.get_summary()
            rows, total = await tx.list_queue(QueueFilter.ALL, limit=SUMMARY_ROWS)
        calls = 0
        if place.topic_id is None:
            place = SummaryPlace(await self._transport().open_topic(entry.chat_id, None), None)
            calls += 1
            async with self.store.transaction() as tx:
                await tx.set_summary(place)
        shown = await self._transport().show_summary(entry.chat_id, Summary(rows, total, place))
        async with self.store.transaction() as tx:
            if shown.message_id != place.message_id:
                await tx.set_summary(SummaryPlace(place.topic_id, shown.message_id))
            latest = await tx.list_queue(QueueFilter.ALL, limit=SUMMARY_ROWS)
            # A case that changed while the summary was in flight: bring it up to date again.
            if latest == (rows, total):
                await tx.mark_sent(entry.id, self.clock())
        return calls + shown.used

    async def _topic_gone(self, entry: OutboxEntry, error: str) -> None:
        """Forget a topic staff deleted, so the entry goes again into a new one (never lost)."""
        if entry.attempts + 1 >= TOPIC_ATTEMPTS:
            await self._give_up(entry, error)
            return
        async with self.store.transaction() as tx:
            if entry.kind == "summary":
                await tx.set_summary(SummaryPlace(None, None))
            elif entry.case_id is not None:
                await tx.set_topic(entry.case_id, None)
            await tx.mark_retry(entry.id, self.clock(), error)
        log.warning("outbox entry %s: its topic is gone (%s); opening a new one", entry.id, error)
        self.wake()

    async def _language_of(self, chat_id: int) -> str | None:
        """Return the language a constituent reads, as chosen by now; staff read the office's."""
        if self._staff_side(chat_id):
            return None
        async with self.store.autocommit() as tx:  # one read: no write lock taken
            return await tx.language_of(chat_id)

    async def _sent(self, entry: OutboxEntry) -> None:
        async with self.store.transaction() as tx:
            await tx.mark_sent(entry.id, self.clock())

    async def _retry(
        self,
        entry: OutboxEntry,
        delay: float,
        error: str,
        exc: Exception | None = None,
        trace: Exception | None = None,
    ) -> None:
        async with self.store.transaction() as tx:
            await tx.mark_retry(entry.id, self.clock() + timedelta(seconds=delay), error)
        log.warning(
            "outbox entry %s: attempt %d failed: %s; retrying in %.1fs",
            entry.id,
            entry.attempts + 1,
            _detail(error, exc),
            delay,
            exc_info=trace,
        )

    async def _give_up(
        self,
        entry: OutboxEntry,
        error: str,
        exc: Exception | None = None,
        trace: Exception | None = None,
    ) -> None:
        """Record an entry that cannot be delivered, and tell staff rather than drop it."""
        now = self.clock()
        async with self.store.transaction() as tx:
            await tx.mark_failed(entry.id, error)
            reference = await _reference(tx, entry.case_id)
            await tx.record(now, None, "delivery_failed", reference, f"{entry.kind}: {error}")
            if entry.kind != "summary" and (entry.message is None or not entry.message.notice):
                if entry.cleanup is not None:
                    reference = entry.cleanup.reference or reference
                for chat, what in self._notices(entry, reference, error):
                    await tx.owe(chat, what, now, entry.case_id, notice=True)
        self._traced.discard(entry.id)
        log.error(
            "outbox entry %s: attempt %d failed: %s; cannot be delivered%s",
            entry.id,
            entry.attempts + 1,
            _detail(error, exc),
            # A failed warning about a failure is only logged: no notice about a notice.
            "" if entry.message is None or not entry.message.notice else " (a notice: dropped)",
            exc_info=trace,
        )
        self.wake()

    def _notices(
        self, entry: OutboxEntry, reference: str | None, error: str
    ) -> list[tuple[int, Msg]]:
        """Return who staff-side is told that ``entry`` failed, and what they are told."""
        kind: str = entry.kind
        if kind == "message" and entry.chat_id in self.staff_ids:
            kind = "staff_message"
        what = Msg(f"delivery.failed_{kind}", {"reference": reference or "-", "error": error})
        targets = self.staff_ids if entry.chat_id == self.staff_chat_id else (self.staff_chat_id,)
        return [(chat, what) for chat in targets]


def join(messages: Sequence[OwedMessage]) -> OwedMessage:
    """Return relayed messages of one case as one message, their texts in order."""
    if len(messages) == 1:
        return messages[0]
    first = messages[0].text
    texts = [str(m.text.params.get("text", "")) for m in messages]
    params: dict[str, str | Msg] = {
        "reference": first.params.get("reference", ""),
        "count": str(len(messages)),
        "text": "\n\n".join(texts),
    }
    return OwedMessage.of(Msg("relay.to_staff_many", params), relayed=True)


async def _linked_topic(tx: Tx, stored: StoredCase | None) -> int | None:
    """Return the topic of the closed case a case follows, if it has one."""
    if stored is None or stored.case.linked_to is None:
        return None
    linked = await tx.get_case(stored.case.linked_to)
    return linked.topic_id if linked else None


async def _reference(tx: Tx, case_id: int | None) -> str | None:
    """Return a case's reference for a failure notice, or None if it cannot be read."""
    if case_id is None:
        return None
    try:
        stored = await tx.get_case_by_id(case_id)
    except ValueError:  # a stored case that no longer loads may be why the entry failed
        log.exception("case %s: cannot be read to report a failed delivery", case_id)
        return None
    return stored.case.reference if stored else None


def _detail(error: str, exc: Exception | None) -> str:
    """Return what the log says of a failure: the error, and a fault's own message."""
    return error if exc is None else f"{error}: {exc}"
