"""Constituents' data-rights commands: /mydata, /delete and /withdraw."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message, Update
from telegram.error import BadRequest

from bot.channels.telegram.context import Context, Runtime
from bot.core.catalogue import Msg
from bot.service.guard import Guard
from bot.service.privacy import PrivacyService

PRIVACY_PREFIX = "p1"


def _ids(update: Update) -> tuple[int, Message] | None:
    user, message = update.effective_user, update.effective_message
    if user is None or message is None:
        return None
    return user.id, message


async def _say(message: Message, found: Runtime, msg: Msg, language: str | None = None) -> None:
    """Answer in the language the person chose (looked up unless the caller knows it)."""
    language = language or await found.intake.language_of(message.chat.id)
    await message.reply_text(found.renderer.text(msg, language))


async def on_mydata(update: Update, context: Context) -> None:
    """Send the person everything held about them: a document to read, and the same as JSON."""
    found = context.bot_data.runtime
    ids = _ids(update)
    if ids is None:
        return
    user_id, message = ids
    language = await found.intake.language_of(message.chat.id)
    data = await found.privacy.my_data(user_id, language)
    caption = found.renderer.text(Msg("privacy.mydata"), language)
    await message.reply_document(InputFile(data.text, filename="my-data.txt"), caption=caption)
    await message.reply_document(InputFile(data.json, filename="my-data.json"))


async def on_delete(update: Update, context: Context) -> None:
    """Ask whether to erase the person's information."""
    found = context.bot_data.runtime
    ids = _ids(update)
    if ids is None:
        return
    _, message = ids
    language = await found.intake.language_of(message.chat.id)
    label = found.renderer.in_language(language).catalogue.raw
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    label("privacy.delete_yes"), callback_data=f"{PRIVACY_PREFIX}:erase"
                )
            ],
            [
                InlineKeyboardButton(
                    label("privacy.delete_no"), callback_data=f"{PRIVACY_PREFIX}:keep"
                )
            ],
        ]
    )
    text = found.renderer.text(Msg("privacy.delete_confirm"), language)
    await message.reply_text(text, reply_markup=markup)


async def on_delete_button(update: Update, context: Context) -> None:
    """Erase (or keep) the presser's own information; the button acts only on who pressed it."""
    query = update.callback_query
    assert query is not None
    found = context.bot_data.runtime
    await query.answer()
    message = query.message if isinstance(query.message, Message) else None
    choices = (f"{PRIVACY_PREFIX}:erase", f"{PRIVACY_PREFIX}:keep")
    if message is None or message.chat.id != query.from_user.id or query.data not in choices:
        return
    try:
        await message.edit_reply_markup(reply_markup=None)
    except BadRequest:  # already pressed: the buttons are gone
        return
    if query.data != f"{PRIVACY_PREFIX}:erase":
        await _say(message, found, Msg("privacy.delete_kept"))
        return
    # Asked before erasing: what records the person's language is erased with the rest.
    language = await found.intake.language_of(message.chat.id)
    erased, flagged = await found.privacy.erase(query.from_user.id)
    await _say(message, found, Msg("privacy.deleted", {"count": str(erased)}), language)
    if flagged:
        references = {"references": ", ".join(flagged)}
        await _say(message, found, Msg("privacy.deleted_open", references), language)


async def on_withdraw(update: Update, context: Context) -> None:
    """Withdraw consent on the person's case (naming it when they have more than one)."""
    found = context.bot_data.runtime
    ids = _ids(update)
    if ids is None:
        return
    user_id, message = ids
    words = (message.text or "").split()
    reference = words[1].upper() if len(words) > 1 else None
    outcome, references = await found.privacy.withdraw(user_id, reference)
    if outcome == "withdrawn":
        await _say(message, found, Msg("privacy.withdrawn", {"reference": references[0]}))
    elif outcome == "choose":
        await _say(
            message, found, Msg("privacy.withdraw_choose", {"references": ", ".join(references)})
        )
    else:
        await _say(message, found, Msg("privacy.withdraw_none"))


async def on_sweep(context: Context) -> None:
    """Run the retention sweep (a JobQueue job, every SWEEP_MINUTES after start-up)."""
    found = context.bot_data.runtime
    await sweep(found.privacy, found.guard)


async def sweep(privacy: PrivacyService, guard: Guard) -> None:
    """Expire and delete what is past its time, and forget old processed updates."""
    await privacy.sweep()
    await guard.sweep()
