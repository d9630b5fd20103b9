"""Turn the intake's responses into Telegram messages: HTML text and keyboards."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.channels.telegram.parse import callback_data
from bot.core.catalogue import Catalogue, Msg
from bot.core.outbox import OwedReply
from bot.core.prompts import Button, Prompt
from bot.core.replies import Back, Reply, Skip
from bot.core.text import one_line
from bot.service.replies import messages_of
from bot.service.types import Response

# A keyboard as the Bot API takes it (reply_markup): sent as it is, with no objects to build.
Keyboard = dict[str, Any]
_REMOVE_KEYBOARD: Keyboard = {"remove_keyboard": True}

MESSAGE_LIMIT = 4096
SUMMARY_VALUE_LIMIT = 400
ECHO_LIMIT = 200
BUTTON_LABEL_LIMIT = 60
_ELLIPSIS = "…"
_TAG = re.compile(r"</?[a-z]+>")


def escape(text: str) -> str:
    """Escape the person's own words for Telegram's HTML parse mode."""
    return html.escape(text, quote=False)


def plain(text: str) -> str:
    """Leave text as it is (for button labels, which Telegram does not parse)."""
    return text


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message to send: its HTML, and its keyboard as the Bot API takes it."""

    text: str
    keyboard: Keyboard | None = None


class Renderer:
    """Render responses with one office's catalogue."""

    def __init__(
        self, catalogue: Catalogue, languages: Mapping[str, Catalogue] | None = None
    ) -> None:
        """Use ``catalogue`` for every text, and ``languages`` for a person who chose one."""
        self.catalogue = catalogue
        # Button labels that are catalogue texts without values, by key: the catalogue does
        # not change, so each is made once (there are as many as the catalogue has keys).
        self._fixed_labels: dict[str, str] = {}
        self._languages = {
            code: self if found is catalogue else Renderer(found)
            for code, found in (languages or {}).items()
        }
        # Buttons of the share-phone keyboard send their label as text; read it back.
        self._typed_buttons: dict[str, Reply] = {}
        for renderer in (*self._languages.values(), self):
            renderer_buttons: dict[str, Reply] = {
                renderer._label(Msg("button.back")): Back(),
                renderer._label(Msg("button.skip")): Skip(),
            }
            self._typed_buttons |= renderer_buttons

    def in_language(self, language: str | None) -> Renderer:
        """Return the renderer of ``language`` (the office's own for None or one it lacks)."""
        return self._languages.get(language or "", self)

    def _label(self, label: Msg | str) -> str:
        if isinstance(label, Msg) and not label.params:
            fixed = self._fixed_labels.get(label.key)
            if fixed is None:
                fixed = one_line(self.catalogue.render(label, plain), BUTTON_LABEL_LIMIT)
                self._fixed_labels[label.key] = fixed
            return fixed
        text = self.catalogue.render(label, plain) if isinstance(label, Msg) else label
        return one_line(text, BUTTON_LABEL_LIMIT)

    def text(self, msg: Msg, language: str | None = None) -> str:
        """Render a catalogue text as HTML (in ``language``, if given)."""
        return self.in_language(language).catalogue.render(msg, escape)

    def render(self, response: Response) -> list[Outgoing]:
        """Return the messages for ``response``, in order."""
        return [self.reply(part) for part in messages_of(response)]

    def reply(self, part: OwedReply, language: str | None = None) -> Outgoing:
        """Return one message of an intake's reply, with its keyboard (in ``language``)."""
        if self.in_language(language) is not self:
            return self.in_language(language).reply(part)
        lead = [self.text(m) for m in part.lines]
        if part.echo:
            echo = self.text(Msg("notice.echo", {"text": one_line(part.echo, ECHO_LIMIT)}))
            lead.append(f"<i>{echo}</i>")
        prompt = part.question
        if prompt is None:
            removed = dict(_REMOVE_KEYBOARD) if part.remove_keyboard else None
            return Outgoing(_fit("\n\n".join(lead)), removed)
        room = MESSAGE_LIMIT - sum(len(line) + 2 for line in lead)
        body = [*lead, self._prompt_text(prompt, room)]
        return Outgoing(_fit("\n\n".join(body)), self._markup(prompt, part.revision))

    def keyboard_reply(self, text: str) -> Reply | None:
        """Return what a typing keyboard's button (Back, Skip) stands for, if ``text`` is one."""
        return self._typed_buttons.get(text)

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

    def _markup(self, prompt: Prompt, revision: int) -> Keyboard | None:
        if prompt.request_contact:
            # Inline buttons cannot go with it: Skip and Back become buttons that type.
            share = {"text": self._label(Msg("button.share_phone")), "request_contact": True}
            rows: list[list[dict[str, Any]]] = [[share]]
            rows += [
                [{"text": self._label(b.label)}]
                for row in prompt.buttons
                for b in row
                if self.keyboard_reply(self._label(b.label)) is not None
            ]
            return {"keyboard": rows, "resize_keyboard": True, "one_time_keyboard": True}
        if not prompt.buttons:
            return None
        return {
            "inline_keyboard": [[self._button(b, revision) for b in row] for row in prompt.buttons]
        }

    def _button(self, button: Button, revision: int) -> dict[str, Any]:
        return {
            "text": self._label(button.label),
            "callback_data": callback_data(revision, button.action),
        }


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
    # Telegram counts what it shows, not the HTML: "&amp;" is one character.
    if len(text) <= MESSAGE_LIMIT or len(_visible(text)) <= MESSAGE_LIMIT:
        return text
    # Catalogue texts are short and typed answers are shortened to fit; this only guards the limit.
    return escape(_visible(text)[: MESSAGE_LIMIT - 1]) + _ELLIPSIS


def _visible(text: str) -> str:
    """Return what Telegram shows of an HTML text."""
    return html.unescape(_TAG.sub("", text))
