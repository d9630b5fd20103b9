"""The intake engine: given a draft and a reply, say what to ask next. Pure; time is passed in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from bot.core.catalogue import Msg
from bot.core.draft import Answer, Attachment, Draft
from bot.core.flow import Flow, Step, StepKind
from bot.core.postcodes import PostcodeChecker, PostcodeStatus
from bot.core.prompts import Prompt, SummaryRow, cancel_prompt, step_prompt, summary_value
from bot.core.reconcile import first_unanswered, fitting_answers, reconcile
from bot.core.replies import (
    AttachmentsDone,
    Back,
    Cancel,
    Change,
    ChoiceReply,
    ConfirmCancel,
    ContactReply,
    FileReply,
    OtherReply,
    Reply,
    Send,
    Skip,
    TextReply,
    UseSuggestion,
)
from bot.core.text import clean_text, one_line
from bot.core.validators import Rejected, ValidationContext, Validator


@dataclass(frozen=True, slots=True)
class Ask:
    """Show ``prompt``; ``error`` keeps the person on the question and says what to send."""

    draft: Draft
    prompt: Prompt
    error: Msg | None = None
    notice: Msg | None = None
    echo: str | None = None
    changed: bool = True


@dataclass(frozen=True, slots=True)
class Finished:
    """The person pressed Send: make the case from ``draft``."""

    draft: Draft


@dataclass(frozen=True, slots=True)
class Ended:
    """The intake stops and its draft is deleted (out of area, or cancelled)."""

    message: Msg
    reason: str


Outcome = Ask | Finished | Ended

_Result = Answer | Rejected | Ended

# The most of a typed postcode repeated in an answer, like "BFPO 1234" (codes are shorter).
_POSTCODE_SHOWN = 20


def _cleaned(attachment: Attachment) -> Attachment:
    """Return the attachment with its caption and file name cleaned like typed answers."""
    return attachment.with_text(
        caption=_clean(attachment.caption), file_name=_clean(attachment.file_name)
    )


def _clean(value: str | None) -> str | None:
    """Return typed text cleaned, None if nothing is left (an empty text is kept as it is)."""
    return (clean_text(value) or None) if value else value


def _flow_changed(draft: Draft, fitted: Draft) -> Msg | None:
    """Return the notice for a draft fitted to a changed flow, if the person would notice."""
    dropped = len(fitted.answers) != len(draft.answers)
    moved = (fitted.step, fitted.reviewing) != (draft.step, draft.reviewing)
    return Msg("intake.flow_changed") if dropped or moved else None


class Intake:
    """One office's intake: a flow, the postcode rule and the texts' shared values."""

    def __init__(
        self,
        flow: Flow,
        postcodes: PostcodeChecker,
        constituency_code: str,
        validators: Mapping[str, Validator],
        params: Mapping[str, str],
    ) -> None:
        """Keep what every intake of this office needs."""
        self.flow = flow
        self.postcodes = postcodes
        self.constituency_code = constituency_code
        self.validators = validators
        self.params = dict(params)

    def begin(
        self,
        now: datetime,
        profile: Mapping[str, str],
        prefill: Mapping[str, Answer] | None = None,
        linked_to: str | None = None,
    ) -> Ask:
        """Start a new draft at the first step; pre-filled answers are not asked again."""
        # Answers carried over from an earlier case may be to questions since changed.
        answers = fitting_answers(self.flow, prefill or {})
        draft = Draft(
            flow_id=self.flow.id,
            flow_version=self.flow.version,
            step=self.flow.steps[0].id,
            answers=answers,
            profile=dict(profile),
            prefilled=bool(answers),
            linked_to=linked_to,
            started_at=now,
            updated_at=now,
        )
        return Ask(draft, self.prompt(draft))

    def prompt(self, draft: Draft) -> Prompt:
        """Return what to show for where ``draft`` is now (in the flow as it is now)."""
        fitted = self.reconcile(draft)
        if fitted is None:
            return self.begin(draft.updated_at, draft.profile).prompt
        if fitted.confirming_cancel:
            return cancel_prompt(self.params)
        step = self.flow.step(fitted.step)
        rows = self.summary(fitted) if step.kind is StepKind.REVIEW else ()
        can_go_back = self._previous(fitted) is not None
        return step_prompt(self.flow, step, fitted, rows, self.params, can_go_back)

    def reconcile(self, draft: Draft) -> Draft | None:
        """Return ``draft`` fitted to the flow as it is now, or None if it is of another flow."""
        return reconcile(self.flow, draft, self.applies)

    def applies(self, step: Step, answers: Mapping[str, Answer]) -> bool:
        """Tell whether ``step`` is asked, given the answers so far."""
        if step.when is None:
            return True
        source = self.flow.step(step.when.step)
        answer = answers.get(source.id)
        value = answer.value if answer and self.applies(source, answers) else None
        return step.when.holds(value)

    def summary(self, draft: Draft) -> tuple[SummaryRow, ...]:
        """Return the check-your-answers rows for every answered question that applies."""
        return tuple(
            SummaryRow(step.id, Msg(step.label), summary_value(step, draft))
            for step in self.flow.steps
            if step.label and step.summary and step.id in draft.answers
            if self.applies(step, draft.answers)
        )

    def answers(self, draft: Draft) -> dict[str, Answer]:
        """Return the answers that count: those to questions that apply."""
        fitted = self.reconcile(draft)
        if fitted is None:
            return {}
        return {
            step_id: answer
            for step_id, answer in fitted.answers.items()
            if self.applies(self.flow.step(step_id), fitted.answers)
        }

    def resume(self, draft: Draft, now: datetime) -> Ask:
        """Return where a stored draft carries on, in the flow as it is now.

        A draft the flow has changed under comes back moved (``changed``: save it) with a
        notice saying so, so that the next reply answers the question then shown.
        """
        fitted = self.reconcile(draft)
        if fitted is None:
            return self._restart(draft, now)
        if fitted is draft:
            return Ask(draft, self.prompt(draft), changed=False)
        carried = fitted.touched(now)
        return Ask(carried, self.prompt(carried), notice=_flow_changed(draft, carried))

    def advance(self, draft: Draft, reply: Reply, now: datetime) -> Outcome:
        """Apply ``reply`` to ``draft`` and return what happens next."""
        fitted = self.reconcile(draft)
        if fitted is None:
            return self._restart(draft, now)
        if fitted is not draft:
            return self._carry_on(draft, fitted, reply, now)
        return self._advance(draft, reply, now)

    def _restart(self, draft: Draft, now: datetime) -> Ask:
        """Start again a draft of another flow, saying why (its answers cannot be used)."""
        fresh = self.begin(now, draft.profile, linked_to=draft.linked_to).draft
        restarted = fresh.restarted_from(draft)
        return Ask(restarted, self.prompt(restarted), notice=Msg("intake.flow_restarted"))

    def _carry_on(self, draft: Draft, fitted: Draft, reply: Reply, now: datetime) -> Outcome:
        """Go on with a draft the flow changed under, not applying a reply to another question."""
        notice = _flow_changed(draft, fitted)
        moved = (fitted.step, fitted.reviewing) != (draft.step, draft.reviewing)
        # Check-your-answers with an answer gone is not the list the person was shown.
        same = not moved and not (notice is not None and fitted.step == self.flow.review.id)
        # A file, Cancel, or the answer to are-you-sure-to-cancel is about no one question.
        unaffected = fitted.confirming_cancel or isinstance(reply, FileReply | Cancel)
        if notice is not None and not (same or unaffected):
            carried = fitted.touched(now)
            return Ask(carried, self.prompt(carried), notice=notice)
        outcome = self._advance(fitted, reply, now)
        if not isinstance(outcome, Ask):
            return outcome
        if not outcome.changed:  # kept on the question, but on the flow as it is now
            outcome = replace(outcome, draft=outcome.draft.touched(now), changed=True)
        if outcome.notice is not None or outcome.draft.confirming_cancel:
            return outcome
        return replace(outcome, notice=notice)

    def _advance(self, draft: Draft, reply: Reply, now: datetime) -> Outcome:
        """Apply ``reply`` to a draft that fits the flow."""
        if draft.confirming_cancel:
            return self._on_cancel_answer(draft, reply, now)
        if isinstance(reply, Cancel):
            return self._ask(draft.cancelling(asked=True), now)
        if isinstance(reply, Back):
            return self._back(draft, now)
        if isinstance(reply, FileReply):
            moved = draft.with_attachment(_cleaned(reply.attachment)).touched(now)
            count = {"count": str(len(moved.attachments))}
            return Ask(moved, self.prompt(moved), notice=Msg("notice.attachment_saved", count))
        step = self.flow.step(draft.step)
        if isinstance(reply, Change):
            return self._change(draft, step, reply.step, now)
        if step.kind is StepKind.REVIEW:
            return self._on_review(draft, reply, now)
        result = self._answer(draft, step, reply, now)
        if isinstance(result, Ended):
            return result
        if isinstance(result, Rejected):
            return self._stay(draft, Msg(result.message, result.params), reply)
        return self._accept(draft, step, result, now)

    def _on_review(self, draft: Draft, reply: Reply, now: datetime) -> Outcome:
        if isinstance(reply, Send):
            missing = self._unanswered(draft)
            if missing is None:
                return Finished(draft)
            # A change left half-way (Back mid-change) can leave a question that applies unasked.
            return self._ask(draft.at(missing.id, reviewing=True), now)
        if isinstance(reply, OtherReply):
            return self._stay(draft, Msg("error.unusable.review", {"what": reply.what}), reply)
        return self._stay(draft, Msg("error.review.use_buttons"), reply)

    def _unanswered(self, draft: Draft) -> Step | None:
        """Return the first question that applies but has no answer, if there is one."""
        return first_unanswered(self.flow, draft.answers, self.applies)

    def _answer(self, draft: Draft, step: Step, reply: Reply, now: datetime) -> _Result:
        """Turn a reply to ``step`` into an answer, a refusal, or the end of the intake."""
        if isinstance(reply, OtherReply):
            return Rejected(f"error.unusable.{step.kind.value}", {"what": reply.what})
        if isinstance(reply, Skip) and step.optional:
            return Answer(value=None, answered_at=now)
        if step.kind in {StepKind.NOTICE, StepKind.CHOICE, StepKind.CONSENT}:
            return self._choose(step, reply, now)
        if step.kind is StepKind.ATTACHMENTS:
            if isinstance(reply, AttachmentsDone | Skip):
                return Answer(value=str(len(draft.attachments)), answered_at=now)
            return Rejected("error.attachments.expected")
        text = self._typed(draft, step, reply)
        if text is None:
            return Rejected(f"error.unusable.{step.kind.value}", {"what": "button"})
        if step.kind is StepKind.POSTCODE:
            return self._postcode(text, now)
        assert step.validator is not None  # checked when the flow loads
        context = ValidationContext(today=now.date(), max_length=step.max_length)
        checked = self.validators[step.validator](text, context)
        if isinstance(checked, Rejected):
            return checked
        return Answer(value=checked.value, answered_at=now)

    def _typed(self, draft: Draft, step: Step, reply: Reply) -> str | None:
        if isinstance(reply, TextReply):
            return reply.text
        if isinstance(reply, ContactReply) and step.kind is StepKind.PHONE:
            return reply.phone
        if isinstance(reply, UseSuggestion) and step.suggest:
            return draft.profile.get(step.suggest)
        return None

    def _choose(self, step: Step, reply: Reply, now: datetime) -> Answer | Rejected:
        if isinstance(reply, ChoiceReply) and (option := step.option(reply.value)):
            extra = (
                {"version": step.version} if step.kind is StepKind.CONSENT and step.version else {}
            )
            return Answer(value=option.value, extra=extra, answered_at=now)
        return Rejected(f"error.{step.kind.value}.use_buttons")

    def _postcode(self, text: str, now: datetime) -> _Result:
        check = self.postcodes.check(text)
        found = check.constituency
        if check.status is PostcodeStatus.LIVE and found is not None:
            if found.code != self.constituency_code:
                params = {**self.params, "constituency": found.name}
                return Ended(Msg("postcode.other_constituency", params), "out_of_area")
            extra = {"constituency_code": found.code, "constituency_name": found.name}
            return Answer(value=check.normalised, extra=extra, answered_at=now)
        # What was typed is repeated only cleaned and short: it can be a whole message.
        shown = check.normalised or one_line(text, _POSTCODE_SHOWN)
        params = {**self.params, "postcode": shown}
        return Rejected(f"postcode.{check.status.value}", params)

    def _accept(self, draft: Draft, step: Step, answer: Answer, now: datetime) -> Ask:
        moved = draft.with_answers({**draft.answers, step.id: answer})
        following = self._next(moved, self.flow.index(step.id))
        reviewing = moved.reviewing and following.kind is not StepKind.REVIEW
        return self._ask(moved.at(following.id, reviewing=reviewing), now)

    def _next(self, draft: Draft, after: int) -> Step:
        """Return the next step that applies; while reviewing, skip ones already answered."""
        skip_answered = draft.reviewing or draft.prefilled
        for step in self.flow.steps[after + 1 :]:
            if not self.applies(step, draft.answers):
                continue
            if skip_answered and step.id in draft.answers and step.kind is not StepKind.REVIEW:
                continue
            return step
        return self.flow.review

    def _previous(self, draft: Draft) -> Step | None:
        if draft.reviewing:
            return self.flow.review
        current = self.flow.index(draft.step)
        for step in reversed(self.flow.steps[:current]):
            if step.id in draft.answers and self.applies(step, draft.answers):
                return step
        return None

    def _back(self, draft: Draft, now: datetime) -> Ask:
        previous = self._previous(draft)
        if previous is None:
            return Ask(draft, self.prompt(draft), notice=Msg("notice.at_start"), changed=False)
        return self._ask(draft.at(previous.id, reviewing=False), now)

    def _change(self, draft: Draft, step: Step, target: str, now: datetime) -> Ask:
        rows = {row.step for row in self.summary(draft)}
        if step.kind is not StepKind.REVIEW or target not in rows:
            return self._stay(draft, Msg("error.change.not_now"), None)
        return self._ask(draft.at(target, reviewing=True), now)

    def _on_cancel_answer(self, draft: Draft, reply: Reply, now: datetime) -> Outcome:
        if isinstance(reply, ConfirmCancel) and reply.confirmed:
            return Ended(Msg("cancel.done", self.params), "cancelled")
        if isinstance(reply, ConfirmCancel | Back | Cancel):
            kept = draft.cancelling(asked=False).touched(now)
            return Ask(kept, self.prompt(kept), notice=Msg("notice.cancel_kept"))
        return self._stay(draft, Msg("error.cancel.use_buttons"), reply)

    def _ask(self, draft: Draft, now: datetime) -> Ask:
        moved = draft.touched(now)
        return Ask(moved, self.prompt(moved))

    def _stay(self, draft: Draft, error: Msg, reply: Reply | None) -> Ask:
        echo = reply.text if isinstance(reply, TextReply) else None
        return Ask(draft, self.prompt(draft), error=error, echo=echo, changed=False)
