"""The outbox's Telegram transport: cards and messages as Bot API calls, errors as outcomes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from telegram import Bot, InlineKeyboardMarkup
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError

from bot.channels.telegram.render import Outgoing
from bot.core.case import Case
from bot.core.catalogue import Msg
from bot.core.outbox import OwedMessage, OwedReply
from bot.service.outbox import Refused, RetryLater, Shown, Unreachable

CardRenderer = Callable[[Case], tuple[str, InlineKeyboardMarkup]]
# Texts are rendered in the language the message carries (None: the office's own).
TextRenderer = Callable[[Msg, str | None], str]
ReplyRenderer = Callable[[OwedReply, str | None], Outgoing]
CAPTION_LIMIT = 1024

T = TypeVar("T")


class TelegramTransport:
    """Deliver the outbox's entries with a python-telegram-bot ``Bot``."""

    def __init__(
        self,
        bot: Bot,
        render_card: CardRenderer,
        render_text: TextRenderer,
        render_reply: ReplyRenderer | None = None,
    ) -> None:
        """Send with ``bot``, rendering cards, texts and intake replies with the office's texts."""
        self.bot = bot
        self.render_card, self.render_text = render_card, render_text
        self.render_reply = render_reply
        # What each card message was last made to say (a restart costs one redundant edit).
        self._shown: dict[int, str] = {}

    async def show_card(self, chat_id: int, case: Case, message_id: int | None) -> Shown:
        """Post a case's card, or edit the posted one; skip an edit that would change nothing."""
        text, markup = self.render_card(case)
        if message_id is not None and self._shown.get(message_id) == text:
            return Shown(message_id, sent=False)
        shown = await _outcome(self._post_or_edit(chat_id, message_id, text, markup))
        self._shown[shown] = text
        return Shown(shown, sent=True)

    async def send(self, chat_id: int, owed: OwedMessage) -> int:
        """Send an owed text, or a photo or document with the text as its caption."""
        if owed.reply is not None and self.render_reply is not None:
            out = self.render_reply(owed.reply, owed.language)
            sent = await _outcome(self.bot.send_message(chat_id, out.text, reply_markup=out.markup))
            return sent.message_id
        text = self.render_text(owed.text, owed.language)
        attachment = owed.attachment
        if owed.edit_message_id is not None:
            await _outcome(self._replace(chat_id, owed.edit_message_id, text))
            return owed.edit_message_id
        if attachment is None:
            sent = await _outcome(self.bot.send_message(chat_id, text))
        elif attachment.kind == "photo":
            caption = text[:CAPTION_LIMIT]
            sent = await _outcome(self.bot.send_photo(chat_id, attachment.file_id, caption=caption))
        else:
            caption = text[:CAPTION_LIMIT]
            sent = await _outcome(
                self.bot.send_document(chat_id, attachment.file_id, caption=caption)
            )
        return sent.message_id

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
        self, chat_id: int, message_id: int | None, text: str, markup: InlineKeyboardMarkup
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
        sent = await self.bot.send_message(chat_id, text, reply_markup=markup)
        return sent.message_id


async def _outcome(call: Awaitable[T]) -> T:
    """Await a Bot API call, turning Telegram's errors into the outbox's outcomes."""
    try:
        return await call
    except RetryAfter as exc:
        seconds = exc.retry_after
        delay = seconds.total_seconds() if isinstance(seconds, timedelta) else float(seconds)
        raise RetryLater(delay) from exc
    except BadRequest as exc:  # a NetworkError to PTB, but retrying cannot help
        raise Refused(describe(exc)) from exc
    except NetworkError as exc:  # includes TimedOut and 5xx answers
        raise Unreachable(type(exc).__name__) from exc
    except TelegramError as exc:  # Forbidden and the rest: retrying cannot help
        raise Refused(describe(exc)) from exc


def describe(exc: TelegramError) -> str:
    """Return an error as staff read it, its kind named once: "Forbidden: bot was blocked"."""
    kind = type(exc).__name__
    return exc.message if exc.message.startswith(f"{kind}:") else f"{kind}: {exc.message}"
