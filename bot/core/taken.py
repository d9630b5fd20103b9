"""A case taken down by a caseworker (phone, email, in person): the bot's own flow, run on answers.

The answers a caseworker wrote down go through the same engine as a constituent's replies, so
the same questions apply, the same validators and postcode check decide, and the case is made
from the same draft. Nothing here is stored: the caller keeps only a finished draft.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from bot.core.catalogue import Msg
from bot.core.draft import Draft
from bot.core.engine import Ask, Ended, Finished, Intake
from bot.core.flow import Step, StepKind
from bot.core.replies import (
    AttachmentsDone,
    ChoiceReply,
    ConfirmPostcode,
    FinishText,
    Reply,
    Send,
    Skip,
    TextReply,
)

# More replies than any flow has steps twice over: a flow that loops is a fault, not an intake.
_MOST_REPLIES = 400


@dataclass(frozen=True, slots=True)
class Problem:
    """An answer that cannot be taken (or is missing): its step, and what to tell the caseworker."""

    step: str
    msg: Msg


@dataclass(frozen=True, slots=True)
class OutOfArea:
    """The postcode is in another constituency: the office cannot take the case, keeps nothing."""

    msg: Msg


TakenDown = Finished | Problem | OutOfArea


def take_down(
    intake: Intake, answers: Mapping[str, str], now: datetime, profile: Mapping[str, str]
) -> TakenDown:
    """Run the flow on ``answers`` (step id -> value, as typed or an option's value)."""
    draft = intake.begin(now, profile).draft
    for _ in range(_MOST_REPLIES):
        step = intake.flow.step(draft.step)
        if step.kind is StepKind.POSTCODE and draft.pending_postcode is not None:
            if draft.pending_postcode.kind != "out_of_area":
                return Problem(step.id, Msg("postcode.not_found_desk"))
            outcome = intake.advance(draft, ConfirmPostcode(confirmed=True), now)
        else:
            reply = _reply(step, answers)
            if reply is None:
                return Problem(step.id, Msg("desk.missing"))
            outcome = intake.advance(draft, reply, now)
            if isinstance(outcome, Ask) and step.collect and outcome.error is None:
                outcome = intake.advance(outcome.draft, FinishText(step.id), now)
        if isinstance(outcome, Finished):
            return outcome
        if isinstance(outcome, Ended):
            if outcome.reason == "out_of_area":
                return OutOfArea(outcome.message)
            return Problem(step.id, outcome.message)
        stuck = _stuck(step, draft, outcome)
        if stuck is not None:
            return stuck
        draft = outcome.draft
    raise RuntimeError("the flow did not finish")


def _reply(step: Step, answers: Mapping[str, str]) -> Reply | None:
    """Return the reply that gives ``step`` the caseworker's answer (Skip for none)."""
    if step.kind is StepKind.REVIEW:
        return Send()
    if step.kind is StepKind.ATTACHMENTS:
        return AttachmentsDone()
    given = (answers.get(step.id) or "").strip()
    if step.kind is StepKind.NOTICE:
        return ChoiceReply(given or step.options[0].value)
    if not given:
        return Skip() if step.optional else None
    if step.kind in (StepKind.CHOICE, StepKind.CONSENT):
        return ChoiceReply(given)
    return TextReply(given)


def _stuck(step: Step, before: Draft, ask: Ask) -> Problem | None:
    """Return why the flow stayed on ``step`` (an error, an offered correction), or None."""
    after = ask.draft
    if ask.error is not None:
        return Problem(step.id, ask.error)
    if after.suggestion is not None and after.suggestion.step == step.id:
        return Problem(step.id, Msg("desk.suggestion", {"suggestion": after.suggestion.value}))
    if after.step == before.step and after.pending_postcode is None:
        return Problem(step.id, Msg("desk.missing"))
    return None
