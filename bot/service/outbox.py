"""The outbox worker: deliver what is owed, in order per lane, through any channel's transport.

Everything owed (a confirmation, a staff card, a reply) is written to the outbox in the
transaction that owes it; this worker sends it after the commit, through a ``Transport`` that a
channel supplies. A lane is a private chat, or one case in a group chat: a lane's messages keep
their order, lanes are served side by side, and one lane's slow or failing message never holds
up another's. Every failure is retried with backoff and counted; one that cannot succeed ends
``failed``, and staff are told.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bot.core.case import Case
from bot.core.catalogue import Msg
from bot.core.outbox import OwedMessage
from bot.storage.records import OutboxEntry
from bot.storage.store import Store, Tx

log = logging.getLogger(__name__)

IDLE = 60.0
# While a lane waits on the rate limit or a send is in flight, look again this often: the store
# cannot say when the next *other* lane falls due, and a retry there must not wait behind them.
POLL = 1.0
LANES_AT_ONCE = 8
# The backoff doubles up to ``max_backoff``; past this many doublings it cannot grow any more
# (and 2.0 ** attempts would overflow after a day of one-second waits).
MAX_DOUBLINGS = 32
# An error the transport did not expect (a fault in the bot, such as a text it cannot fill)
# is tried this many times, with backoff, before the entry fails.
UNEXPECTED_ATTEMPTS = 3
# A channel that stays unreachable this long after a message was owed: the message fails.
GIVE_UP_AFTER = timedelta(hours=24)


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


@dataclass(frozen=True, slots=True)
class Shown:
    """A card shown: its message id, and whether the channel was called to show it."""

    message_id: int
    sent: bool


class Transport(Protocol):
    """How one channel delivers what the outbox owes."""

    async def show_card(self, chat_id: int, case: Case, message_id: int | None) -> Shown:
        """Post a case's card (or bring the posted one, ``message_id``, up to date)."""

    async def send(self, chat_id: int, owed: OwedMessage) -> int:
        """Send one owed message; return the channel's id for it."""


class RateLimit:
    """At most ``count`` messages per ``period`` seconds to one chat (groups: 20 a minute)."""

    def __init__(self, count: int, period: float, clock: Callable[[], float]) -> None:
        """Allow ``count`` sends per ``period`` seconds, timed by ``clock``."""
        self.count, self.period, self.clock = count, period, clock
        self._sent: dict[int, deque[float]] = {}

    def wait(self, chat_id: int) -> float:
        """Return how many seconds until ``chat_id`` may be sent another message (0 = now)."""
        sent = self._sent.get(chat_id)
        if sent is None:
            return 0.0
        now = self.clock()
        while sent and sent[0] <= now - self.period:
            sent.popleft()
        return 0.0 if len(sent) < self.count else sent[0] + self.period - now

    def note(self, chat_id: int) -> float:
        """Record a message sent (or about to be sent) to ``chat_id``; return when."""
        at = self.clock()
        self._sent.setdefault(chat_id, deque()).append(at)
        return at

    def forget(self, chat_id: int, at: float) -> None:
        """Forget the message noted at ``at`` for ``chat_id`` (the channel was not called)."""
        with contextlib.suppress(KeyError, ValueError):
            self._sent[chat_id].remove(at)


Lane = tuple[int, int | None]


def lane_of(entry: OutboxEntry) -> Lane:
    """Return the lane an entry keeps its order in: its chat, and in a group its case."""
    return (entry.chat_id, entry.case_id if entry.chat_id < 0 else None)


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
    ) -> None:
        """Keep what delivering needs; ``backoff`` is the first retry delay in seconds."""
        self.store = store
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
        self._in_flight: dict[Lane, asyncio.Task[None]] = {}
        # Lanes whose last outcome could not be recorded (the store failing): not before then.
        self._resting: dict[Lane, float] = {}
        # Entries whose outcome could not be recorded, and how often, so their rests grow.
        self._unrecorded: dict[int, int] = {}
        # Entries whose fault has been logged with its traceback: later attempts log one line.
        self._traced: set[int] = set()
        # When the group's rate limit noted each entry in flight to a group.
        self._noted: dict[int, float] = {}

    def wake(self) -> None:
        """Look at the outbox now (called after a transaction that added to it)."""
        self._wake.set()

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
            async with self.store.transaction() as tx:
                entries = await tx.list_due(self.clock())
            held, started = math.inf, []
            for entry in entries:
                lane = lane_of(entry)
                if self._stopping or len(self._in_flight) >= LANES_AT_ONCE:
                    break
                if lane in self._in_flight:
                    continue
                pause = self._pause(entry.chat_id, lane)
                if pause > 0:
                    held = min(held, pause)
                    continue
                if entry.chat_id < 0:
                    # Noted before the call, whatever comes of it: a send that fails or times
                    # out may still have reached the group, and it counts against the limit.
                    self._noted[entry.id] = self.group_limit.note(entry.chat_id)
                task = asyncio.create_task(self._deliver_and_release(entry, lane))
                self._in_flight[lane] = task
                started.append(task)
            if not started:
                if self._in_flight or held < math.inf:
                    return min(held, POLL)
                async with self.store.transaction() as tx:
                    due = await tx.next_due()
                return IDLE if due is None else max(0.0, (due - self.clock()).total_seconds())
        if wait:
            await asyncio.gather(*started)
        # A finishing send wakes the worker, which then looks for what is owed next.
        return 0.0

    def _pause(self, chat_id: int, lane: Lane) -> float:
        """Return how long a lane must wait: for the group's rate limit, or after a rest."""
        pause = self.group_limit.wait(chat_id) if chat_id < 0 else 0.0
        rest = self._resting.get(lane)
        if rest is not None:
            left = rest - self.monotonic()
            if left > 0:
                return max(pause, left)
            del self._resting[lane]
        return pause

    async def _deliver_and_release(self, entry: OutboxEntry, lane: Lane) -> None:
        try:
            await self._deliver(entry)
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
            self._noted.pop(entry.id, None)
            del self._in_flight[lane]
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
            async with self.store.transaction() as tx:
                if await tx.count_pending() == 0:
                    return
            await asyncio.sleep(min(wait, 0.05) if wait > 0 else 0)
        raise TimeoutError("outbox not empty")

    async def deliver_lane(self, chat_id: int) -> None:
        """Send what a private chat is owed now, in order, before returning.

        The handler that owed an intake's reply calls this right after the commit, so the
        next question does not wait for the background worker. It takes its turns under the
        worker's lock and marks the lane in flight like the worker, so an entry is never sent
        by both at once; what cannot be sent now stays owed, and the worker retries it (with
        backoff, honouring ``retry_after``) like any other entry.
        """
        lane: Lane = (chat_id, None)
        tried: set[int] = set()
        while not self._stopping and self.transport is not None:
            async with self._busy:
                task = self._in_flight.get(lane)
                if task is None:
                    async with self.store.transaction() as tx:
                        head = await tx.head_of_chat(chat_id)
                    if head is None:
                        return
                    entry, due = head
                    if entry.id in tried or due > self.clock():
                        self.wake()  # a retry waits: the worker keeps its time
                        return
                    tried.add(entry.id)
                    task = asyncio.create_task(self._deliver_in_lane(entry, lane))
                    self._in_flight[lane] = task
            await asyncio.gather(task, return_exceptions=True)

    async def _deliver_in_lane(self, entry: OutboxEntry, lane: Lane) -> None:
        """Try one entry for ``deliver_lane``; unlike the worker's sends, success wakes no one."""
        try:
            await self._deliver(entry)
        except Exception as exc:  # the outcome was not recorded: the worker tries it again
            log.warning("outbox entry %s: %s; left to the worker", entry.id, type(exc).__name__)
        finally:
            del self._in_flight[lane]

    async def _deliver(self, entry: OutboxEntry) -> None:
        """Try an entry once and record the outcome: sent, a retry with backoff, or failed."""
        try:
            if entry.message is None:
                await self._show_card(entry)
            else:
                await self._send(entry, entry.message)
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

    async def _show_card(self, entry: OutboxEntry) -> None:
        assert entry.case_id is not None
        async with self.store.transaction() as tx:
            stored = await tx.get_case_by_id(entry.case_id)
        if stored is None:  # deleted meanwhile: nothing to show
            self._not_sent(entry)
            await self._sent(entry)
            return
        shown = await self._transport().show_card(
            entry.chat_id, stored.case, stored.card_message_id
        )
        if not shown.sent:
            self._not_sent(entry)
        async with self.store.transaction() as tx:
            if shown.message_id != stored.card_message_id:
                await tx.set_card_message(stored.id, shown.message_id)
            latest = await tx.get_case_by_id(stored.id)
            # A change made while the card was in flight folded into this entry (one waiting
            # update per case): leave it waiting, so the card is brought up to date again.
            if latest is None or latest.case == stored.case:
                await tx.mark_sent(entry.id, self.clock())

    def _not_sent(self, entry: OutboxEntry) -> None:
        """Give back the group's rate-limit slot taken for an entry that called no one."""
        at = self._noted.pop(entry.id, None)
        if at is not None:
            self.group_limit.forget(entry.chat_id, at)

    async def _send(self, entry: OutboxEntry, owed: OwedMessage) -> None:
        owed = owed.in_language(await self._language_of(entry.chat_id))
        message_id = await self._transport().send(entry.chat_id, owed)
        async with self.store.transaction() as tx:
            if owed.case_message_id is not None:
                await tx.set_telegram_message(owed.case_message_id, message_id)
            await tx.mark_sent(entry.id, self.clock())

    async def _language_of(self, chat_id: int) -> str | None:
        """Return the language a constituent reads, as chosen by now; staff read the office's."""
        if chat_id == self.staff_chat_id or chat_id in self.staff_ids:
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
            if entry.message is None or not entry.message.notice:
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
