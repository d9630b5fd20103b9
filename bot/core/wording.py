"""Check an office's texts at start-up: placeholders, Telegram's HTML subset, button lengths.

An office may edit its own copy of the texts. A placeholder the code never fills, a ``<b>``
left open or a button label Telegram would cut must stop the bot at start-up (and
``casework-bot check``), not show up halfway through a constituent's intake.
"""

from __future__ import annotations

import re
import string
from collections.abc import Collection, Iterable

from bot.core.catalogue import Catalogue
from bot.core.flow import Flow, FlowError

# Telegram's HTML parse mode: these tags only (https://core.telegram.org/bots/api#html-style).
TELEGRAM_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "a",
        "code",
        "pre",
        "tg-spoiler",
        "span",
        "blockquote",
        "tg-emoji",
    }
)
# Longer labels are cut by the renderer (Telegram shows less still on a phone).
BUTTON_LIMIT = 60
# Telegram's limits for a command's description in the menu, and for one message.
COMMAND_LIMIT = 256
MESSAGE_LIMIT = 4096
# Placeholders every step text and hint is filled with, besides the office's own values.
STEP_VALUES = frozenset({"attachments", "max_length"})
# Button labels the code shows, besides the options of the flow's steps.
CODE_BUTTONS = ("privacy.delete_yes", "privacy.delete_no")

_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)(\s[^<>]*)?>")
_ENTITY = re.compile(r"&(#[0-9]{1,7}|#x[0-9a-fA-F]{1,6}|lt|gt|amp|quot);")


def check_texts(
    catalogue: Catalogue,
    reference: Catalogue,
    flow: Flow,
    office_values: Collection[str],
) -> None:
    """Raise FlowError naming the first text that would go wrong when it is shown.

    ``reference`` is the catalogue the bot ships: the placeholders a text may use are those
    its shipped version uses (and the office's values, for texts given them).
    """
    office = frozenset(office_values)
    step_texts = {key for step in flow.steps for key in (step.text, step.hint) if key}
    buttons = set(button_keys(catalogue, flow))
    for key in sorted(catalogue.keys()):
        text = catalogue.raw(key)
        where = f"text {key!r}"
        try:
            used = _placeholders(text)
        except ValueError:
            raise FlowError(
                f"{where} has a {{ or }} without its pair (write {{{{ for {{)"
            ) from None
        allowed = _allowed(key, reference, office, key in step_texts)
        unknown = sorted(used - allowed)
        if unknown and (key in reference or key in step_texts):
            known = ", ".join(f"{{{name}}}" for name in sorted(allowed)) or "none"
            raise FlowError(
                f"{where} has an unknown placeholder {{{unknown[0]}}}; it may use {known}"
            )
        plain = key in buttons or key.startswith("command.")
        fault = plain_fault(text) if plain else html_fault(text)
        if fault is not None:
            raise FlowError(f"{where}: {fault}")
        _check_length(key, text, catalogue, flow, buttons)


def button_keys(catalogue: Catalogue, flow: Flow) -> Iterable[str]:
    """Return the keys of every text shown on a button."""
    yield from (k for k in catalogue.keys() if k.startswith("button."))  # noqa: SIM118
    yield from (key for key in CODE_BUTTONS if key in catalogue)
    yield from {option.label for step in flow.steps for option in step.options}


def html_fault(text: str) -> str | None:
    """Return what Telegram would refuse in ``text`` as HTML, or None if it parses."""
    open_tags: list[str] = []
    position = 0
    while True:
        found = re.compile(r"[<&]").search(text, position)
        if found is None:
            break
        at = found.start()
        if text[at] == "&":
            entity = _ENTITY.match(text, at)
            if entity is None:
                return "has an '&' that is not an entity (write &amp; for &)"
            position = entity.end()
            continue
        tag = _TAG.match(text, at)
        if tag is None:
            return "has a '<' that is not a tag (write &lt; for <)"
        closing, name = tag.group(1) == "/", tag.group(2).lower()
        if name not in TELEGRAM_TAGS:
            return f"uses <{name}>, which Telegram does not support"
        if closing:
            if not open_tags or open_tags[-1] != name:
                return f"closes </{name}> without opening it first"
            open_tags.pop()
        else:
            open_tags.append(name)
        position = tag.end()
    if open_tags:
        return f"opens <{open_tags[-1]}> and never closes it"
    return None


def plain_fault(text: str) -> str | None:
    """Return why ``text`` cannot be a button label or command description, or None."""
    if _TAG.search(text) or _ENTITY.search(text):
        return "is shown as typed (a button or a command), so it cannot have HTML"
    if not text.strip():
        return "is empty"
    return None


def _check_length(
    key: str, text: str, catalogue: Catalogue, flow: Flow, buttons: Collection[str]
) -> None:
    where = f"text {key!r}"
    if key.startswith("command.") and len(text) > COMMAND_LIMIT:
        raise FlowError(
            f"{where} is {len(text)} characters; a command's is {COMMAND_LIMIT} at most"
        )
    if key not in buttons:
        if len(text) > MESSAGE_LIMIT:
            raise FlowError(
                f"{where} is {len(text)} characters; a message is {MESSAGE_LIMIT} at most"
            )
        return
    shown = [text]
    if "{label}" in text:  # "Change: {label}", once for each answer on check-your-answers
        labels = [catalogue.raw(s.label) for s in flow.steps if s.label and s.label in catalogue]
        shown = [text.replace("{label}", label) for label in labels] or shown
    longest = max(shown, key=len)
    if len(longest) > BUTTON_LIMIT:
        raise FlowError(
            f"{where} makes a button of {len(longest)} characters ({longest!r});"
            f" Telegram buttons here are {BUTTON_LIMIT} at most"
        )


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def _allowed(
    key: str, reference: Catalogue, office: frozenset[str], step_text: bool
) -> frozenset[str]:
    shipped = _placeholders(reference.raw(key)) if key in reference else set()
    given_office_values = step_text or bool(shipped & office)
    return (
        frozenset(shipped)
        | (office if given_office_values else frozenset())
        | (STEP_VALUES if step_text else frozenset())
    )
