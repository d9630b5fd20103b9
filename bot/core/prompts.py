"""What to show for a question: text, buttons and, at the end, the answers to check."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.core.catalogue import Msg, msg_from_data, msg_to_data
from bot.core.draft import Draft
from bot.core.flow import Flow, Step, StepKind
from bot.core.replies import (
    AttachmentsDone,
    Back,
    Change,
    ChoiceReply,
    ConfirmCancel,
    Send,
    Skip,
    UseSuggestion,
    action_for,
)
from bot.core.text import clean_text


@dataclass(frozen=True, slots=True)
class Button:
    """A button: a catalogue label or the person's own words, and the action it sends."""

    label: Msg | str
    action: str


@dataclass(frozen=True, slots=True)
class SummaryRow:
    """One line of check-your-answers."""

    step: str
    label: Msg
    value: Msg | str


@dataclass(frozen=True, slots=True)
class Prompt:
    """A message to show: text (plus hint), answers to check, and buttons in rows."""

    text: Msg
    step: str | None = None
    hint: Msg | None = None
    summary: tuple[SummaryRow, ...] = ()
    buttons: tuple[tuple[Button, ...], ...] = ()
    request_contact: bool = False
    params: Mapping[str, str | Msg] = field(default_factory=dict)


def cancel_prompt(params: Mapping[str, str]) -> Prompt:
    """Return the are-you-sure question asked after /cancel."""
    return Prompt(
        text=Msg("cancel.confirm", params),
        buttons=(
            (Button(Msg("button.cancel_yes"), action_for(ConfirmCancel(confirmed=True))),),
            (Button(Msg("button.cancel_no"), action_for(ConfirmCancel(confirmed=False))),),
        ),
    )


def step_prompt(
    flow: Flow,
    step: Step,
    draft: Draft,
    rows: tuple[SummaryRow, ...],
    params: Mapping[str, str],
    can_go_back: bool,
) -> Prompt:
    """Return the prompt for ``step`` in ``draft``."""
    buttons: list[tuple[Button, ...]] = []
    suggestion = draft.profile.get(step.suggest) if step.suggest else None
    # A name of only hidden characters would make a blank button.
    if suggestion and clean_text(suggestion):
        buttons.append((Button(suggestion, action_for(UseSuggestion())),))
    buttons += [(Button(Msg(o.label), action_for(ChoiceReply(o.value))),) for o in step.options]
    if step.kind is StepKind.ATTACHMENTS:
        label = "button.attachments_done" if draft.attachments else "button.attachments_none"
        buttons.append((Button(Msg(label), action_for(AttachmentsDone())),))
    if step.optional and step.kind is not StepKind.ATTACHMENTS:
        buttons.append((Button(Msg("button.skip"), action_for(Skip())),))
    if step.kind is StepKind.REVIEW:
        # Send comes first: on a phone, a button below seventeen others is easy to miss.
        buttons.append((Button(Msg("button.send"), action_for(Send())),))
        buttons += [
            (Button(Msg("button.change", {"label": row.label}), action_for(Change(row.step))),)
            for row in rows
        ]
    if can_go_back:
        buttons.append((Button(Msg("button.back"), action_for(Back())),))
    texts = dict(params)
    texts["attachments"] = str(len(draft.attachments))
    if step.max_length:
        texts["max_length"] = f"{step.max_length:,}"
    return Prompt(
        text=Msg(step.text, texts),
        step=step.id,
        hint=Msg(step.hint, texts) if step.hint else None,
        summary=rows if step.kind is StepKind.REVIEW else (),
        buttons=tuple(buttons),
        request_contact=step.kind is StepKind.PHONE,
        params=texts,
    )


def summary_value(step: Step, draft: Draft) -> Msg | str:
    """Return how an answer reads on check-your-answers."""
    if step.kind is StepKind.ATTACHMENTS:
        return Msg("summary.attachments", {"count": str(len(draft.attachments))})
    value = draft.value(step.id)
    if value is None:
        return Msg("summary.not_given")
    option = step.option(value)
    if option is not None:
        return Msg(option.label)
    return value


def _words_to_data(value: Msg | str) -> Any:
    """Return a catalogue text as data, and the person's own words as they are."""
    return msg_to_data(value) if isinstance(value, Msg) else value


def _words_from_data(value: Any) -> Msg | str:
    return msg_from_data(value) if isinstance(value, Mapping) else str(value)


def prompt_to_data(prompt: Prompt) -> dict[str, Any]:
    """Return ``prompt`` as plain data, to be stored and shown later."""
    return {
        "text": msg_to_data(prompt.text),
        "step": prompt.step,
        "hint": None if prompt.hint is None else msg_to_data(prompt.hint),
        "summary": [
            {"step": r.step, "label": msg_to_data(r.label), "value": _words_to_data(r.value)}
            for r in prompt.summary
        ],
        "buttons": [
            [{"label": _words_to_data(b.label), "action": b.action} for b in row]
            for row in prompt.buttons
        ],
        "request_contact": prompt.request_contact,
    }


def prompt_from_data(data: Mapping[str, Any]) -> Prompt:
    """Return the prompt stored by ``prompt_to_data``."""
    hint = data.get("hint")
    return Prompt(
        text=msg_from_data(data["text"]),
        step=data.get("step"),
        hint=None if hint is None else msg_from_data(hint),
        summary=tuple(
            SummaryRow(str(r["step"]), msg_from_data(r["label"]), _words_from_data(r["value"]))
            for r in data.get("summary", ())
        ),
        buttons=tuple(
            tuple(Button(_words_from_data(b["label"]), str(b["action"])) for b in row)
            for row in data.get("buttons", ())
        ),
        request_contact=bool(data.get("request_contact", False)),
    )
