"""Carry a draft over to the flow as it is now, after the office has edited the flow.

A draft records its flow's id and version, but an office may rename, remove or change steps
while people are part-way through. An answer that no longer fits is dropped: its step is
gone, or no longer takes the stored value (its kind, options, length limit or consent
wording changed, or it stopped being optional). The draft stays where it is if that question
still applies and nothing before it is left unanswered; otherwise it moves to the first
question that applies and has no answer, or to check-your-answers if there is none. (A
draft of the flow's own version whose answers all fit is used as it is: a question added
before its place is asked at Send, like any question left unanswered.)

Validators are not run again: an answer does not record which one accepted it, and each
stores its own normalised form. The check is a few dictionary look-ups per answer, cheap
enough to make whenever a stored draft is used.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from bot.core.draft import Answer, Draft
from bot.core.flow import ANSWERED_BY_BUTTON, Flow, Step, StepKind

# Whether a step is asked, given some answers (Intake.applies).
Applies = Callable[[Step, Mapping[str, Answer]], bool]

# What a case needs from a postcode answer, put there when the postcode was checked.
_POSTCODE_EXTRA = frozenset({"constituency_code", "constituency_name"})
# Every answer is checked on every reply; reading an Enum member off its class each time is
# slow (Python 3.11), so the kinds checked are read once.
_REVIEW, _CONSENT, _POSTCODE = StepKind.REVIEW, StepKind.CONSENT, StepKind.POSTCODE


def answer_fits(step: Step, answer: Answer) -> bool:
    """Tell whether a stored answer is one ``step``, as it is now, could have taken."""
    kind = step.kind
    if kind is _REVIEW:
        return False
    value = answer.value
    if value is None:
        return step.optional
    if kind in ANSWERED_BY_BUTTON:
        # Consent to other wording is not consent to this one: the person is asked again.
        seen = kind is not _CONSENT or answer.extra.get("version") == step.version
        return seen and any(option.value == value for option in step.options)
    if kind is _POSTCODE:
        return _POSTCODE_EXTRA.issubset(answer.extra)
    limit = step.max_length
    return limit is None or len(value) <= limit


def fitting_answers(flow: Flow, answers: Mapping[str, Answer]) -> dict[str, Answer]:
    """Return the answers that still fit a step of ``flow``."""
    kept = {}
    for step_id, answer in answers.items():
        step = flow.find(step_id)
        if step is not None and answer_fits(step, answer):
            kept[step_id] = answer
    return kept


def first_unanswered(flow: Flow, answers: Mapping[str, Answer], applies: Applies) -> Step | None:
    """Return the first question that applies but has no answer, if there is one."""
    return next(
        (
            step
            for step in flow.steps
            if step.kind is not StepKind.REVIEW
            and step.id not in answers
            and applies(step, answers)
        ),
        None,
    )


def reconcile(flow: Flow, draft: Draft, applies: Applies) -> Draft | None:
    """Return ``draft`` fitted to ``flow`` (``draft`` itself if it fits), or None if it cannot be.

    A draft of another flow altogether cannot be used, and is started again.
    """
    if draft.flow_id != flow.id:
        return None
    answers = fitting_answers(flow, draft.answers)
    here = flow.find(draft.step)
    stays = here is not None and applies(here, answers)
    if stays and draft.flow_version == flow.version and len(answers) == len(draft.answers):
        return draft
    kept = draft.with_answers(answers)
    gap = first_unanswered(flow, answers, applies)
    if here is not None and stays and (gap is None or flow.index(gap.id) >= flow.index(here.id)):
        return kept.on_flow_version(flow.version, skip_answered=False)
    target = gap or flow.review
    was_reviewing = draft.reviewing or (here is not None and here.kind is StepKind.REVIEW)
    reviewing = was_reviewing and target.kind is not StepKind.REVIEW
    # Questions after the new place that were answered are not asked again on the way on.
    later = any(flow.index(step_id) > flow.index(target.id) for step_id in answers)
    moved = kept.at(target.id, reviewing=reviewing)
    return moved.on_flow_version(flow.version, skip_answered=later)
