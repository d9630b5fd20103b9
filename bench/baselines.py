"""The same intake as a plain python-telegram-bot ConversationHandler: bare, and pickled.

Each state answers with exactly the calls the real bot made for that step of the calibration
intake (same texts, same keyboards, answerCallbackQuery and keyboard removal for taps), and
keeps the answer in ``user_data`` the way a ConversationHandler bot keeps its draft.
"""

from __future__ import annotations

import json
import pickle
import time
import warnings
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from telegram import (
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ParseMode
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    PicklePersistence,
    filters,
)
from telegram.warnings import PTBUserWarning

from bench.driver import TRANSCRIPT, App, Subject, running
from bench.measure import Run
from bench.offline import Call, OfflineRequest, offline_builder
from bench.ours import OTHER_ID_BASE

Context = ContextTypes.DEFAULT_TYPE
Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove
Step = Callable[[Update, Context], Coroutine[Any, Any, int]]
NAME = "intake"


def _markup(raw: dict[str, Any] | None) -> Markup | None:
    """Build the keyboard object anew, as a handler would for each message."""
    if raw is None:
        return None
    if "inline_keyboard" in raw:
        return InlineKeyboardMarkup.de_json(raw, None)
    if "keyboard" in raw:
        return ReplyKeyboardMarkup.de_json(raw, None)
    return ReplyKeyboardRemove.de_json(raw, None)


def _step(number: int, calls: list[Call]) -> Step:
    last = number == len(TRANSCRIPT) - 1

    async def step(update: Update, context: Context) -> int:
        query = update.callback_query
        message = update.effective_message
        chat = update.effective_chat
        assert message is not None
        assert chat is not None
        answer = query.data if query is not None else (message.text or message.caption or "")
        assert context.user_data is not None
        context.user_data.setdefault("answers", {})[str(number)] = answer
        for call in calls:
            if call.method == "answerCallbackQuery" and query is not None:
                await query.answer()
            elif call.method == "editMessageReplyMarkup" and query is not None:
                if isinstance(query.message, Message):
                    await query.message.edit_reply_markup(reply_markup=None)
            elif call.method == "sendMessage":
                # A negative chat is the staff group (the case card); the rest go to the person.
                group = call.chat_id is not None and call.chat_id < 0
                await context.bot.send_message(
                    call.chat_id if group and call.chat_id is not None else chat.id,
                    call.text or "",
                    parse_mode=ParseMode.HTML,
                    reply_markup=_markup(call.markup),
                )
            else:
                raise ValueError(f"unexpected call {call.method}")
        if last:
            context.user_data.clear()
            return ConversationHandler.END
        return number + 1

    return step


def conversation(calls: list[list[Call]], *, persistent: bool) -> ConversationHandler[Context]:
    """Return the intake as a ConversationHandler: state n answers the n-th update."""
    steps = [_step(number, step_calls) for number, step_calls in enumerate(calls)]
    answer = filters.ChatType.PRIVATE & ~filters.COMMAND
    states: dict[object, list[BaseHandler[Update, Context, Any]]] = {
        number: [CallbackQueryHandler(steps[number]), MessageHandler(answer, steps[number])]
        for number in range(1, len(steps))
    }
    with warnings.catch_warnings():
        # per_message=False with CallbackQueryHandler states: PTB warns that buttons are
        # tracked per chat, not per message, which is what this intake wants.
        warnings.filterwarnings(
            "ignore", message=r"If 'per_message=False'", category=PTBUserWarning
        )
        return ConversationHandler(
            entry_points=[CommandHandler("start", steps[0], filters.ChatType.PRIVATE)],
            states=states,
            fallbacks=[],
            name=NAME,
            persistent=persistent,
        )


def write_pickle(path: Path, stored: int, templates: list[str]) -> int:
    """Write a PicklePersistence file of ``stored`` other people's conversations; return bytes."""
    user_data: dict[int, dict[str, Any]] = {}
    chat_data: dict[int, dict[str, Any]] = {}
    states: dict[tuple[int, ...], object] = {}
    for number in range(stored):
        user_id = OTHER_ID_BASE + number
        stage = number % len(templates)
        # A distinct object per person, as unpickling a real bot's file would give.
        user_data[user_id] = {"draft": json.loads(templates[stage])}
        chat_data[user_id] = {}
        states[(user_id, user_id)] = stage + 1
    data = {
        "conversations": {NAME: states},
        "user_data": user_data,
        "chat_data": chat_data,
        "bot_data": {},
        "callback_data": None,
    }
    with path.open("wb") as file:
        pickle.dump(data, file, protocol=pickle.HIGHEST_PROTOCOL)
    return path.stat().st_size


@asynccontextmanager
async def conversation_bot(
    calls: list[list[Call]], *, pickle_path: Path | None = None, stored: int = 0
) -> AsyncIterator[Subject]:
    """Start the intake as a ConversationHandler bot; check its calls on the way out.

    With ``pickle_path`` (a file from write_pickle), every update is followed by
    update_persistence() and a flush, inside the update's timing: the file is rewritten once
    per update. (With on_flush=False, update_user_data and update_conversation would each
    rewrite it: on_flush=True and one flush is the cheapest way to lose nothing.)
    """
    request = OfflineRequest()
    builder = offline_builder(request)
    persistence: PicklePersistence[Any, Any, Any] | None = None
    if pickle_path is not None:
        persistence = PicklePersistence(pickle_path, on_flush=True)
        builder = builder.persistence(persistence)
    app: App = builder.build()
    app.add_handler(conversation(calls, persistent=persistence is not None))
    run = Run("PTB+pickle" if persistence else "PTB bare", stored)
    after = None
    if persistence is not None:
        held = persistence

        async def write() -> None:
            await app.update_persistence()
            await held.flush()

        after = write
    subject = Subject(app, request, run, after=after)
    started = time.perf_counter()
    async with running(app):
        if persistence is not None:
            run.notes.append(f"start-up (loading it) {time.perf_counter() - started:.1f} s")
        calls_before = request.calls
        yield subject
        made = request.calls - calls_before
    expected = sum(n * len(c) for n, c in zip(subject.step_counts, calls, strict=True))
    faults = subject.faults()
    if made != expected:
        faults.append(f"{made} Bot API calls, expected {expected}")
    if faults:
        raise RuntimeError(f"{run.variant} at {stored:,}: {'; '.join(faults)}")
