"""Caseworkers' plain messages in a case's topic, or replying to one of its messages.

Written there, a message answers the constituent; one starting with the note marker stays an
internal note.
"""

from __future__ import annotations

from telegram import Message, Update

from bot.channels.telegram import constituent
from bot.channels.telegram.context import Context, Runtime
from bot.channels.telegram.staff import actor_of, answer, case_here, say
from bot.core.catalogue import Msg
from bot.service.staff import Caseworker, NotStaffError

# A message starting with this (any case) is an internal note, never sent to the constituent.
NOTE_MARKER = "#note"


def note_of(text: str) -> str | None:
    """Return the note a message is (its text after the marker), or None if it is no note."""
    head = text.lstrip()
    if not head.casefold().startswith(NOTE_MARKER):
        return None
    rest = head[len(NOTE_MARKER) :]
    return rest.lstrip(" :\n") if not rest or not rest[0].isalnum() else None


async def on_staff_message(update: Update, context: Context) -> None:
    """Answer the constituent with a caseworker's message in the case's topic or reply thread.

    Anything else staff write in the group (talk among themselves) is left alone.
    """
    message = update.effective_message
    found = context.bot_data.runtime
    who = await _caseworker(update, found)
    if message is None or who is None:
        return
    reference = await case_here(message, found, who) or await _replied_case(message, found, who)
    if reference is not None:
        await _answer_constituent(message, found, who, reference)


async def on_private_reply(update: Update, context: Context) -> None:
    """Answer the constituent with a caseworker's reply to a relayed message in their own chat.

    A reply to anything else goes on to the constituent side, as from anyone.
    """
    message = update.effective_message
    found = context.bot_data.runtime
    who = await _caseworker(update, found)
    reference = None
    if message is not None and who is not None:
        reference = await _replied_case(message, found, who)
    if message is None or who is None or reference is None:
        await constituent.on_message(update, context)
        return
    await _answer_constituent(message, found, who, reference)


async def _caseworker(update: Update, found: Runtime) -> Caseworker | None:
    user = update.effective_user
    if user is None or user.is_bot or found.staff.staff.get(user.id) is None:
        return None
    try:
        return await found.staff.authorise(actor_of(update), "message")
    except NotStaffError:  # staff, but in a chat where they may not act
        return None


async def _replied_case(message: Message, found: Runtime, who: Caseworker) -> str | None:
    """Return the case of the bot's message (a card, a relay) that ``message`` replies to."""
    replied = message.reply_to_message
    if replied is None or replied.from_user is None or replied.from_user.id != message.get_bot().id:
        return None
    return await found.staff.case_of_post(who, message.chat.id, replied.message_id)


async def _answer_constituent(
    message: Message, found: Runtime, who: Caseworker, reference: str
) -> None:
    """Send the constituent a caseworker's words, or keep them as a note; say which it did."""
    text = message.text
    if text is None:
        # A photo, a document or a sticker is not sent, and the caseworker is told so; a
        # service message (a topic renamed or closed by hand) is nobody's words.
        if message.effective_attachment is not None:
            await say(message, found, found.staff_renderer.text(Msg("staff.only_text")))
        return
    note = note_of(text)
    if note is not None:
        await answer(message, found, await found.staff.note(who, reference, note))
    else:
        await answer(message, found, await found.staff.reply(who, reference, text))
