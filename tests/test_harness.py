"""Tests for the offline Telegram harness driving a real Application."""

from __future__ import annotations

import asyncio
import datetime as dtm
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from support.telegram import (
    BOT_ID,
    BOT_USERNAME,
    FakeUser,
    RecordingRequest,
    UpdateFactory,
    offline_builder,
    record_errors,
)
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, ReplyKeyboardMarkup, Update
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ExtBot,
    JobQueue,
    filters,
)

App = Application[
    ExtBot[None],
    ContextTypes.DEFAULT_TYPE,
    dict[Any, Any],
    dict[Any, Any],
    dict[Any, Any],
    JobQueue[ContextTypes.DEFAULT_TYPE],
]
ALICE = FakeUser(501, "Alice", username="alice")
BOB = FakeUser(502, "Bob", last_name="Jones")
STAFF_CHAT = -100_123


async def on_ping(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Reply pong with an inline button."""
    assert update.effective_message is not None
    button = InlineKeyboardButton("Again", callback_data="again")
    await update.effective_message.reply_text("pong", reply_markup=InlineKeyboardMarkup([[button]]))


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer the press and edit the message it came from."""
    query = update.callback_query
    assert query is not None
    await query.answer("ok")
    await query.edit_message_text(f"pong {query.data}")


@pytest.fixture
def recorder() -> RecordingRequest:
    """Return a fresh offline request."""
    return RecordingRequest()


@pytest.fixture
async def app(recorder: RecordingRequest) -> AsyncIterator[App]:
    """Yield an initialised Application with the ping handlers, always shut down."""
    application = offline_builder(recorder).build()
    application.add_handler(CommandHandler("ping", on_ping))
    application.add_handler(CallbackQueryHandler(on_button))
    await application.initialize()
    try:
        yield application
    finally:
        await application.shutdown()


@pytest.fixture
def factory(app: App, recorder: RecordingRequest) -> UpdateFactory:
    """Return an update factory bound to the app's bot and the recorder."""
    return UpdateFactory(app.bot, recorder)


async def test_initialize_asks_get_me_offline(app: App, recorder: RecordingRequest) -> None:
    assert [c.method for c in recorder.calls()] == ["getMe"]
    assert app.bot.id == BOT_ID
    assert app.bot.username == BOT_USERNAME


async def test_ping_replies_pong_with_inline_button(
    app: App, recorder: RecordingRequest, factory: UpdateFactory
) -> None:
    errors = record_errors(app)
    recorder.clear()

    await app.process_update(factory.command(ALICE, "/ping"))

    (call,) = recorder.calls()
    assert call.method == "sendMessage"
    assert call.params["chat_id"] == ALICE.user_id
    assert call.params["text"] == "pong"
    assert call.params["reply_markup"] == {
        "inline_keyboard": [[{"text": "Again", "callback_data": "again"}]]
    }
    assert recorder.sent_texts(ALICE.user_id) == ["pong"]
    assert recorder.last_keyboard(ALICE.user_id) == [[("Again", "again")]]
    assert errors == []


async def test_no_socket_is_ever_opened(
    app: App, recorder: RecordingRequest, factory: UpdateFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    errors = record_errors(app)

    await app.process_update(factory.command(ALICE, "ping"))
    await app.process_update(factory.press(ALICE, "Again"))

    assert recorder.sent_texts(ALICE.user_id) == ["pong", "pong again"]
    assert errors == []


async def test_press_answers_query_and_edits_the_message(
    app: App, recorder: RecordingRequest, factory: UpdateFactory
) -> None:
    errors = record_errors(app)
    await app.process_update(factory.command(ALICE, "ping"))
    sent = recorder.message(ALICE.user_id, 2)
    assert sent is not None
    assert sent["text"] == "pong"  # the command took message id 1, the reply id 2

    press = factory.press(ALICE, "Again")
    assert press.callback_query is not None
    assert press.callback_query.message is not None
    assert press.callback_query.message.message_id == 2
    await app.process_update(press)

    assert recorder.calls("answerCallbackQuery")[0].params == {
        "callback_query_id": press.callback_query.id,
        "text": "ok",
    }
    edit = recorder.calls("editMessageText")[0]
    assert edit.params["chat_id"] == ALICE.user_id
    assert edit.params["message_id"] == 2
    assert recorder.sent_texts(ALICE.user_id) == ["pong", "pong again"]
    assert recorder.last_keyboard(ALICE.user_id) == []  # editing text drops the keyboard
    assert errors == []


async def test_callback_on_unknown_message_is_synthesised(
    app: App, recorder: RecordingRequest, factory: UpdateFactory
) -> None:
    update = factory.callback(BOB, "again", message_id=42, text="old text")

    assert update.callback_query is not None
    message = update.callback_query.message
    assert message is not None
    assert message.get_bot() is app.bot
    assert isinstance(message.date, dtm.datetime)
    await app.process_update(update)
    assert recorder.last_message(BOB.user_id).params["message_id"] == 42


async def test_editing_to_the_same_content_is_not_modified(
    app: App, recorder: RecordingRequest
) -> None:
    message = await app.bot.send_message(ALICE.user_id, "same")

    with pytest.raises(BadRequest, match="Message is not modified"):
        await app.bot.edit_message_text("same", chat_id=ALICE.user_id, message_id=message.id)


async def test_message_ids_increase_per_chat_under_concurrency(
    app: App, recorder: RecordingRequest
) -> None:
    recorder.latency = 0.001
    sends = [app.bot.send_message(ALICE.user_id, f"n{i}") for i in range(30)]
    messages = await asyncio.gather(*sends, app.bot.send_message(STAFF_CHAT, "staff"))

    assert sorted(m.message_id for m in messages[:-1]) == list(range(1, 31))
    assert messages[-1].message_id == 1
    assert messages[-1].chat.type == "supergroup"
    assert len(recorder.calls("sendMessage")) == 31


async def test_reply_keyboard_is_recorded_but_not_echoed(
    app: App, recorder: RecordingRequest
) -> None:
    keyboard = ReplyKeyboardMarkup([["Yes", "No"], ["Skip"]])
    message = await app.bot.send_message(ALICE.user_id, "Sure?", reply_markup=keyboard)

    assert message.reply_markup is None
    assert recorder.last_keyboard(ALICE.user_id) == [["Yes", "No"], ["Skip"]]


async def test_oversize_callback_data_is_rejected(app: App, recorder: RecordingRequest) -> None:
    button = InlineKeyboardButton("x", callback_data="x" * 65)

    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await app.bot.send_message(1, "hi", reply_markup=InlineKeyboardMarkup([[button]]))
    assert recorder.sent_texts(1) == []
    assert (await app.bot.send_message(1, "hi")).message_id == 1  # failed sends take no id


async def test_photo_and_document_return_messages(app: App, recorder: RecordingRequest) -> None:
    photo = await app.bot.send_photo(STAFF_CHAT, "photo-id", caption="evidence")
    document = await app.bot.send_document(ALICE.user_id, "doc-id", caption="letter")

    assert photo.photo[-1].file_id == "photo-id"
    assert photo.caption == "evidence"
    assert document.document is not None
    assert document.document.file_id == "doc-id"
    assert recorder.sent_texts(STAFF_CHAT) == ["evidence"]
    assert recorder.sent_texts(ALICE.user_id) == ["letter"]


@pytest.mark.parametrize(
    ("status", "error", "message"),
    [
        (500, NetworkError, "Internal Server Error"),
        (502, NetworkError, "Bad Gateway"),
        (403, Forbidden, "Forbidden: bot was blocked by the user"),
        (400, BadRequest, "Chat not found"),
    ],
)
async def test_fail_next_raises_telegram_errors(
    app: App, recorder: RecordingRequest, status: int, error: type[TelegramError], message: str
) -> None:
    recorder.fail_next("sendMessage", status=status)

    with pytest.raises(error) as raised:
        await app.bot.send_message(ALICE.user_id, "hello")

    assert type(raised.value) is error
    assert raised.value.message == message
    assert recorder.calls("sendMessage")[0].ok is False
    assert recorder.sent_texts(ALICE.user_id) == []
    await app.bot.send_message(ALICE.user_id, "hello")  # only the next call failed
    assert recorder.sent_texts(ALICE.user_id) == ["hello"]


async def test_too_many_requests_raises_retry_after(
    app: App, recorder: RecordingRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # int retry_after is deprecated (a warning)
    recorder.fail_next(None, status=429, retry_after=7, times=2)

    for _ in range(2):
        with pytest.raises(RetryAfter) as raised:
            await app.bot.send_message(ALICE.user_id, "hello")
        assert raised.value.retry_after == dtm.timedelta(seconds=7)
    await app.bot.send_message(ALICE.user_id, "hello")
    assert [c.ok for c in recorder.calls("sendMessage")] == [False, False, True]


async def test_fault_only_hits_its_method(app: App, recorder: RecordingRequest) -> None:
    recorder.fail_next("editMessageText", status=500)

    message = await app.bot.send_message(ALICE.user_id, "first")
    with pytest.raises(NetworkError):
        await app.bot.edit_message_text("second", chat_id=ALICE.user_id, message_id=message.id)


async def test_chat_migrated(app: App, recorder: RecordingRequest) -> None:
    recorder.fail_next("sendMessage", status=400, migrate_to_chat_id=-100_999)

    with pytest.raises(ChatMigrated) as raised:
        await app.bot.send_message(-5, "hello")
    assert raised.value.new_chat_id == -100_999


async def test_timeout_next_raises_timed_out(app: App, recorder: RecordingRequest) -> None:
    recorder.timeout_next("sendMessage", times=2)

    for _ in range(2):
        with pytest.raises(TimedOut):
            await app.bot.send_message(ALICE.user_id, "hello")
    await app.bot.send_message(ALICE.user_id, "hello")
    assert recorder.sent_texts(ALICE.user_id) == ["hello"]


async def test_unsupported_method_is_recorded(app: App, recorder: RecordingRequest) -> None:
    with pytest.raises(BadRequest, match=r"(?i)not supported by RecordingRequest"):
        await app.bot.get_chat_administrators(STAFF_CHAT)

    assert [c.method for c in recorder.unsupported] == ["getChatAdministrators"]
    recorder.stub("getChatMemberCount", 3)
    assert await app.bot.get_chat_member_count(STAFF_CHAT) == 3
    assert len(recorder.unsupported) == 1


async def test_clear_forgets_calls(app: App, recorder: RecordingRequest) -> None:
    with pytest.raises(BadRequest):
        await app.bot.get_chat_administrators(STAFF_CHAT)

    recorder.clear()

    assert recorder.calls() == []
    assert recorder.unsupported == []


async def test_group_command_reaches_command_handler(
    app: App, recorder: RecordingRequest, factory: UpdateFactory
) -> None:
    recorder.make_forum(STAFF_CHAT)
    topic = await app.bot.create_forum_topic(STAFF_CHAT, "A case")
    thread = topic.message_thread_id
    update = factory.group_command(BOB, STAFF_CHAT, "ping", mention_bot=True, thread_id=thread)

    assert update.effective_chat is not None
    assert update.effective_chat.type == "supergroup"
    await app.process_update(update)
    sent = recorder.last_message(STAFF_CHAT)
    assert sent.params["text"] == "pong"
    assert sent.params["message_thread_id"] == thread


async def test_group_reply_carries_the_bot_message(
    app: App, recorder: RecordingRequest, factory: UpdateFactory
) -> None:
    relayed = await app.bot.send_message(STAFF_CHAT, "Case 12 from Alice")

    update = factory.group_text(BOB, STAFF_CHAT, "On it", reply_to_message_id=relayed.id)

    assert update.message is not None
    assert update.message.reply_to_message is not None
    assert update.message.reply_to_message.text == "Case 12 from Alice"
    assert update.message.reply_to_message.from_user is not None
    assert update.message.reply_to_message.from_user.id == BOT_ID


def test_group_chat_needs_negative_id() -> None:
    with pytest.raises(ValueError, match="negative"):
        UpdateFactory().group_text(BOB, 5, "hi")


def test_factories_build_telegram_shaped_updates() -> None:
    factory = UpdateFactory()

    contact = factory.contact(ALICE, "+447700900123")
    other = factory.contact(ALICE, "+447700900456", user_id=None, first_name="Mum")
    photo = factory.photo(ALICE, "ph", caption="damp")
    document = factory.document(ALICE, "doc", "letter.pdf", "application/pdf")
    edited = factory.edited_text(ALICE, "fixed", message_id=1)
    command = factory.text(ALICE, "/cancel now")

    assert contact.message is not None
    assert contact.message.contact is not None
    assert contact.message.contact.user_id == ALICE.user_id
    assert other.message is not None
    assert other.message.contact is not None
    assert other.message.contact.user_id is None
    assert filters.PHOTO.check_update(photo)
    assert photo.message is not None
    assert photo.message.caption == "damp"
    assert filters.Document.PDF.check_update(document)
    assert filters.Sticker.ALL.check_update(factory.sticker(ALICE))
    assert filters.VOICE.check_update(factory.voice(ALICE))
    assert edited.edited_message is not None
    assert edited.edited_message.message_id == 1
    assert filters.COMMAND.check_update(command)
    assert not filters.COMMAND.check_update(factory.text(ALICE, "hello /cancel"))
    ids = [u.update_id for u in (contact, other, photo, document, edited, command)]
    assert ids == sorted(set(ids))
