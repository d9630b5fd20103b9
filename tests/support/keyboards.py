"""An outgoing message's keyboard read back as python-telegram-bot's object."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup, ReplyKeyboardRemove

from bot.channels.telegram.render import Outgoing

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove


def markup_of(message: Outgoing) -> Markup | None:
    """Return the keyboard ``message`` sends, as python-telegram-bot's object."""
    keyboard = message.keyboard
    if keyboard is None:
        return None
    if "inline_keyboard" in keyboard:
        return InlineKeyboardMarkup.de_json(keyboard)
    if "keyboard" in keyboard:
        rows = [[KeyboardButton(**button) for button in row] for row in keyboard["keyboard"]]
        options = {key: value for key, value in keyboard.items() if key != "keyboard"}
        return ReplyKeyboardMarkup(rows, **options)
    return ReplyKeyboardRemove.de_json(keyboard)
