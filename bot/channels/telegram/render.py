"""Turn the intake's responses into Telegram messages: HTML text and keyboards."""

from __future__ import annotations

import html
from dataclasses import dataclass

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from bot.channels.telegram.parse import callback_data
from bot.core.catalogue import Catalogue, Msg
from bot.core.prompts import Button, Prompt
from bot.core.text import one_line
from bot.service.types import Response

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove

MESSAGE_LIMIT = 4096
SUMMARY_VALUE_LIMIT = 400
ECHO_LIMIT = 200
BUTTON_LABEL_LIMIT = 60
_ELLIPSIS = "…"


def escape(text: str) -> str:
    """Escape the person's own words for Telegram's HTML parse mode."""
    return html.escape(text, quote=False)


def plain(text: str) -> str:
    """Leave text as it is (for button labels, which Telegram does not parse)."""
    return text


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message to send."""

    text: str
    markup: Markup | None = None


class Renderer:
    """Render responses with one office's catalogue."""

    def __init__(self, catalogue: Catalogue) -> None:
        """Use ``catalogue`` for every text."""
        self.catalogue = catalogue

    def text(self, msg: Msg) -> str:
        """Render a catalogue text as HTML."""
        return self.catalogue.render(msg, escape)

    def render(self, response: Response) -> list[Outgoing]:
        """Return the messages for ``response``, in order."""
        lead = [self.text(m) for m in response.lead]
        if response.echo:
            echo = self.text(Msg("notice.echo", {"text": one_line(response.echo, ECHO_LIMIT)}))
            lead.append(f"<i>{echo}</i>")
        out: list[Outgoing] = []
        if response.remove_keyboard:
            closing = lead or [self.text(Msg("notice.phone_saved"))]
            out.append(Outgoing(_fit("\n\n".join(closing)), ReplyKeyboardRemove()))
            lead = []
        if response.prompt is not None:
            room = MESSAGE_LIMIT - sum(len(line) + 2 for line in lead)
            body = [*lead, self._prompt_text(response.prompt, room)]
            markup = self._markup(response.prompt, response.revision or 0)
            out.append(Outgoing(_fit("\n\n".join(body)), markup))
        elif lead:
            out.append(Outgoing(_fit("\n\n".join(lead))))
        return out

    def _prompt_text(self, prompt: Prompt, room: int) -> str:
        """Return the prompt's HTML, with typed answers shortened to fit in room characters."""
        parts = [self.text(prompt.text)]
        if prompt.hint is not None:
            parts.append(f"<i>{self.text(prompt.hint)}</i>")
        rows = [(f"<b>{self.text(row.label)}</b>\n", row.value) for row in prompt.summary]
        fixed = [label + (self.text(v) if isinstance(v, Msg) else "") for label, v in rows]
        typed = [v for _, v in rows if isinstance(v, str)]
        spare = room - len("\n\n".join([*parts, *fixed]))
        limits = iter(_shares([len(escape(v)) for v in typed], spare))
        for label, value in rows:
            shown = self.text(value) if isinstance(value, Msg) else _shorten(value, next(limits))
            parts.append(label + shown)
        return "\n\n".join(parts)

    def _markup(self, prompt: Prompt, revision: int) -> Markup | None:
        if prompt.request_contact:
            share = KeyboardButton(self.catalogue.render(Msg("button.share_phone"), plain))
            return ReplyKeyboardMarkup([[share]], resize_keyboard=True, one_time_keyboard=True)
        if not prompt.buttons:
            return None
        return InlineKeyboardMarkup(
            [[self._button(b, revision) for b in row] for row in prompt.buttons]
        )

    def _button(self, button: Button, revision: int) -> InlineKeyboardButton:
        label = button.label
        text = self.catalogue.render(label, plain) if isinstance(label, Msg) else label
        return InlineKeyboardButton(
            one_line(text, BUTTON_LABEL_LIMIT), callback_data=callback_data(revision, button.action)
        )


def _shares(lengths: list[int], room: int) -> list[int]:
    """Return each escaped value's limit: short ones whole, long ones sharing the room left."""
    limits = [0] * len(lengths)
    left = room
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    for done, index in enumerate(order):
        fair = max(left // (len(order) - done), 1)
        limits[index] = min(lengths[index], fair, SUMMARY_VALUE_LIMIT)
        left -= limits[index]
    return limits


def _shorten(value: str, limit: int) -> str:
    """Return value escaped, cut with an ellipsis to at most limit characters of HTML."""
    shown = escape(value)
    if len(shown) <= limit:
        return shown
    kept: list[str] = []
    size = len(_ELLIPSIS)
    for character in value:
        size += len(escape(character))
        if size > limit:
            break
        kept.append(escape(character))
    return "".join(kept).rstrip() + _ELLIPSIS


def _fit(text: str) -> str:
    # Catalogue texts are short and typed answers are shortened to fit; this only guards the limit.
    if len(text) <= MESSAGE_LIMIT:
        return text
    return text[: MESSAGE_LIMIT - 1] + _ELLIPSIS
