"""The delivery worker: send what the outbox owes, in order per chat, within Telegram's limits."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from telegram import Bot, InlineKeyboardMarkup, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.core.case import Case
from bot.core.catalogue import Msg, msg_from_data, msg_to_data
from bot.storage.sqlite.audit import record
from bot.storage.sqlite.case_messages import set_telegram_message
from bot.storage.sqlite.cases import StoredCase, get_case_by_id, set_card_message
from bot.storage.sqlite.database import Database
from bot.storage.sqlite.outbox import (
    OutboxEntry,
    count_pending,
    enqueue_message,
    list_due,
    mark_failed,
    mark_retry,
    mark_sent,
    next_due,
)

log = logging.getLogger(__name__)

IDLE = 60.0
CHATS_AT_ONCE = 8

CardRenderer = Callable[[Case], tuple[str, InlineKeyboardMarkup]]
TextRenderer = Callable[[Msg], str]


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

    def note(self, chat_id: int) -> None:
        """Record a message sent to ``chat_id``."""
        self._sent.setdefault(chat_id, deque()).append(self.clock())


class Delivery:
    """Deliver outbox entries after their transaction commits; retry until Telegram takes them."""

    def __init__(
        self,
        db: Database,
        bot: Bot,
        *,
        render_card: CardRenderer,
        render_text: TextRenderer,
        staff_chat_id: int,
        staff_ids: tuple[int, ...],
        clock: Callable[[], datetime],
        monotonic: Callable[[], float] = time.monotonic,
        backoff: float = 2.0,
        max_backoff: float = 300.0,
    ) -> None:
        """Keep what delivering needs; ``backoff`` is the first retry delay in seconds."""
        self.db, self.bot = db, bot
        self.render_card, self.render_text = render_card, render_text
        self.staff_chat_id, self.staff_ids = staff_chat_id, staff_ids
        self.clock, self.backoff, self.max_backoff = clock, backoff, max_backoff
        self.group_limit = RateLimit(20, 60.0, monotonic)
        self._wake = asyncio.Event()
        # One delivery pass at a time, so an entry is never picked up by two passes at once.
        self._busy = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._in_flight: dict[int, asyncio.Task[None]] = {}
        # What each case's card was last made to say (a restart costs one redundant edit).
        self._shown: dict[int, str] = {}

    def wake(self) -> None:
        """Look at the outbox now (called after a transaction that added to it)."""
        self._wake.set()

    def start(self) -> None:
        """Run the worker in the background until ``stop``."""
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="outbox-delivery")

    async def stop(self) -> None:
        """Stop the background worker; anything undelivered waits in the outbox."""
        self._stopping = True
        # Never cancel a send in flight: Telegram may have taken it, and it would go again.
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

        Each listed entry is the oldest owed to its chat, and each chat has at most one send
        in flight, so chats are served side by side: one chat's slow or hanging send does
        not hold up anyone else's messages, and a chat's own messages keep their order.
        """
        async with self._busy:
            async with self.db.transaction() as db:
                entries = await list_due(db, self.clock())
            held, started = math.inf, []
            for entry in entries:
                if self._stopping or len(self._in_flight) >= CHATS_AT_ONCE:
                    break
                if entry.chat_id in self._in_flight:
                    continue
                pause = self.group_limit.wait(entry.chat_id) if entry.chat_id < 0 else 0.0
                if pause > 0:
                    held = min(held, pause)
                    continue
                task = asyncio.create_task(self._deliver_and_release(entry))
                self._in_flight[entry.chat_id] = task
                started.append(task)
            if not started and not self._in_flight:
                if held < math.inf:
                    return held
                async with self.db.transaction() as db:
                    due = await next_due(db)
                return IDLE if due is None else max(0.0, (due - self.clock()).total_seconds())
        if wait and started:
            await asyncio.gather(*started)
        # A finishing send wakes the worker, which then looks for what is owed next.
        return 0.0 if started else IDLE

    async def _deliver_and_release(self, entry: OutboxEntry) -> None:
        try:
            await self._deliver(entry)
        except Exception:  # logged; the entry stays owed and is tried again
            log.exception("outbox entry %s: delivery failed", entry.id)
        finally:
            del self._in_flight[entry.chat_id]
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
            async with self.db.transaction() as db:
                if await count_pending(db) == 0:
                    return
            await asyncio.sleep(min(wait, 0.05) if wait > 0 else 0)
        raise TimeoutError("outbox not empty")

    async def _deliver(self, entry: OutboxEntry) -> None:
        try:
            if entry.kind == "card":
                await self._send_card(entry)
            else:
                await self._send_message(entry)
        except RetryAfter as exc:
            seconds = exc.retry_after
            delay = seconds.total_seconds() if isinstance(seconds, timedelta) else float(seconds)
            await self._retry(entry, delay, "RetryAfter")
        except (BadRequest, Forbidden) as exc:
            await self._give_up(entry, _describe(exc))
        except NetworkError as exc:  # includes TimedOut and 5xx answers
            delay = min(self.max_backoff, self.backoff * 2**entry.attempts)
            await self._retry(entry, delay * random.uniform(1.0, 1.25), type(exc).__name__)  # noqa: S311
        except TelegramError as exc:
            await self._give_up(entry, _describe(exc))

    async def _send_card(self, entry: OutboxEntry) -> None:
        assert entry.case_id is not None
        async with self.db.transaction() as db:
            stored = await get_case_by_id(db, entry.case_id)
        if stored is None:  # deleted meanwhile: nothing to show
            await self._sent(entry)
            return
        text, markup = self.render_card(stored.case)
        if stored.card_message_id is not None and self._shown.get(stored.id) == text:
            message_id = stored.card_message_id  # the card already says this: no edit needed
        else:
            message_id = await self._post_or_edit(stored, entry.chat_id, text, markup)
            self.group_limit.note(entry.chat_id)
            self._shown[stored.id] = text
        async with self.db.transaction() as db:
            if message_id != stored.card_message_id:
                await set_card_message(db, stored.id, message_id)
            latest = await get_case_by_id(db, stored.id)
            # A change made while the card was in flight folded into this entry (one waiting
            # update per case): leave it waiting, so the card is brought up to date again.
            if latest is None or latest.case == stored.case:
                await mark_sent(db, entry.id, self.clock())

    async def _post_or_edit(
        self, stored: StoredCase, chat_id: int, text: str, markup: InlineKeyboardMarkup
    ) -> int:
        if stored.card_message_id is not None:
            try:
                await self.bot.edit_message_text(
                    text,
                    chat_id=chat_id,
                    message_id=stored.card_message_id,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                )
                return stored.card_message_id
            except BadRequest as exc:
                if "not modified" in exc.message.lower():
                    return stored.card_message_id
                if "not found" not in exc.message.lower():
                    raise
        sent = await self.bot.send_message(
            chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup
        )
        return sent.message_id

    async def _send_message(self, entry: OutboxEntry) -> None:
        payload = entry.payload
        text = self.render_text(msg_from_data(payload["msg"]))
        sent = await self._send_payload(entry.chat_id, text, payload)
        if entry.chat_id < 0:
            self.group_limit.note(entry.chat_id)
        async with self.db.transaction() as db:
            if "case_message_id" in payload:
                await set_telegram_message(db, int(payload["case_message_id"]), sent.message_id)
            await mark_sent(db, entry.id, self.clock())

    async def _send_payload(self, chat_id: int, text: str, payload: dict[str, Any]) -> Message:
        attachment = payload.get("attachment")
        if isinstance(attachment, dict):
            send = self.bot.send_photo if attachment["kind"] == "photo" else self.bot.send_document
            caption = text[:1024]
            return await send(
                chat_id, attachment["file_id"], caption=caption, parse_mode=ParseMode.HTML
            )
        return await self.bot.send_message(chat_id, text, parse_mode=ParseMode.HTML)

    async def _sent(self, entry: OutboxEntry) -> None:
        async with self.db.transaction() as db:
            await mark_sent(db, entry.id, self.clock())

    async def _retry(self, entry: OutboxEntry, delay: float, error: str) -> None:
        log.warning("outbox entry %s: %s; retrying in %.1fs", entry.id, error, delay)
        async with self.db.transaction() as db:
            await mark_retry(db, entry.id, self.clock() + timedelta(seconds=delay), error)

    async def _give_up(self, entry: OutboxEntry, error: str) -> None:
        """Record an entry Telegram refuses for good, and tell staff rather than drop it."""
        log.error("outbox entry %s cannot be delivered: %s", entry.id, error)
        now = self.clock()
        async with self.db.transaction() as db:
            await mark_failed(db, entry.id, error)
            stored = await get_case_by_id(db, entry.case_id) if entry.case_id else None
            reference = stored.case.reference if stored else None
            await record(db, now, None, "delivery_failed", reference, f"{entry.kind}: {error}")
            if entry.payload.get("notice"):
                return  # a failed warning about a failure is only logged
            kind: str = entry.kind
            if kind == "message" and entry.chat_id in self.staff_ids:
                kind = "staff_message"
            what = Msg(f"delivery.failed_{kind}", {"reference": reference or "-", "error": error})
            payload = {"msg": msg_to_data(what), "notice": True}
            targets = (
                self.staff_ids if entry.chat_id == self.staff_chat_id else (self.staff_chat_id,)
            )
            for chat in targets:
                await enqueue_message(db, chat, payload, now, entry.case_id)
        self.wake()


def _describe(exc: TelegramError) -> str:
    """Return an error as staff read it, its kind named once: "Forbidden: bot was blocked"."""
    kind = type(exc).__name__
    return exc.message if exc.message.startswith(f"{kind}:") else f"{kind}: {exc.message}"
