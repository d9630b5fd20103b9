"""The outbox's Telegram transport: cards, topics and messages as Bot API calls."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from telegram import Bot, InlineKeyboardMarkup
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError

from bot.channels.telegram.calls import send_text
from bot.channels.telegram.render import Outgoing
from bot.channels.telegram.staff_render import StaffRenderer
from bot.core.case import Case
from bot.core.catalogue import Msg
from bot.core.outbox import DELETE_BATCH, Cleanup, OwedMessage, OwedReply
from bot.service.outbox import (
    CardPlace,
    Refused,
    RetryLater,
    Shown,
    Summary,
    TopicGone,
    Unreachable,
)

log = logging.getLogger(__name__)

# Texts are rendered in the language the message carries (None: the office's own).
TextRenderer = Callable[[Msg, str | None], str]
ReplyRenderer = Callable[[OwedReply, str | None], Outgoing]
CAPTION_LIMIT = 1024
# Telegram's topic icon colours: blue for a case, red for an urgent one, green for the summary.
CASE_COLOUR, URGENT_COLOUR, SUMMARY_COLOUR = 0x6FB9F0, 0xFB6F5F, 0x8EEE98
# How Telegram says a topic is gone (deleted by hand), or that a topic change changes nothing.
_TOPIC_GONE = ("thread not found", "topic_deleted", "topic_id_invalid")
_UNCHANGED = ("not modified",)
# How Telegram says a message cannot be deleted any more (gone, or too old): nothing to do.
_UNDELETABLE = ("not found", "can't be deleted", "cannot be deleted")

T = TypeVar("T")


class TelegramTransport:
    """Deliver the outbox's entries with a python-telegram-bot ``Bot``."""

    def __init__(
        self,
        bot: Bot,
        staff: StaffRenderer,
        render_text: TextRenderer,
        render_reply: ReplyRenderer | None = None,
    ) -> None:
        """Send with ``bot``: cards and staff texts with ``staff``, texts and intake replies."""
        self.bot, self.staff, self.render_text = bot, staff, render_text
        self.render_reply = render_reply
        # What each card message was last made to say (a restart costs one redundant edit).
        self._shown: dict[int, str] = {}
        # Each forum topic's title, and whether it is open, as last set.
        self._titles: dict[int, str] = {}
        self._open: dict[int, bool] = {}

    async def show_card(self, chat_id: int, case: Case, place: CardPlace) -> Shown:
        """Post a case's card (into its topic), or edit the posted one; skip what is unchanged.

        In a forum the topic's title follows the case, and the topic is closed with it.
        """
        topic = place.topic_id
        text, markup = self.staff.card(
            case, in_topic=topic is not None, linked_topic=place.linked_topic_id
        )
        calls = 0
        if topic is not None:
            calls += await self._retitle(chat_id, topic, self.staff.topic_title(case))
        message_id = place.message_id
        if message_id is None or self._shown.get(message_id) != text:
            message_id = await _outcome(
                self._post_or_edit(chat_id, message_id, text, markup, topic)
            )
            self._shown[message_id] = text
            calls += 1
        if topic is not None:
            calls += await self._set_open(chat_id, topic, case.is_open)
        return Shown(message_id, sent=calls > 0, calls=calls)

    async def open_topic(self, chat_id: int, case: Case | None) -> int:
        """Open a forum topic for a case, titled from it (None: the summary's); return its id."""
        if case is None:
            name, colour = self.staff.label("overview.topic"), SUMMARY_COLOUR
        else:
            name = self.staff.topic_title(case)
            colour = URGENT_COLOUR if case.urgency.urgent else CASE_COLOUR
        topic = await _outcome(self.bot.create_forum_topic(chat_id, name, icon_color=colour))
        self._titles[topic.message_thread_id] = name
        self._open[topic.message_thread_id] = True
        return topic.message_thread_id

    async def show_summary(self, chat_id: int, summary: Summary) -> Shown:
        """Post the summary of open cases in its topic, or edit the posted one."""
        text = self.staff.summary(summary)
        message_id = summary.place.message_id
        if message_id is not None and self._shown.get(message_id) == text:
            return Shown(message_id, sent=False)
        topic = summary.place.topic_id
        message_id = await _outcome(self._post_or_edit(chat_id, message_id, text, None, topic))
        self._shown[message_id] = text
        return Shown(message_id, sent=True)

    async def send(self, chat_id: int, owed: OwedMessage, topic_id: int | None = None) -> int:
        """Send an owed text, or a photo or document with the text as its caption."""
        if owed.reply is not None and self.render_reply is not None:
            out = self.render_reply(owed.reply, owed.language)
            return await _outcome(send_text(self.bot, chat_id, out.text, out.keyboard))
        text = self.render_text(owed.text, owed.language)
        attachment = owed.attachment
        if owed.edit_message_id is not None:
            await _outcome(self._replace(chat_id, owed.edit_message_id, text))
            return owed.edit_message_id
        if attachment is None:
            return await _outcome(send_text(self.bot, chat_id, text, topic_id=topic_id))
        if attachment.kind == "photo":
            caption = text[:CAPTION_LIMIT]
            sent = await _outcome(
                self.bot.send_photo(
                    chat_id, attachment.file_id, caption=caption, message_thread_id=topic_id
                )
            )
        else:
            caption = text[:CAPTION_LIMIT]
            sent = await _outcome(
                self.bot.send_document(
                    chat_id, attachment.file_id, caption=caption, message_thread_id=topic_id
                )
            )
        return sent.message_id

    async def clean(self, chat_id: int, cleanup: Cleanup) -> int:
        """Delete an erased case's topic (every message in it goes too) or the bot's messages."""
        calls = 0
        if cleanup.topic_id is not None:
            calls += 1
            try:
                await _outcome(self.bot.delete_forum_topic(chat_id, cleanup.topic_id))
            except TopicGone:
                log.info("topic %s was already deleted", cleanup.topic_id)
            self._titles.pop(cleanup.topic_id, None)
            self._open.pop(cleanup.topic_id, None)
        ids = list(cleanup.message_ids)
        for start in range(0, len(ids), DELETE_BATCH):
            calls += 1
            try:
                await _outcome(self.bot.delete_messages(chat_id, ids[start : start + DELETE_BATCH]))
            except Refused as exc:
                # Deleted already, or older than Telegram lets a bot delete: nothing to do.
                if not any(s in str(exc).lower() for s in _UNDELETABLE):
                    raise
        return calls

    async def _retitle(self, chat_id: int, topic: int, title: str) -> int:
        """Give a topic its case's title, if it has another; return the calls it took."""
        if self._titles.get(topic) == title:
            return 0
        await _outcome(
            self._unless_unchanged(self.bot.edit_forum_topic(chat_id, topic, name=title))
        )
        self._titles[topic] = title
        return 1

    async def _set_open(self, chat_id: int, topic: int, is_open: bool) -> int:
        """Close a closed case's topic (reopen a reopened one); return the calls it took."""
        if self._open.get(topic, True) == is_open:
            return 0
        change = self.bot.reopen_forum_topic if is_open else self.bot.close_forum_topic
        await _outcome(self._unless_unchanged(change(chat_id, topic)))
        self._open[topic] = is_open
        return 1

    @staticmethod
    async def _unless_unchanged(call: Awaitable[bool]) -> None:
        """Make a topic change that changes nothing (already so) count as done."""
        try:
            await call
        except BadRequest as exc:
            if not any(s in exc.message.lower() for s in _UNCHANGED):
                raise

    async def _replace(self, chat_id: int, message_id: int, text: str) -> None:
        """Replace a message's text and take its buttons off (gone or unchanged is done)."""
        try:
            await self.bot.edit_message_text(
                text, chat_id=chat_id, message_id=message_id, reply_markup=None
            )
        except BadRequest as exc:
            if not any(s in exc.message.lower() for s in ("not found", "not modified")):
                raise

    async def _post_or_edit(
        self,
        chat_id: int,
        message_id: int | None,
        text: str,
        markup: InlineKeyboardMarkup | None,
        topic: int | None,
    ) -> int:
        if message_id is not None:
            try:
                await self.bot.edit_message_text(
                    text, chat_id=chat_id, message_id=message_id, reply_markup=markup
                )
                return message_id
            except BadRequest as exc:
                if "not modified" in exc.message.lower():
                    return message_id
                if "not found" not in exc.message.lower():
                    raise
        return await send_text(self.bot, chat_id, text, markup, topic)


async def _outcome(call: Awaitable[T]) -> T:
    """Await a Bot API call, turning Telegram's errors into the outbox's outcomes."""
    try:
        return await call
    except RetryAfter as exc:
        seconds = exc.retry_after
        delay = seconds.total_seconds() if isinstance(seconds, timedelta) else float(seconds)
        raise RetryLater(delay) from exc
    except BadRequest as exc:  # a NetworkError to PTB, but retrying cannot help
        if any(s in exc.message.lower() for s in _TOPIC_GONE):
            raise TopicGone(describe(exc)) from exc
        raise Refused(describe(exc)) from exc
    except NetworkError as exc:  # includes TimedOut and 5xx answers
        raise Unreachable(type(exc).__name__) from exc
    except TelegramError as exc:  # Forbidden and the rest: retrying cannot help
        raise Refused(describe(exc)) from exc


def describe(exc: TelegramError) -> str:
    """Return an error as staff read it, its kind named once: "Forbidden: bot was blocked"."""
    kind = type(exc).__name__
    return exc.message if exc.message.startswith(f"{kind}:") else f"{kind}: {exc.message}"
