"""What to show for a question: text, buttons and, at the end, the answers to check."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.core.catalogue import Msg, msg_from_data, msg_to_data
from bot.core.display import shown_answer
from bot.core.draft import Draft
from bot.core.flow import Flow, Step, StepKind
from bot.core.replies import (
    AttachmentsDone,
    Back,
    Change,
    ChoiceReply,
    ConfirmCancel,
    ConfirmPostcode,
    FinishText,
    Reply,
    Send,
    ShowChanges,
    Skip,
    TakeSuggestion,
    UseSuggestion,
    action_for,
)
from bot.core.text import clean_text

# The actions of the buttons most questions show, worked out once: action_for compares a
# reply with each simple reply in turn, and a question is rendered on every reply.
_USE_SUGGESTION = action_for(UseSuggestion())
_ATTACHMENTS_DONE = action_for(AttachmentsDone())
_SKIP = action_for(Skip())
_SEND = action_for(Send())
_SHOW_CHANGES = action_for(ShowChanges(show=True))
_BACK = action_for(Back())


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


def _one(label: Msg, reply: Reply) -> tuple[Button, ...]:
    return (Button(label, action_for(reply)),)


def changes_prompt(rows: tuple[SummaryRow, ...]) -> Prompt:
    """Return the list of answers to change, asked from check-your-answers."""
    buttons: list[tuple[Button, ...]] = [
        (Button(row.label, action_for(Change(row.step))),) for row in rows
    ]
    buttons.append(_one(Msg("button.back_to_answers"), ShowChanges(show=False)))
    return Prompt(text=Msg("review.which_change"), buttons=tuple(buttons))


def postcode_confirm_prompt(
    step: Step, postcode: str, constituency: str, params: Mapping[str, str], someone_else: bool
) -> Prompt:
    """Return the question asked of a postcode in another constituency, before ending."""
    whose = ".someone_else" if someone_else else ""
    texts: dict[str, str | Msg] = {**params, "postcode": postcode, "elsewhere": constituency}
    return Prompt(
        text=Msg(f"postcode.confirm_other{whose}", texts),
        step=step.id,
        buttons=(
            _one(Msg(f"button.postcode_right{whose}"), ConfirmPostcode(confirmed=True)),
            _one(Msg("button.postcode_wrong"), ConfirmPostcode(confirmed=False)),
        ),
        params=texts,
    )


def collecting_prompt(step: Step, text: str, can_go_back: bool) -> Prompt:
    """Return what is shown after each message of a long answer: send more, or say it is all."""
    counted: dict[str, str | Msg] = {"count": f"{len(text):,}"}
    buttons = [_one(Msg("button.finish_text"), FinishText(step.id))]
    if can_go_back:
        buttons.append((Button(Msg("button.back"), _BACK),))
    return Prompt(
        text=Msg("intake.collecting", counted), step=step.id, buttons=tuple(buttons), params=counted
    )


def suggestion_buttons(value: str, *, can_refuse: bool) -> tuple[tuple[Button, ...], ...]:
    """Return the buttons that take a suggested correction, or keep what was typed."""
    rows = [_one(Msg("button.suggestion_yes", {"value": value}), TakeSuggestion(accepted=True))]
    if can_refuse:
        rows.append(_one(Msg("button.suggestion_no"), TakeSuggestion(accepted=False)))
    return tuple(rows)


def step_prompt(
    flow: Flow,
    step: Step,
    draft: Draft,
    rows: tuple[SummaryRow, ...],
    params: Mapping[str, str],
    can_go_back: bool,
    optional: bool | None = None,
    fills: Callable[[str], frozenset[str] | None] | None = None,
) -> Prompt:
    """Return the prompt for ``step`` in ``draft`` (``optional``: whether it may be skipped now).

    With ``fills`` (what a text fills in, in every language), the question and its hint keep
    only the values their texts show: a reply is stored whole until it is sent.
    """
    skippable = step.optional if optional is None else optional
    buttons: list[tuple[Button, ...]] = []
    suggestion = draft.profile.get(step.suggest) if step.suggest else None
    # A name of only hidden characters would make a blank button.
    if suggestion and clean_text(suggestion):
        buttons.append((Button(suggestion, _USE_SUGGESTION),))
    buttons += [(Button(Msg(o.label), action_for(ChoiceReply(o.value))),) for o in step.options]
    if step.kind is StepKind.ATTACHMENTS:
        label = "button.attachments_done" if draft.attachments else "button.attachments_none"
        buttons.append((Button(Msg(label), _ATTACHMENTS_DONE),))
    if skippable and step.kind is not StepKind.ATTACHMENTS:
        buttons.append((Button(Msg("button.skip"), _SKIP),))
    if step.kind is StepKind.REVIEW:
        # Send comes first, and the answers to change are one button away: on a phone, a
        # summary under seventeen buttons is hard to read and Send easy to miss.
        buttons.append((Button(Msg("button.send"), _SEND),))
        if rows:
            buttons.append((Button(Msg("button.change_an_answer"), _SHOW_CHANGES),))
    if can_go_back:
        buttons.append((Button(Msg("button.back"), _BACK),))
    texts = dict(params)
    texts["attachments"] = str(len(draft.attachments))
    if step.max_length:
        texts["max_length"] = f"{step.max_length:,}"
    return Prompt(
        text=Msg(step.text, _shown(texts, fills, step.text)),
        step=step.id,
        hint=Msg(step.hint, _shown(texts, fills, step.hint)) if step.hint else None,
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
    return shown_answer(step.validator, value)


def _words_to_data(value: Msg | str) -> Any:
    """Return a catalogue text as data, and the person's own words as they are."""
    return msg_to_data(value) if isinstance(value, Msg) else value


def _words_from_data(value: Any) -> Msg | str:
    # A stored text is a dict: checked first, as the Mapping check is slow.
    return msg_from_data(value) if isinstance(value, dict | Mapping) else str(value)


def _shown(
    values: Mapping[str, str], fills: Callable[[str], frozenset[str] | None] | None, key: str
) -> Mapping[str, str]:
    names = None if fills is None else fills(key)
    return values if names is None else {k: v for k, v in values.items() if k in names}


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
