"""The intake engine: given a draft and a reply, say what to ask next. Pure; time is passed in."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from bot.core import roles
from bot.core.catalogue import Msg
from bot.core.draft import Answer, Attachment, Collected, Draft, PendingPostcode, Suggestion
from bot.core.flow import Flow, Step, StepKind
from bot.core.languages import yes_or_no
from bot.core.postcodes import PostcodeChecker, PostcodeStatus
from bot.core.prompts import (
    Button,
    Prompt,
    SummaryRow,
    cancel_prompt,
    changes_prompt,
    collecting_prompt,
    postcode_confirm_prompt,
    step_prompt,
    suggestion_buttons,
    summary_value,
)
from bot.core.reconcile import fitting_answers, reconcile
from bot.core.replies import (
    AttachmentsDone,
    Back,
    Cancel,
    Change,
    ChoiceReply,
    ConfirmCancel,
    ConfirmPostcode,
    ContactReply,
    FileReply,
    FinishText,
    OtherReply,
    Reply,
    Send,
    ShowChanges,
    Skip,
    TakeSuggestion,
    TextReply,
    UseSuggestion,
    action_for,
)
from bot.core.text import clean_text, one_line
from bot.core.validators import Accepted, Rejected, ValidationContext, Validator


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

_Result = Answer | Rejected | Ended | Ask

# The most of a typed postcode repeated in an answer, like "BFPO 1234" (codes are shorter).
_POSTCODE_SHOWN = 20
# Tries at a well-formed postcode we cannot find before the person is offered a way on.
POSTCODE_TRIES = 2
# The most a long answer gathered over several messages keeps, when its step sets no limit.
COLLECT_LIMIT = 6000
# What people send that we cannot read, and what to tell them instead.
_SPOKEN = frozenset({"voice", "audio", "video_note"})
_PLACES = frozenset({"location", "venue"})
# Words that say nothing about which option someone means ("the housing one").
_FILLER = frozenset({"a", "an", "and", "the", "my", "i", "of", "to", "one", "about", "it", "is"})


def _words(text: str) -> list[str]:
    """Return the words of ``text``, lower-cased, without punctuation."""
    cleaned = "".join(ch if ch.isalnum() else " " for ch in clean_text(text).casefold())
    return cleaned.split()


def _cut(text: str, limit: int) -> str:
    """Return ``text`` cut to at most ``limit`` characters, at a space if there is one near."""
    if len(text) <= limit:
        return text
    kept = text[:limit]
    space = kept.rfind(" ", limit - 200)
    return (kept[:space] if space > 0 else kept).rstrip()


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
        labels: Mapping[str, str] | None = None,
        fills: Callable[[str], frozenset[str] | None] | None = None,
    ) -> None:
        """Keep what every intake of this office needs; ``labels`` are option texts by key.

        ``fills`` says which values a text fills in, in any language: each question keeps
        only those of the office's values (None: every question keeps them all).
        """
        self.flow = flow
        self.postcodes = postcodes
        self.constituency_code = constituency_code
        self.validators = validators
        self.params = dict(params)
        self.labels = dict(labels or {})
        self._fills = fills
        # Drafts (immutable) already found to fit the flow: a reply's draft is checked as its
        # question is shown, and the next reply starts from that same draft.
        self._fitting: weakref.WeakValueDictionary[int, Draft] = weakref.WeakValueDictionary()

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
        pending = fitted.pending_postcode if step.kind is StepKind.POSTCODE else None
        if pending is not None and pending.kind == "out_of_area":
            someone_else = self._someone_else(fitted.answers)
            return postcode_confirm_prompt(
                step, pending.postcode, pending.constituency_name, self.params, someone_else
            )
        worded = self._worded(step, fitted.answers)
        can_go_back = self._previous(fitted) is not None
        gathered = fitted.collected_at(step.id)
        if gathered is not None:
            return collecting_prompt(worded, gathered, can_go_back)
        rows = self.summary(fitted) if step.kind is StepKind.REVIEW else ()
        optional = self._optional(step, fitted.answers)
        prompt = step_prompt(
            self.flow, worded, fitted, rows, self.params, can_go_back, optional, self._fills
        )
        first: tuple[tuple[Button, ...], ...] = ()
        if pending is not None:  # a postcode not in the data, tried twice: offer a way on
            label = Msg("button.postcode_unchecked", {"postcode": pending.postcode})
            first = ((Button(label, action_for(ConfirmPostcode(confirmed=True))),),)
        offer = fitted.suggestion
        if offer is not None and offer.step == step.id:
            first = suggestion_buttons(offer.value, can_refuse=step.kind is not StepKind.POSTCODE)
        return replace(prompt, buttons=first + prompt.buttons) if first else prompt

    def _value_of(self, step_id: str, answers: Mapping[str, Answer]) -> str | None:
        """Return the answer to ``step_id`` if it counts (its step applies), else None."""
        source = self.flow.find(step_id)
        answer = answers.get(step_id)
        if source is None or answer is None or not self.applies(source, answers):
            return None
        return answer.value

    def _worded(self, step: Step, answers: Mapping[str, Answer]) -> Step:
        """Return ``step`` in the words that fit the answers (for someone else, say)."""
        return step.worded(lambda step_id: self._value_of(step_id, answers))

    def _someone_else(self, answers: Mapping[str, Answer]) -> bool:
        """Tell whether the enquiry is for someone other than the person writing."""
        return self._value_of(roles.FOR_WHOM, answers) == roles.SOMEONE_ELSE

    def _optional(self, step: Step, answers: Mapping[str, Answer]) -> bool:
        """Tell whether ``step`` may be skipped, given the answers so far."""
        rule = step.required_when
        return step.optional and not (rule and rule.holds(self._value_of(rule.step, answers)))

    def _missing(self, step: Step, answers: Mapping[str, Answer]) -> bool:
        """Tell whether ``step`` still needs an answer: none, or skipped but needed now."""
        answer = answers.get(step.id)
        return answer is None or (answer.value is None and not self._optional(step, answers))

    def reconcile(self, draft: Draft) -> Draft | None:
        """Return ``draft`` fitted to the flow as it is now, or None if it is of another flow."""
        if self._fitting.get(id(draft)) is draft:
            return draft
        fitted = reconcile(self.flow, draft, self.applies)
        if fitted is draft:
            self._fitting[id(draft)] = draft
        return fitted

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
            SummaryRow(step.id, Msg(label), summary_value(step, draft))
            for step in self.flow.steps
            if step.label and step.summary and step.id in draft.answers
            if self.applies(step, draft.answers)
            if (label := self._worded(step, draft.answers).label)
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
        restarted = fresh.restarted_from(draft).in_language(draft.language)
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
            return Ask(
                moved, self._prompt_made(moved), notice=Msg("notice.attachment_saved", count)
            )
        step = self.flow.step(draft.step)
        if isinstance(reply, Change):
            return self._change(draft, step, reply.step, now)
        if step.kind is StepKind.REVIEW:
            return self._on_review(draft, reply, now)
        if step.kind is StepKind.POSTCODE and draft.pending_postcode is not None:
            settled = self._on_pending_postcode(draft, step, reply, now)
            if settled is not None:
                return settled
        offer = draft.suggestion if draft.suggestion and draft.suggestion.step == step.id else None
        if offer is not None and isinstance(reply, TakeSuggestion | TextReply):
            return self._on_suggestion(draft, step, offer, reply, now)
        finishing = isinstance(reply, FinishText) and reply.step == step.id
        if step.collect and (isinstance(reply, TextReply) or finishing):
            return self._collect(draft, step, reply, now)
        return self._outcome(draft, step, reply, self._answer(draft, step, reply, now), now)

    def _outcome(
        self, draft: Draft, step: Step, reply: Reply, result: _Result, now: datetime
    ) -> Outcome:
        if isinstance(result, Ended | Ask):
            return result
        if isinstance(result, Rejected):
            return self._stay(draft, Msg(result.message, result.params), reply)
        return self._accept(draft, step, result, now)

    def _on_pending_postcode(
        self, draft: Draft, step: Step, reply: Reply, now: datetime
    ) -> Outcome | None:
        """Settle a postcode awaiting the person's word, or None to read the reply as an answer."""
        pending = draft.pending_postcode
        assert pending is not None
        if isinstance(reply, TextReply):
            return None  # a postcode typed again is checked again
        if pending.kind == "unverified":
            if not (isinstance(reply, ConfirmPostcode) and reply.confirmed):
                return None
            extra = {"constituency_code": "", "constituency_name": "", "verified": "no"}
            answer = Answer(value=pending.postcode, extra=extra, answered_at=now)
            return self._accept(draft, step, answer, now)
        if isinstance(reply, ConfirmPostcode) and reply.confirmed:
            whose = ".someone_else" if self._someone_else(draft.answers) else ""
            params = {**self.params, "constituency": pending.constituency_name}
            return Ended(Msg(f"postcode.other_constituency{whose}", params), "out_of_area")
        if isinstance(reply, ConfirmPostcode):
            # Every other answer is kept; the person types the postcode again.
            return self._ask(draft.with_pending_postcode(None), now)
        return self._stay(draft, Msg("error.postcode.confirm"), reply)

    def _on_suggestion(
        self, draft: Draft, step: Step, offer: Suggestion, reply: Reply, now: datetime
    ) -> Outcome:
        """Take the correction offered, or what the person typed (offered once, never forced)."""
        cleared = draft.with_suggestion(None)
        if isinstance(reply, TakeSuggestion) and reply.accepted:
            text = offer.value
        elif isinstance(reply, TakeSuggestion) or (
            isinstance(reply, TextReply) and reply.text.strip() == offer.typed.strip()
        ):
            text = offer.typed
        else:
            return self._outcome(cleared, step, reply, self._answer(cleared, step, reply, now), now)
        result = self._answer(cleared, step, TextReply(text), now, suggest=False)
        return self._outcome(cleared, step, TextReply(text), result, now)

    def _collect(self, draft: Draft, step: Step, reply: Reply, now: datetime) -> Outcome:
        """Gather the messages of a long answer until the person says that is everything."""
        assert step.validator is not None  # checked when the flow loads
        validate = self.validators[step.validator]
        limit = step.max_length or COLLECT_LIMIT
        context = ValidationContext(today=now.date(), max_length=limit)
        sofar = draft.collected_at(step.id)
        if isinstance(reply, FinishText):
            checked = validate(sofar or "", context)
            cleared = draft.with_collected(None)
            if isinstance(checked, Rejected):
                moved = cleared.touched(now) if sofar is not None else cleared
                error = Msg(checked.message, checked.params)
                return Ask(moved, self._prompt_made(moved), error=error, changed=sofar is not None)
            answer = Answer(value=checked.value, answered_at=now)
            return self._accept(cleared, step, answer, now)
        assert isinstance(reply, TextReply)
        part = clean_text(reply.text)
        if not part:
            empty = validate("", context)
            message = empty.message if isinstance(empty, Rejected) else "error.free_text.empty"
            return self._stay(draft, Msg(message), reply)
        joined = f"{sofar}\n\n{part}" if sofar else part
        notice = None
        if len(joined) > limit:
            # Nothing is thrown away but what does not fit, and the person is told.
            joined = _cut(joined, limit)
            notice = Msg("notice.answer_cut", {"max_length": f"{limit:,}"})
        moved = draft.with_collected(Collected(step=step.id, text=joined)).touched(now)
        return Ask(moved, self._prompt_made(moved), notice=notice)

    def _on_review(self, draft: Draft, reply: Reply, now: datetime) -> Outcome:
        if isinstance(reply, ShowChanges):
            shown = changes_prompt(self.summary(draft)) if reply.show else self._prompt_made(draft)
            return Ask(draft, shown, changed=False)
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
        """Return the first question that applies but still needs an answer, if there is one."""
        answers = draft.answers
        return next(
            (
                step
                for step in self.flow.steps
                if step.kind is not StepKind.REVIEW
                and self.applies(step, answers)
                and self._missing(step, answers)
            ),
            None,
        )

    def _answer(
        self, draft: Draft, step: Step, reply: Reply, now: datetime, *, suggest: bool = True
    ) -> _Result:
        """Turn a reply to ``step`` into an answer, a refusal, or the end of the intake."""
        if isinstance(reply, OtherReply):
            return self._unusable(step, reply.what)
        if isinstance(reply, Skip) and self._optional(step, draft.answers):
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
            return self._postcode(draft, step, text, now, suggest=suggest)
        assert step.validator is not None  # checked when the flow loads
        context = ValidationContext(today=now.date(), max_length=step.max_length)
        checked = self.validators[step.validator](text, context)
        if isinstance(checked, Rejected):
            return checked
        if suggest and checked.suggestion:
            return self._suggest(draft, step, checked, now)
        return Answer(value=checked.value, answered_at=now)

    def _suggest(self, draft: Draft, step: Step, checked: Accepted, now: datetime) -> Ask:
        """Offer a likely correction once, keeping the person on the question."""
        assert checked.suggestion is not None
        offer = Suggestion(step=step.id, typed=checked.value, value=checked.suggestion)
        moved = draft.with_suggestion(offer).touched(now)
        error = Msg(f"error.{step.validator}.did_you_mean", {"suggestion": checked.suggestion})
        return Ask(moved, self._prompt_made(moved), error=error)

    def _unusable(self, step: Step, what: str) -> Rejected:
        """Refuse what cannot be read as an answer, saying what to send instead."""
        if what in _SPOKEN:
            return Rejected("error.voice")
        if what in _PLACES and step.kind in {StepKind.TEXT, StepKind.POSTCODE}:
            return Rejected(f"error.location.{step.kind.value}")
        return Rejected(f"error.unusable.{step.kind.value}", {"what": what})

    def _typed(self, draft: Draft, step: Step, reply: Reply) -> str | None:
        if isinstance(reply, TextReply):
            return reply.text
        if isinstance(reply, ContactReply) and step.kind is StepKind.PHONE:
            return reply.phone
        if isinstance(reply, UseSuggestion) and step.suggest:
            return draft.profile.get(step.suggest)
        return None

    def _typed_choice(self, step: Step, text: str) -> ChoiceReply | None:
        """Return the option a typed answer names ("benefits"), if it names exactly one."""
        if step.kind is StepKind.CHOICE:
            # "ie", "oes", "naddo": a yes-or-no question answered in words, in either language.
            said = yes_or_no(_words(text))
            if said is not None and step.option(said) is not None:
                return ChoiceReply(said)
        typed = [word for word in _words(text) if word not in _FILLER]
        if not typed or step.kind is not StepKind.CHOICE:
            return None
        matches = []
        for option in step.options:
            own = set(_words(option.value.replace("_", " ")))
            own |= set(_words(self.labels.get(option.label, "")))
            if all(any(w == o or (len(w) >= 4 and o.startswith(w)) for o in own) for w in typed):
                matches.append(option.value)
        return ChoiceReply(matches[0]) if len(matches) == 1 else None

    def _choose(self, step: Step, reply: Reply, now: datetime) -> Answer | Rejected:
        if isinstance(reply, TextReply):
            reply = self._typed_choice(step, reply.text) or reply
        if isinstance(reply, ChoiceReply) and (option := step.option(reply.value)):
            extra = (
                {"version": step.version} if step.kind is StepKind.CONSENT and step.version else {}
            )
            return Answer(value=option.value, extra=extra, answered_at=now)
        return Rejected(f"error.{step.kind.value}.use_buttons")

    def _postcode(
        self, draft: Draft, step: Step, text: str, now: datetime, *, suggest: bool = True
    ) -> _Result:
        check = self.postcodes.check(text)
        found = check.constituency
        if check.status is PostcodeStatus.LIVE and found is not None and check.normalised:
            if found.code != self.constituency_code:
                # A slip must not lose the enquiry: ask before ending it.
                elsewhere = PendingPostcode(
                    postcode=check.normalised,
                    kind="out_of_area",
                    constituency_code=found.code,
                    constituency_name=found.name,
                )
                moved = draft.with_suggestion(None).with_pending_postcode(elsewhere).touched(now)
                return Ask(moved, self._prompt_made(moved))
            extra = {"constituency_code": found.code, "constituency_name": found.name}
            return Answer(value=check.normalised, extra=extra, answered_at=now)
        # What was typed is repeated only cleaned and short: it can be a whole message.
        shown = check.normalised or one_line(text, _POSTCODE_SHOWN)
        params = {**self.params, "postcode": shown}
        guess = self.postcodes.correction(text) if suggest else None
        if check.status is PostcodeStatus.INVALID_FORMAT and guess is not None:
            offer = Suggestion(step=step.id, typed=text, value=guess)
            moved = draft.with_suggestion(offer).touched(now)
            error = Msg("postcode.did_you_mean", {**params, "suggestion": guess})
            return Ask(moved, self._prompt_made(moved), error=error, echo=text)
        unplaced = check.status is PostcodeStatus.NOT_FOUND or check.status is PostcodeStatus.LIVE
        if unplaced and check.normalised:
            misses = draft.postcode_misses + 1
            key = f"postcode.{check.status.value}"
            pending: PendingPostcode | None = None
            if misses >= POSTCODE_TRIES:
                pending = PendingPostcode(postcode=check.normalised, kind="unverified")
                key = "postcode.not_found_again"
            moved = draft.with_suggestion(None).with_pending_postcode(pending, misses=misses)
            moved = moved.touched(now)
            return Ask(moved, self._prompt_made(moved), error=Msg(key, params), echo=text)
        return Rejected(f"postcode.{check.status.value}", params)

    def _accept(self, draft: Draft, step: Step, answer: Answer, now: datetime) -> Ask:
        answers = {**draft.answers, step.id: answer}
        if step.id in draft.answers and draft.value(step.id) != answer.value:
            answers = self._unasked(draft.answers, answers, step)
        skip_answered = draft.reviewing or draft.prefilled
        following = self._next(answers, self.flow.index(step.id), skip_answered=skip_answered)
        reviewing = draft.reviewing and following.kind is not StepKind.REVIEW
        moved = draft.at(following.id, reviewing=reviewing, answers=answers, now=now)
        return Ask(moved, self._prompt_made(moved))

    def _unasked(
        self, before: Mapping[str, Answer], after: dict[str, Answer], changed: Step
    ) -> dict[str, Answer]:
        """Drop later answers to questions the change has made another question.

        "Their postcode" is not "your postcode": when someone switches to helping another
        person, the postcode, address and date of birth they gave are asked again.
        """
        for step in self.flow.steps[self.flow.index(changed.id) + 1 :]:
            if step.id not in after or not any(v.when.step == changed.id for v in step.variants):
                continue
            if self._worded(step, before).label != self._worded(step, after).label:
                del after[step.id]
        return after

    def _next(self, answers: Mapping[str, Answer], after: int, *, skip_answered: bool) -> Step:
        """Return the next step that applies; ``skip_answered`` (reviewing) skips answered ones."""
        for step in self.flow.steps[after + 1 :]:
            if not self.applies(step, answers):
                continue
            answered = not self._missing(step, answers)
            if skip_answered and answered and step.kind is not StepKind.REVIEW:
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
            return Ask(
                draft, self._prompt_made(draft), notice=Msg("notice.at_start"), changed=False
            )
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
            return Ask(kept, self._prompt_made(kept), notice=Msg("notice.cancel_kept"))
        return self._stay(draft, Msg("error.cancel.use_buttons"), reply)

    def _prompt_made(self, draft: Draft) -> Prompt:
        """Return the prompt of a draft made here from one that fits the flow.

        Such a draft fits too (the property tests check every one the engine makes), so it
        is kept as fitted without checking it: the next answer finds it so.
        """
        self._fitting[id(draft)] = draft
        return self.prompt(draft)

    def _ask(self, draft: Draft, now: datetime) -> Ask:
        moved = draft.touched(now)
        return Ask(moved, self._prompt_made(moved))

    def _stay(self, draft: Draft, error: Msg, reply: Reply | None) -> Ask:
        echo = reply.text if isinstance(reply, TextReply) else None
        return Ask(draft, self._prompt_made(draft), error=error, echo=echo, changed=False)
