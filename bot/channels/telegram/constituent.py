"""Private-chat handlers for constituents: parse the update, call the service, send the answer."""

from __future__ import annotations

import logging

from telegram import Message, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import ApplicationHandlerStop

from bot.channels.telegram.calls import drop_keyboard
from bot.channels.telegram.context import Context
from bot.channels.telegram.parse import parse_callback, reply_of, sender_of
from bot.core.catalogue import Msg
from bot.core.flood import Verdict
from bot.core.languages import ACTION_PREFIX
from bot.core.replies import Back, Cancel, Reply, reply_for_action
from bot.service.intake import RESTART, RESUME
from bot.service.types import Response

log = logging.getLogger(__name__)


async def on_guard(update: Update, context: Context) -> None:
    """Stop an update already processed, from a blocked sender, or from a flood (warned once)."""
    user = update.effective_user
    verdict = await context.bot_data.runtime.guard.admit(
        update.update_id, user.id if user else None
    )
    if verdict is Verdict.ALLOW:
        chat = update.effective_chat
        if chat is not None and chat.type == "private":
            # Its handler delivers what it owes the chat: the worker leaves the lane to it.
            context.bot_data.runtime.outbox.expect(chat.id)
        return
    if (
        verdict is Verdict.WARN
        and update.effective_chat
        and update.effective_chat.type == "private"
    ):
        found = context.bot_data.runtime
        language = await found.intake.language_of(update.effective_chat.id)
        text = found.renderer.text(Msg("flood.warning", found.params), language)
        await context.bot.send_message(update.effective_chat.id, text)
    if update.callback_query is not None:
        try:
            await update.callback_query.answer()
        except BadRequest:  # a press delivered twice was answered the first time
            log.debug("button press %s already answered", update.update_id)
    raise ApplicationHandlerStop


async def on_processed(update: Update, context: Context) -> None:
    """Record that an update has been processed, so a second delivery of it is ignored."""
    await context.bot_data.runtime.guard.done(update.update_id)
    if update.effective_chat is not None:
        context.bot_data.runtime.outbox.done_with(update.effective_chat.id)


async def on_start(update: Update, context: Context) -> None:
    """Begin an intake, or offer to carry on with one under way."""
    runtime = context.bot_data.runtime
    response = await runtime.intake.start(sender_of(update))
    runtime.guard.recorded(update.update_id)
    await send(update, context, response)


async def on_back(update: Update, context: Context) -> None:
    """Go back one question."""
    response = await _handle(update, context, Back())
    await send(update, context, response)


async def on_cancel(update: Update, context: Context) -> None:
    """Ask whether to stop and delete the draft."""
    response = await _handle(update, context, Cancel())
    await send(update, context, response)


async def on_language(update: Update, context: Context) -> None:
    """Offer Cymraeg and English (/iaith, /language): switching keeps every answer."""
    response = await context.bot_data.runtime.intake.ask_language(sender_of(update))
    await send(update, context, response)


async def on_help(update: Update, context: Context) -> None:
    """Explain how the service works."""
    await _say(update, context, "help")


async def on_privacy(update: Update, context: Context) -> None:
    """Say how the office uses a constituent's information."""
    await _say(update, context, "privacy")


async def on_about(update: Update, context: Context) -> None:
    """Say whose service this is, and credit the postcode data."""
    await _say(update, context, "about")


async def on_group_message(update: Update, context: Context) -> None:
    """Tell people in a group chat to message the bot privately; run no intake there."""
    if update.effective_message is not None:
        text = context.bot_data.runtime.renderer.text(Msg("intake.group_chat"))
        await update.effective_message.reply_text(text)


async def on_message(update: Update, context: Context) -> None:
    """Answer the current question with whatever the person sent."""
    message = update.effective_message
    if message is None:
        return
    replied = message.reply_to_message
    reply_to = (
        replied.message_id
        if replied is not None and replied.from_user and replied.from_user.is_bot
        else None
    )
    found = context.bot_data.runtime
    typed = found.renderer.keyboard_reply(message.text) if message.text else None
    response = await _handle(update, context, typed or reply_of(message), reply_to=reply_to)
    await send(update, context, response)


async def on_button(update: Update, context: Context) -> None:
    """Apply a button press once, answer it, and take the buttons off the old question."""
    query = update.callback_query
    assert query is not None
    parsed = parse_callback(query.data)
    reply = reply_for_action(parsed[1]) if parsed else None
    found = context.bot_data.runtime
    # A button of a message sent inline (through another chat) has no chat of ours to answer in.
    private = update.effective_chat is not None and update.effective_chat.type == "private"
    chosen = parsed is not None and parsed[1].startswith(ACTION_PREFIX)
    if (
        not private
        or parsed is None
        or (reply is None and parsed[1] not in (RESUME, RESTART) and not chosen)
    ):
        await query.answer(
            found.renderer.text(Msg("notice.stale_button"), await _language(update, context))
        )
        return
    revision, action = parsed
    if reply is None:
        response = await found.intake.choose(sender_of(update), action, revision)
    else:
        response = await _handle(update, context, reply, revision)
    if response.stale:
        await query.answer(
            found.renderer.text(Msg("notice.stale_button"), await _language(update, context))
        )
        return
    try:
        await query.answer()
    except TelegramError as exc:  # the press is applied and its answer owed: carry on
        log.warning("button press %s not answered: %s", update.update_id, type(exc).__name__)
    if isinstance(query.message, Message) and query.message.reply_markup is not None:
        await _drop_buttons(context, query.message)
    await send(update, context, response)


async def _handle(
    update: Update,
    context: Context,
    reply: Reply,
    revision: int | None = None,
    reply_to: int | None = None,
) -> Response:
    """Apply a reply; the intake records the update as processed with its effect."""
    runtime = context.bot_data.runtime
    response = await runtime.intake.handle(sender_of(update), reply, revision, reply_to)
    runtime.guard.recorded(update.update_id)
    return response


async def send(update: Update, context: Context, response: Response) -> None:
    """Deliver what the response owes the chat now (the outbox keeps whatever cannot go yet)."""
    chat = update.effective_chat
    assert chat is not None
    if response.case is not None:
        log.info("case %s created", response.case.reference)
    if not response.stale:
        await context.bot_data.runtime.outbox.deliver_lane(chat.id, response.owed)


async def _drop_buttons(context: Context, message: Message) -> None:
    try:
        await drop_keyboard(context.bot, message.chat.id, message.message_id)
    except BadRequest as exc:
        # Already edited (a double tap that raced), or too old to edit: nothing is lost.
        log.debug("could not remove buttons: %s", exc.message)
    except TelegramError as exc:  # old buttons are harmless: they carry an old revision
        log.debug("could not remove buttons: %s", type(exc).__name__)


async def _say(update: Update, context: Context, key: str) -> None:
    found = context.bot_data.runtime
    if update.effective_message is not None:
        language = await _language(update, context)
        text = found.renderer.text(Msg(key, found.params), language)
        await update.effective_message.reply_text(text)


async def _language(update: Update, context: Context) -> str | None:
    """Return the language the person in this private chat chose (None: not chosen, or a group)."""
    chat = update.effective_chat
    if chat is None or chat.type != "private":
        return None
    return await context.bot_data.runtime.intake.language_of(chat.id)
