"""The two Bot API calls the intake makes on every answer, without building what it never reads.

``Bot.send_message`` and ``Message.edit_reply_markup`` turn Telegram's answer into a whole
``Message`` (its chat, sender, keyboard and every other field, each an object of its own),
and that costs more than the rest of the call. The intake needs only the new message's id,
or nothing. These post the same parameters through the same bot: its defaults (HTML, no link
previews), rate limiter, request layer and error handling, all as ``send_message`` would,
and read the id from the answer as Telegram sent it.
"""

from __future__ import annotations

from typing import Any

from telegram import Bot, InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove
from telegram.request import BaseRequest

# A keyboard as python-telegram-bot's object, or as the Bot API's JSON.
Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | dict[str, Any]
DEFAULT = BaseRequest.DEFAULT_NONE  # filled in from the bot's defaults


async def send_text(
    bot: Bot, chat_id: int, text: str, markup: Markup | None = None, topic_id: int | None = None
) -> int:
    """Send a text message (with a keyboard, into a forum topic) and return its id."""
    data: dict[str, Any] = {
        "chat_id": chat_id,
        "text": text,
        "parse_mode": DEFAULT,
        "link_preview_options": DEFAULT,
        "disable_notification": DEFAULT,
        "protect_content": DEFAULT,
        "reply_markup": markup,
        "message_thread_id": topic_id,
    }
    sent = await bot._post("sendMessage", data)
    return int(sent["message_id"])


async def drop_keyboard(bot: Bot, chat_id: int, message_id: int) -> None:
    """Take the inline keyboard off a message."""
    data: dict[str, Any] = {"chat_id": chat_id, "message_id": message_id, "parse_mode": DEFAULT}
    await bot._post("editMessageReplyMarkup", data)
