"""The intake's lean Bot API calls post exactly what python-telegram-bot's own methods post."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from support.telegram import RecordingRequest, SentCall
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, ReplyKeyboardRemove
from telegram.error import Forbidden
from telegram.ext import ExtBot

from bot.channels.telegram.application import DEFAULTS
from bot.channels.telegram.calls import drop_keyboard, send_text

KEYBOARD = InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="3:yes")]])


@pytest.fixture
async def bot() -> AsyncIterator[tuple[ExtBot[None], RecordingRequest]]:
    request = RecordingRequest()
    made: ExtBot[None] = ExtBot(
        "123456:TEST-offline", request=request, get_updates_request=request, defaults=DEFAULTS
    )
    async with made:
        request.clear()
        yield made, request


def _only(request: RecordingRequest) -> SentCall:
    [call] = request.calls()
    request.clear()
    return call


@pytest.mark.parametrize(
    ("markup", "in_topic"),
    [(None, False), (KEYBOARD, False), (ReplyKeyboardRemove(), False), (None, True)],
)
async def test_send_text_posts_what_send_message_posts_and_returns_its_id(
    bot: tuple[Bot, RecordingRequest], markup: InlineKeyboardMarkup | None, in_topic: bool
) -> None:
    made, request = bot
    chat_id, topic_id = 42, None
    if in_topic:
        chat_id = -100123
        request.make_forum(chat_id)
        topic_id = (await made.create_forum_topic(chat_id, "SOT-1")).message_thread_id
        request.clear()
    text = "<b>What is your postcode?</b> & more"
    sent = await made.send_message(chat_id, text, reply_markup=markup, message_thread_id=topic_id)
    expected = _only(request)

    message_id = await send_text(made, chat_id, text, markup, topic_id)

    posted = _only(request)
    assert (posted.method, posted.params) == (expected.method, expected.params)
    # The defaults went in: HTML, and no link previews.
    assert posted.params["parse_mode"] == "HTML"
    assert posted.params["link_preview_options"] == {"is_disabled": True}
    assert message_id == sent.message_id + 1


async def test_drop_keyboard_posts_what_edit_reply_markup_posts(
    bot: tuple[Bot, RecordingRequest],
) -> None:
    made, request = bot
    first = await made.send_message(42, "Pick one", reply_markup=KEYBOARD)
    second = await made.send_message(42, "Pick again", reply_markup=KEYBOARD)
    request.clear()
    await first.edit_reply_markup(reply_markup=None)
    expected = _only(request)

    await drop_keyboard(made, 42, second.message_id)

    posted = _only(request)
    assert posted.method == expected.method == "editMessageReplyMarkup"
    assert posted.params == {**expected.params, "message_id": second.message_id}
    assert request.message(42, second.message_id) is not None
    assert "reply_markup" not in (request.message(42, second.message_id) or {})


async def test_telegram_errors_are_raised_as_python_telegram_bot_raises_them(
    bot: tuple[Bot, RecordingRequest],
) -> None:
    made, request = bot
    request.fail_next("sendMessage", status=403)
    with pytest.raises(Forbidden, match="blocked"):
        await send_text(made, 42, "Hello")
