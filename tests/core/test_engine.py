"""The pure intake engine, driven by transcripts of replies: no Telegram, no SQLite, no clock."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml
from pydantic import ValidationError
from support.office import PARAMS

from bot.core import engine
from bot.core.catalogue import Msg
from bot.core.draft import Answer, Attachment, Draft
from bot.core.engine import Ask, Ended, Finished, Intake, Outcome
from bot.core.flow import Flow, StepKind, check_flow, flow_from_data
from bot.core.postcodes import PostcodeStatus
from bot.core.reconcile import Applies, reconcile
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
)
from bot.core.roles import ROLES
from bot.core.validators import VALIDATORS
from bot.loading import FLOWS_DIR, load_catalogue, load_flow, required_texts
from bot.storage.postcode_index import load_postcode_checker

CONSTITUENCY = "E14001520"
START = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
PROFILE = {"telegram_name": "Ada Lovelace"}
LETTER = Attachment(kind="photo", file_id="photo-1", file_unique_id="u-photo-1")
CASEWORK_ONLY = (
    "organisation",
    "their_reference",
    "contacted_them",
    "what_happened",
    "desired_outcome",
    "deadline",
)


@dataclass(frozen=True)
class At:
    """Expect the person to be asked ``step``, with this error or notice (or none)."""

    step: str
    error: Msg | None = None
    notice: Msg | None = None
    cancelling: bool = False
    changed: bool = True


@dataclass(frozen=True)
class Stopped:
    """Expect the intake to end for ``reason``."""

    reason: str
    params: Mapping[str, str] = field(default_factory=dict)


FINISHED = "finished"
Expected = At | Stopped | str
Transcript = Sequence[tuple[Reply, Expected]]


@pytest.fixture(scope="module")
def intake() -> Intake:
    """Return the intake of Stoke-on-Trent Central with the shipped flow and postcode data."""
    catalogue = load_catalogue(FLOWS_DIR / "locales")
    flow = load_flow(FLOWS_DIR / "intake.yaml", catalogue)
    return Intake(flow, load_postcode_checker(), CONSTITUENCY, VALIDATORS, PARAMS)


def begin(intake: Intake, profile: Mapping[str, str] = PROFILE) -> Draft:
    """Return a fresh draft at the first step."""
    return intake.begin(START, profile).draft


def play(intake: Intake, draft: Draft, transcript: Transcript) -> Outcome:
    """Play replies one minute apart, checking each outcome; return the last outcome."""
    outcome: Outcome = Ask(draft, intake.prompt(draft))
    for number, (reply, expected) in enumerate(transcript, start=1):
        assert isinstance(outcome, Ask), f"reply {number}: the intake already ended"
        before = outcome.draft
        now = before.updated_at + timedelta(minutes=1)
        outcome = intake.advance(before, reply, now)
        check(outcome, expected, before, now, f"reply {number} {reply!r}")
    return outcome


def check(outcome: Outcome, expected: Expected, before: Draft, now: datetime, where: str) -> None:
    """Assert that ``outcome`` is what the transcript expects."""
    if expected == FINISHED:
        assert isinstance(outcome, Finished), f"{where}: {outcome!r}"
        return
    if isinstance(expected, Stopped):
        assert isinstance(outcome, Ended), f"{where}: {outcome!r}"
        assert outcome.reason == expected.reason
        for name, value in expected.params.items():
            assert outcome.message.params.get(name) == value, f"{where}: {name}"
        return
    assert isinstance(expected, At)
    assert isinstance(outcome, Ask), f"{where}: {outcome!r}"
    draft = outcome.draft
    got = (draft.step, outcome.error, outcome.notice, draft.confirming_cancel)
    want = (expected.step, expected.error, expected.notice, expected.cancelling)
    assert got == want, f"{where}: (step, error, notice, cancelling)"
    if expected.cancelling:
        assert outcome.prompt.text.key == "cancel.confirm"
    else:
        assert outcome.prompt.step == expected.step
    if expected.error is not None or not expected.changed:
        assert draft == before, f"{where}: the draft changed"
        assert not outcome.changed
    else:
        assert outcome.changed, f"{where}: not saved"
        assert draft.revision == before.revision + 1, f"{where}: revision"
        assert draft.updated_at == now


SELF_ROUTE: list[tuple[Reply, Expected]] = [
    (ChoiceReply("start"), At("for_whom")),
    (ChoiceReply("self"), At("full_name")),
    (TextReply("Ada Lovelace"), At("postcode")),
    (TextReply("st4 1hh"), At("address")),
    (TextReply("12 Example Road\nStoke-on-Trent"), At("phone")),
    (ContactReply("447911123456"), At("contact_by")),
    (ChoiceReply("email"), At("email")),
    (TextReply("ada@example.org"), At("date_of_birth")),
    (Skip(), At("category")),
    (ChoiceReply("housing"), At("organisation")),
    (TextReply("Stoke-on-Trent City Council"), At("their_reference")),
    (TextReply("HB/12345"), At("contacted_them")),
    (ChoiceReply("yes"), At("what_happened")),
    (TextReply("The council has not repaired the damp in my flat."), At("what_happened")),
    (FinishText("what_happened"), At("desired_outcome")),
    (TextReply("Ask the council to carry out the repair."), At("desired_outcome")),
    (FinishText("desired_outcome"), At("deadline")),
    (TextReply("1 December 2026"), At("attachments")),
    (AttachmentsDone(), At("consent")),
    (ChoiceReply("yes"), At("review")),
]
OTHER_ROUTE: list[tuple[Reply, Expected]] = [
    (ChoiceReply("start"), At("for_whom")),
    (ChoiceReply("other"), At("other_name")),
    (TextReply("Grace Hopper"), At("other_relationship")),
    (TextReply("Her neighbour"), At("other_agrees")),
    (ChoiceReply("yes"), At("full_name")),
    *SELF_ROUTE[2:7],
    (TextReply("ada@example.org"), At("helper_address")),
    (Skip(), At("date_of_birth")),
    *SELF_ROUTE[8:],
]
POLICY_ROUTE: list[tuple[Reply, Expected]] = [
    *SELF_ROUTE[:9],
    (ChoiceReply("policy_view"), At("policy_topic")),
    (TextReply("Bus services"), At("policy_view")),
    (TextReply("Keep the number 21 bus running on Sundays."), At("policy_view")),
    (FinishText("policy_view"), At("attachments")),
    (AttachmentsDone(), At("consent")),
    (ChoiceReply("no"), At("review")),
]


def reach(intake: Intake, step: str, route: Transcript = SELF_ROUTE) -> Draft:
    """Return the draft of someone who has followed ``route`` to ``step``."""
    for end, (_, expected) in enumerate(route, start=1):
        if isinstance(expected, At) and expected.step == step:
            outcome = play(intake, begin(intake), route[:end])
            assert isinstance(outcome, Ask)
            return outcome.draft
    if step == "welcome":
        return begin(intake)
    raise AssertionError(f"{step} is not on the route")


def stay(step: str, key: str, params: Mapping[str, str] | None = None) -> At:
    """Expect the person kept on ``step`` with the error ``key``."""
    return At(step, error=Msg(key, dict(params or {})))


# --- the whole intake ------------------------------------------------------------------


@pytest.mark.parametrize(
    "route", [SELF_ROUTE, OTHER_ROUTE, POLICY_ROUTE], ids=["self", "other", "policy"]
)
def test_an_intake_ends_with_send(intake: Intake, route: Transcript) -> None:
    outcome = play(intake, begin(intake), [*route, (Send(), FINISHED)])
    assert isinstance(outcome, Finished)
    assert outcome.draft.step == "review"


def test_the_finished_answers_are_the_normalised_ones(intake: Intake) -> None:
    outcome = play(intake, begin(intake), [*SELF_ROUTE, (Send(), FINISHED)])
    assert isinstance(outcome, Finished)
    values = {step: answer.value for step, answer in intake.answers(outcome.draft).items()}
    assert values == {
        "welcome": "start",
        "for_whom": "self",
        "full_name": "Ada Lovelace",
        "postcode": "ST4 1HH",
        "address": "12 Example Road, Stoke-on-Trent",
        "phone": "+447911123456",
        "email": "ada@example.org",
        "contact_by": "email",
        "date_of_birth": None,
        "category": "housing",
        "organisation": "Stoke-on-Trent City Council",
        "their_reference": "HB/12345",
        "contacted_them": "yes",
        "what_happened": "The council has not repaired the damp in my flat.",
        "desired_outcome": "Ask the council to carry out the repair.",
        "deadline": "2026-12-01",
        "attachments": "0",
        "consent": "yes",
    }
    postcode = outcome.draft.answers["postcode"]
    assert postcode.extra == {
        "constituency_code": CONSTITUENCY,
        "constituency_name": "Stoke-on-Trent Central",
    }


def test_begin_starts_at_the_first_step_with_the_profile(intake: Intake) -> None:
    ask = intake.begin(START, PROFILE)
    assert ask.draft.step == intake.flow.steps[0].id == "welcome"
    assert (ask.draft.revision, ask.draft.started_at, ask.draft.updated_at) == (0, START, START)
    assert ask.draft.profile == PROFILE
    assert (ask.draft.flow_id, ask.draft.flow_version) == (intake.flow.id, intake.flow.version)
    assert ask.prompt.text == Msg("question.welcome", {**PARAMS, "attachments": "0"})


def test_check_answers_lists_each_answer_and_offers_a_change_for_each(intake: Intake) -> None:
    draft = reach(intake, "review")
    prompt = intake.prompt(draft)
    rows = [row.step for row in prompt.summary]
    assert rows == [
        "for_whom",
        "full_name",
        "postcode",
        "address",
        "phone",
        "contact_by",
        "email",
        "date_of_birth",
        "category",
        *CASEWORK_ONLY,
        "attachments",
        "consent",
    ]
    values = {row.step: row.value for row in prompt.summary}
    assert values["full_name"] == "Ada Lovelace"
    assert values["category"] == Msg("category.housing")
    assert values["date_of_birth"] == Msg("summary.not_given")
    assert values["attachments"] == Msg("summary.attachments", {"count": "0"})
    actions = [button.action for line in prompt.buttons for button in line]
    # Send first; the answers to change are one tap away, not seventeen buttons here.
    assert actions == ["send", "chg", "back"]
    listed = intake.advance(draft, ShowChanges(show=True), START)
    assert isinstance(listed, Ask)
    assert not listed.changed
    changes = [button.action for line in listed.prompt.buttons for button in line]
    assert changes == [*(f"c.{step}" for step in rows), "rv"]


# --- validators ------------------------------------------------------------------------

TOO_LONG_2000 = "x" * 2001

VALIDATOR_ERRORS: list[tuple[str, str, str, str, dict[str, str]]] = [
    # (validator, step, typed, message key, params)
    ("full_name", "full_name", "   ", "error.full_name.empty", {}),
    ("person_name", "other_name", "12345", "error.person_name.no_letters", {}),
    ("relationship", "other_relationship", "r" * 61, "error.relationship.too_long",
     {"max": "60", "length": "61"}),
    ("address", "address", "1 Rd", "error.address.too_short", {"min": "5"}),
    ("phone", "phone", "call me", "error.phone.characters", {}),
    ("email", "email", "ada@", "error.email.invalid", {}),
    ("deadline_date", "deadline", "1 January 2020", "error.deadline_date.past", {}),
    ("date_of_birth", "date_of_birth", "1 January 2030", "error.date_of_birth.future", {}),
    # Long answers are gathered over messages and never refused for length (see below).
    ("short_text", "organisation", "o" * 201, "error.short_text.too_long",
     {"max": "200", "length": "201"}),
    ("short_text", "organisation", "!!!", "error.short_text.no_letters_or_digits", {}),
    ("free_text", "what_happened", "", "error.free_text.empty", {}),
    ("their_reference", "their_reference", "AB#12", "error.their_reference.characters", {}),
]  # fmt: skip


def test_the_validator_table_covers_every_validator() -> None:
    assert {row[0] for row in VALIDATOR_ERRORS} == set(VALIDATORS)


@pytest.mark.parametrize(
    ("validator", "step", "typed", "key", "params"),
    VALIDATOR_ERRORS,
    ids=[f"{row[0]}-{row[1]}" for row in VALIDATOR_ERRORS],
)
def test_a_rejected_answer_keeps_the_person_on_the_question(
    intake: Intake, validator: str, step: str, typed: str, key: str, params: dict[str, str]
) -> None:
    assert intake.flow.step(step).validator == validator
    draft = reach(intake, step, OTHER_ROUTE)
    outcome = play(intake, draft, [(TextReply(typed), stay(step, key, params))])
    assert isinstance(outcome, Ask)
    assert outcome.echo == typed
    assert step not in outcome.draft.answers


def test_the_dates_are_checked_against_the_time_passed_in(intake: Intake) -> None:
    draft = reach(intake, "deadline")
    year_later = draft.updated_at + timedelta(days=366)
    later = draft.model_copy(update={"updated_at": year_later})
    # "1 December 2026" is ahead on 23 November 2026, and past a year later.
    play(intake, draft, [(TextReply("1 December 2026"), At("attachments"))])
    play(
        intake,
        later,
        [(TextReply("1 December 2026"), stay("deadline", "error.deadline_date.past"))],
    )


# --- back ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("route", "at", "previous"),
    [
        (SELF_ROUTE, "postcode", "full_name"),
        (SELF_ROUTE, "full_name", "for_whom"),  # other_* do not apply
        (OTHER_ROUTE, "full_name", "other_agrees"),
        (SELF_ROUTE, "category", "date_of_birth"),  # a skipped question counts as answered
        (SELF_ROUTE, "attachments", "deadline"),
        (POLICY_ROUTE, "attachments", "policy_view"),  # organisation ... deadline do not apply
        (SELF_ROUTE, "review", "consent"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_back_goes_to_the_previous_question_that_applies(
    intake: Intake, route: Transcript, at: str, previous: str
) -> None:
    draft = reach(intake, at, route)
    outcome = play(intake, draft, [(Back(), At(previous))])
    assert isinstance(outcome, Ask)
    assert outcome.draft.answers == draft.answers


def test_back_at_the_first_question_says_so(intake: Intake) -> None:
    draft = begin(intake)
    outcome = play(
        intake, draft, [(Back(), At("welcome", notice=Msg("notice.at_start"), changed=False))]
    )
    assert isinstance(outcome, Ask)
    assert outcome.draft == draft
    assert not outcome.changed


def test_back_skips_questions_of_a_branch_no_longer_taken(intake: Intake) -> None:
    helping = reach(intake, "review", OTHER_ROUTE)
    outcome = play(
        intake,
        helping,
        [
            (Change("for_whom"), At("for_whom")),
            # Their postcode is not the writer's: switching back asks it (and the rest) again.
            (ChoiceReply("self"), At("postcode")),
        ],
    )
    assert isinstance(outcome, Ask)
    assert {"other_name", "other_agrees"} <= outcome.draft.answers.keys()
    at_name = outcome.draft.at("full_name", reviewing=False)
    play(intake, at_name, [(Back(), At("for_whom")), (Back(), At("welcome"))])


def test_back_then_forward_keeps_the_later_answers(intake: Intake) -> None:
    draft = reach(intake, "address")
    outcome = play(
        intake,
        draft,
        [(Back(), At("postcode")), (Back(), At("full_name")), (UseSuggestion(), At("postcode"))],
    )
    assert isinstance(outcome, Ask)
    assert outcome.draft.value("postcode") == "ST4 1HH"


# --- change from check-your-answers -----------------------------------------------------


def test_change_an_answer_returns_to_check_answers(intake: Intake) -> None:
    outcome = play(
        intake,
        reach(intake, "review"),
        [
            (Change("full_name"), At("full_name")),
            (TextReply("Ada King"), At("review")),
            (Change("category"), At("category")),
            (ChoiceReply("benefits"), At("review")),
            (Send(), FINISHED),
        ],
    )
    assert isinstance(outcome, Finished)
    assert outcome.draft.value("full_name") == "Ada King"
    assert outcome.draft.value("category") == "benefits"
    assert outcome.draft.value("organisation") == "Stoke-on-Trent City Council"


def test_back_while_changing_returns_to_check_answers(intake: Intake) -> None:
    draft = reach(intake, "review")
    play(intake, draft, [(Change("email"), At("email")), (Back(), At("review"))])


def test_changing_to_helping_someone_else_asks_the_new_questions(intake: Intake) -> None:
    outcome = play(
        intake,
        reach(intake, "review"),
        [
            (Change("for_whom"), At("for_whom")),
            (ChoiceReply("other"), At("other_name")),
            (TextReply("Grace Hopper"), At("other_relationship")),
            (TextReply("Her neighbour"), At("other_agrees")),
            (ChoiceReply("unable"), At("other_authority")),
            (ChoiceReply("parent"), At("postcode")),
            (TextReply("ST4 1HH"), At("address")),
            (TextReply("3 Other Road, Stoke-on-Trent"), At("helper_address")),
            (TextReply("1 Far Lane, Leeds LS1 1AA"), At("date_of_birth")),
            (TextReply("1 2 2015"), At("review")),
        ],
    )
    assert isinstance(outcome, Ask)
    rows = [row.step for row in outcome.prompt.summary]
    assert rows[:6] == [
        "for_whom",
        "other_name",
        "other_relationship",
        "other_agrees",
        "other_authority",
        "full_name",
    ]
    labels = {row.step: row.label.key for row in outcome.prompt.summary}
    assert labels["postcode"] == "label.postcode.someone_else"
    assert intake.answers(outcome.draft)["other_authority"].value == "parent"


def test_changing_to_a_policy_view_drops_the_casework_questions(intake: Intake) -> None:
    outcome = play(
        intake,
        reach(intake, "review"),
        [
            (Change("category"), At("category")),
            (ChoiceReply("policy_view"), At("policy_topic")),
            (TextReply("Bus services"), At("policy_view")),
            (TextReply("Keep the Sunday buses."), At("policy_view")),
            (FinishText("policy_view"), At("review")),
        ],
    )
    assert isinstance(outcome, Ask)
    answers = intake.answers(outcome.draft)
    rows = {row.step for row in intake.summary(outcome.draft)}
    for step in CASEWORK_ONLY:
        assert step in outcome.draft.answers  # kept, in case they change back
        assert step not in answers
        assert step not in rows
    assert answers["policy_topic"].value == "Bus services"
    assert {"policy_topic", "policy_view"} <= rows
    play(intake, outcome.draft, [(Change("organisation"), stay("review", "error.change.not_now"))])


def test_send_asks_a_question_left_unanswered_by_an_abandoned_change(intake: Intake) -> None:
    abandoned = play(
        intake,
        reach(intake, "review"),
        [
            (Change("for_whom"), At("for_whom")),
            (ChoiceReply("other"), At("other_name")),
            (Back(), At("review")),
        ],
    )
    assert isinstance(abandoned, Ask)
    outcome = play(
        intake,
        abandoned.draft,
        [
            (Send(), At("other_name")),
            (TextReply("Grace Hopper"), At("other_relationship")),
            (TextReply("Her neighbour"), At("other_agrees")),
            (ChoiceReply("yes"), At("postcode")),
            (TextReply("ST4 1HH"), At("address")),
            (TextReply("3 Other Road, Stoke-on-Trent"), At("helper_address")),
            (Skip(), At("date_of_birth")),
            (Skip(), At("review")),
            (Send(), FINISHED),
        ],
    )
    assert isinstance(outcome, Finished)


@pytest.mark.parametrize(
    ("at", "target"),
    [
        ("postcode", "full_name"),  # not on check-your-answers
        ("full_name", "full_name"),
        ("review", "welcome"),  # not a listed answer
        ("review", "other_name"),  # does not apply
        ("review", "no_such_step"),
    ],
)
def test_change_is_refused_except_for_a_listed_answer(intake: Intake, at: str, target: str) -> None:
    draft = reach(intake, at)
    play(intake, draft, [(Change(target), stay(at, "error.change.not_now"))])


# --- cancel ----------------------------------------------------------------------------


@pytest.mark.parametrize("at", ["welcome", "address", "consent", "review"])
def test_cancel_asks_first_then_ends(intake: Intake, at: str) -> None:
    draft = reach(intake, at)
    outcome = play(
        intake,
        draft,
        [
            (Cancel(), At(at, cancelling=True)),
            (TextReply("what?"), At(at, error=Msg("error.cancel.use_buttons"), cancelling=True)),
            (ConfirmCancel(confirmed=True), Stopped("cancelled")),
        ],
    )
    assert isinstance(outcome, Ended)
    assert outcome.message == Msg("cancel.done", PARAMS)


@pytest.mark.parametrize("keep", [ConfirmCancel(confirmed=False), Back(), Cancel()])
def test_not_cancelling_returns_to_the_same_question(intake: Intake, keep: Reply) -> None:
    draft = reach(intake, "address")
    outcome = play(
        intake,
        draft,
        [
            (Cancel(), At("address", cancelling=True)),
            (keep, At("address", notice=Msg("notice.cancel_kept"))),
            (TextReply("12 Example Road, Stoke"), At("phone")),
        ],
    )
    assert isinstance(outcome, Ask)
    assert outcome.draft.value("full_name") == "Ada Lovelace"


# --- postcodes -------------------------------------------------------------------------


def test_a_postcode_elsewhere_ends_the_intake_naming_the_constituency(intake: Intake) -> None:
    draft = reach(intake, "postcode")
    expected = Stopped(
        "out_of_area", {"constituency": "Stoke-on-Trent North", "mp_name": "Jo Example"}
    )
    outcome = play(
        intake,
        draft,
        [
            (TextReply("ST6 1AA"), At("postcode")),
            (ConfirmPostcode(confirmed=True), expected),
        ],
    )
    assert isinstance(outcome, Ended)
    assert outcome.message.key == "postcode.other_constituency"


def test_a_postcode_elsewhere_asks_first_and_no_keeps_every_answer(intake: Intake) -> None:
    draft = reach(intake, "postcode")
    asked = play(intake, draft, [(TextReply("ST6 1AA"), At("postcode"))])
    assert isinstance(asked, Ask)
    assert asked.prompt.text.key == "postcode.confirm_other"
    assert asked.prompt.text.params["elsewhere"] == "Stoke-on-Trent North"
    actions = [b.action for row in asked.prompt.buttons for b in row]
    assert actions == ["pc.yes", "pc.no"]
    outcome = play(
        intake,
        asked.draft,
        [
            (OtherReply("sticker"), stay("postcode", "error.postcode.confirm")),
            (ConfirmPostcode(confirmed=False), At("postcode")),
            (TextReply("ST4 1HH"), At("address")),
        ],
    )
    assert isinstance(outcome, Ask)
    assert outcome.draft.value("full_name") == "Ada Lovelace"
    assert outcome.draft.pending_postcode is None


def test_a_postcode_not_in_the_data_twice_may_be_sent_unchecked(intake: Intake) -> None:
    draft = reach(intake, "postcode")
    params = {**PARAMS, "postcode": "ST4 1ZZ"}
    outcome = intake.advance(draft, TextReply("ST4 1ZZ"), START)
    assert isinstance(outcome, Ask)
    assert outcome.error == Msg("postcode.not_found", params)
    assert [b.action for row in outcome.prompt.buttons for b in row] == ["back"]
    again = intake.advance(outcome.draft, TextReply("st41zz"), START)
    assert isinstance(again, Ask)
    assert again.error == Msg("postcode.not_found_again", params)
    assert again.prompt.buttons[0][0].action == "pc.yes"
    sent = intake.advance(again.draft, ConfirmPostcode(confirmed=True), START)
    assert isinstance(sent, Ask)
    assert sent.draft.step == "address"
    assert sent.draft.answers["postcode"].extra["verified"] == "no"


def test_a_look_alike_slip_in_a_postcode_is_offered_its_correction(intake: Intake) -> None:
    draft = reach(intake, "postcode")
    outcome = intake.advance(draft, TextReply(" ST4 IHH "), START)
    assert isinstance(outcome, Ask)
    assert outcome.error is not None
    assert outcome.error.key == "postcode.did_you_mean"
    assert outcome.error.params["suggestion"] == "ST4 1HH"
    taken = intake.advance(outcome.draft, TakeSuggestion(accepted=True), START)
    assert isinstance(taken, Ask)
    assert (taken.draft.step, taken.draft.value("postcode")) == ("address", "ST4 1HH")


POSTCODE_REFUSALS = [
    ("ST4 1ZZ", PostcodeStatus.NOT_FOUND, "ST4 1ZZ"),
    ("SE1 9ZZ", PostcodeStatus.TERMINATED, "SE1 9ZZ"),
    ("je2 4wd", PostcodeStatus.CROWN_DEPENDENCY, "JE2 4WD"),
    ("BT7 1NN", PostcodeStatus.NORTHERN_IRELAND, "BT7 1NN"),
    ("GIR 0AA", PostcodeStatus.SPECIAL, "GIR 0AA"),
    ("BFPO 1234", PostcodeStatus.SPECIAL, "BFPO 1234"),
    ("FIQQ 1ZZ", PostcodeStatus.OVERSEAS_TERRITORY, "FIQQ 1ZZ"),
    ("ZZ99 3VZ", PostcodeStatus.PSEUDO, "ZZ99 3VZ"),
    (" ST4 IHX ", PostcodeStatus.INVALID_FORMAT, "ST4 IHX"),
    ("SE1P 6AD", PostcodeStatus.LIVE, "SE1P 6AD"),  # listed, but in no constituency
]


def test_the_postcode_table_covers_every_status() -> None:
    assert {row[1] for row in POSTCODE_REFUSALS} == set(PostcodeStatus)


@pytest.mark.parametrize(("typed", "status", "shown"), POSTCODE_REFUSALS, ids=lambda v: str(v))
def test_a_postcode_we_cannot_use_gets_its_own_answer(
    intake: Intake, typed: str, status: PostcodeStatus, shown: str
) -> None:
    draft = reach(intake, "postcode")
    error = Msg(f"postcode.{status.value}", {**PARAMS, "postcode": shown})
    outcome = intake.advance(draft, TextReply(typed), START)
    assert isinstance(outcome, Ask)
    assert (outcome.draft.step, outcome.error) == ("postcode", error)
    # A postcode we cannot place counts as a try (a second is offered a way on).
    counted = status in {PostcodeStatus.NOT_FOUND, PostcodeStatus.LIVE}
    assert outcome.draft.postcode_misses == (1 if counted else 0)


# --- revision, attachments, unusable replies --------------------------------------------


def test_the_revision_counts_accepted_changes_only(intake: Intake) -> None:
    draft = begin(intake)
    revisions = [draft.revision]
    outcome: Outcome = Ask(draft, intake.prompt(draft))
    for reply, _ in SELF_ROUTE[:4]:
        for refused in (TextReply(""), OtherReply("sticker")):
            assert isinstance(outcome, Ask)
            again = intake.advance(outcome.draft, refused, START)
            assert isinstance(again, Ask)
            assert again.error is not None
            assert again.draft.revision == outcome.draft.revision
        assert isinstance(outcome, Ask)
        outcome = intake.advance(outcome.draft, reply, START)
        assert isinstance(outcome, Ask)
        revisions.append(outcome.draft.revision)
    assert revisions == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(
    "at", ["welcome", "full_name", "postcode", "category", "attachments", "review"]
)
def test_a_file_is_kept_at_any_question(intake: Intake, at: str) -> None:
    draft = reach(intake, at)
    saved = At(at, notice=Msg("notice.attachment_saved", {"count": "1"}))
    second = LETTER.model_copy(update={"file_id": "photo-2"})
    outcome = play(
        intake,
        draft,
        [
            (FileReply(LETTER), saved),
            (FileReply(second), At(at, notice=Msg("notice.attachment_saved", {"count": "2"}))),
        ],
    )
    assert isinstance(outcome, Ask)
    assert outcome.draft.attachments == [*draft.attachments, LETTER, second]
    assert outcome.draft.answers == draft.answers


def test_attachments_are_counted_when_the_person_has_finished(intake: Intake) -> None:
    draft = reach(intake, "attachments")
    outcome = play(
        intake,
        draft,
        [
            (TextReply("here it is"), stay("attachments", "error.attachments.expected")),
            (
                FileReply(LETTER),
                At("attachments", notice=Msg("notice.attachment_saved", {"count": "1"})),
            ),
            (AttachmentsDone(), At("consent")),
        ],
    )
    assert isinstance(outcome, Ask)
    assert outcome.draft.value("attachments") == "1"
    summary = {row.step: row.value for row in intake.summary(outcome.draft)}
    assert summary["attachments"] == Msg("summary.attachments", {"count": "1"})


UNUSABLE = [
    ("welcome", StepKind.NOTICE),
    ("for_whom", StepKind.CHOICE),
    ("full_name", StepKind.TEXT),
    ("phone", StepKind.PHONE),
    ("postcode", StepKind.POSTCODE),
    ("attachments", StepKind.ATTACHMENTS),
    ("consent", StepKind.CONSENT),
    ("review", StepKind.REVIEW),
]


def test_the_unusable_table_covers_every_kind() -> None:
    assert {kind for _, kind in UNUSABLE} == set(StepKind)


@pytest.mark.parametrize(("at", "kind"), UNUSABLE, ids=[row[0] for row in UNUSABLE])
def test_something_unusable_says_what_the_question_needs(
    intake: Intake, at: str, kind: StepKind
) -> None:
    assert intake.flow.step(at).kind is kind
    draft = reach(intake, at)
    error = Msg(f"error.unusable.{kind.value}", {"what": "sticker"})
    play(intake, draft, [(OtherReply("sticker"), At(at, error=error))])


# --- suggestion, skip, consent ---------------------------------------------------------


def test_the_telegram_name_is_offered_and_fills_the_full_name(intake: Intake) -> None:
    draft = reach(intake, "full_name")
    prompt = intake.prompt(draft)
    assert prompt.buttons[0][0].label == "Ada Lovelace"
    assert prompt.buttons[0][0].action == "suggest"
    outcome = play(intake, draft, [(UseSuggestion(), At("postcode"))])
    assert isinstance(outcome, Ask)
    assert outcome.draft.value("full_name") == "Ada Lovelace"


@pytest.mark.parametrize(
    ("profile", "at", "expected"),
    [
        ({}, "full_name", stay("full_name", "error.unusable.text", {"what": "button"})),
        ({"telegram_name": "🙂"}, "full_name", stay("full_name", "error.full_name.no_letters")),
        (PROFILE, "address", stay("address", "error.unusable.text", {"what": "button"})),
    ],
    ids=["no-name", "emoji-name", "no-suggestion-here"],
)
def test_a_suggestion_that_cannot_be_used_is_refused(
    intake: Intake, profile: dict[str, str], at: str, expected: At
) -> None:
    draft = reach(intake, at).model_copy(update={"profile": profile})
    play(intake, draft, [(UseSuggestion(), expected)])


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        ("welcome", stay("welcome", "error.notice.use_buttons")),
        ("for_whom", stay("for_whom", "error.choice.use_buttons")),
        ("full_name", stay("full_name", "error.unusable.text", {"what": "button"})),
        ("postcode", stay("postcode", "error.unusable.postcode", {"what": "button"})),
        ("phone", stay("phone", "error.unusable.phone", {"what": "button"})),
        ("consent", stay("consent", "error.consent.use_buttons")),
        ("review", stay("review", "error.review.use_buttons")),
    ],
)
def test_skip_is_refused_on_a_question_that_needs_an_answer(
    intake: Intake, at: str, expected: At
) -> None:
    assert not intake.flow.step(at).optional
    play(intake, reach(intake, at), [(Skip(), expected)])


@pytest.mark.parametrize(
    ("at", "following"),
    [
        ("date_of_birth", "category"),
        ("their_reference", "contacted_them"),
        ("deadline", "attachments"),
    ],
)
def test_skip_leaves_an_optional_question_unanswered(
    intake: Intake, at: str, following: str
) -> None:
    outcome = play(intake, reach(intake, at), [(Skip(), At(following))])
    assert isinstance(outcome, Ask)
    assert at in outcome.draft.answers
    assert outcome.draft.value(at) is None


@pytest.mark.parametrize("answer", ["yes", "no"])
def test_consent_records_the_wording_version(intake: Intake, answer: str) -> None:
    version = intake.flow.step("consent").version
    assert version
    draft = reach(intake, "consent")
    outcome = play(
        intake,
        draft,
        [
            (TextReply("yes"), stay("consent", "error.consent.use_buttons")),
            (ChoiceReply("maybe"), stay("consent", "error.consent.use_buttons")),
            (ChoiceReply(answer), At("review")),
        ],
    )
    assert isinstance(outcome, Ask)
    consent = outcome.draft.answers["consent"]
    assert (consent.value, consent.extra) == (answer, {"version": version})
    assert consent.answered_at == outcome.draft.updated_at


def test_only_consent_answers_record_a_version(intake: Intake) -> None:
    outcome = play(intake, begin(intake), SELF_ROUTE)
    assert isinstance(outcome, Ask)
    with_extra = {step for step, answer in outcome.draft.answers.items() if answer.extra}
    assert with_extra == {"consent", "postcode"}


# --- the flow changed under a draft ----------------------------------------------------

FLOW_CHANGED = Msg("intake.flow_changed")
# The rest of SELF_ROUTE in the edited flow, from the renamed question on.
EDITED_REST: list[tuple[Reply, Expected]] = [
    (ChoiceReply("yes"), At("what_happened")),
    (TextReply("The council has not repaired the damp in my flat."), At("what_happened")),
    (FinishText("what_happened"), At("desired_outcome")),
    (TextReply("Ask the council to carry out the repair."), At("desired_outcome")),
    (FinishText("desired_outcome"), At("deadline")),
    (TextReply("1 December 2026"), At("attachments")),
    (AttachmentsDone(), At("consent")),
    (ChoiceReply("yes"), At("review")),
    (Send(), FINISHED),
]


def edited(intake: Intake, change: Callable[[dict[str, Any]], None]) -> Intake:
    """Return the intake with a copy of its flow edited by ``change``, checked as at load."""
    data = yaml.safe_load((FLOWS_DIR / "intake.yaml").read_text("utf-8"))
    data["version"] += 1
    change(data)
    flow = flow_from_data(data)
    catalogue = load_catalogue(FLOWS_DIR / "locales")
    check_flow(flow, catalogue, VALIDATORS, required_texts(), ROLES)
    return Intake(flow, intake.postcodes, CONSTITUENCY, VALIDATORS, PARAMS)


def flow_step(data: dict[str, Any], step_id: str) -> dict[str, Any]:
    """Return one step of parsed flow data, to change it in place."""
    found: dict[str, Any] = next(s for s in data["steps"] if s["id"] == step_id)
    return found


def _rename_and_remove(data: dict[str, Any]) -> None:
    flow_step(data, "contacted_them")["id"] = "contacted_org"
    data["steps"].remove(flow_step(data, "their_reference"))


@pytest.fixture(scope="module")
def edited_intake(intake: Intake) -> Intake:
    """Return the intake after the office renamed 'contacted_them' and removed 'their_reference'."""
    return edited(intake, _rename_and_remove)


def kept(draft: Draft, *gone: str) -> dict[str, str | None]:
    """Return a draft's answers as values, without those to the steps ``gone``."""
    return {step: answer.value for step, answer in draft.answers.items() if step not in gone}


def values(draft: Draft) -> dict[str, str | None]:
    """Return a draft's answers as values."""
    return kept(draft)


def test_a_draft_at_a_renamed_question_is_asked_the_new_one(
    intake: Intake, edited_intake: Intake
) -> None:
    draft = reach(intake, "contacted_them")
    outcome = play(
        edited_intake,
        draft,
        [(ChoiceReply("yes"), At("contacted_org", notice=FLOW_CHANGED)), *EDITED_REST],
    )
    assert isinstance(outcome, Finished)
    assert outcome.draft.flow_version == edited_intake.flow.version
    answers = edited_intake.answers(outcome.draft)
    assert answers["contacted_org"].value == "yes"
    assert "their_reference" not in answers
    assert "contacted_them" not in answers
    assert kept(draft, "their_reference").items() <= values(outcome.draft).items()


def test_a_draft_before_the_changes_carries_on_without_a_notice(
    intake: Intake, edited_intake: Intake
) -> None:
    draft = reach(intake, "organisation")
    outcome = play(
        edited_intake,
        draft,
        [(TextReply("Stoke-on-Trent City Council"), At("contacted_org")), *EDITED_REST],
    )
    assert isinstance(outcome, Finished)
    assert kept(draft).items() <= values(outcome.draft).items()
    assert outcome.draft.value("organisation") == "Stoke-on-Trent City Council"


def test_a_draft_at_check_answers_is_asked_only_the_new_question(
    intake: Intake, edited_intake: Intake
) -> None:
    draft = reach(intake, "review")
    outcome = play(
        edited_intake,
        draft,
        [
            (Send(), At("contacted_org", notice=FLOW_CHANGED)),
            (ChoiceReply("no"), At("review")),
            (Send(), FINISHED),
        ],
    )
    assert isinstance(outcome, Finished)
    assert values(outcome.draft) == {
        **kept(draft, "their_reference", "contacted_them"),
        "contacted_org": "no",
    }


def test_a_draft_at_a_removed_question_goes_on_to_the_next(
    intake: Intake, edited_intake: Intake
) -> None:
    draft = reach(intake, "their_reference")
    assert edited_intake.prompt(draft).step == "contacted_org"
    # "HB/12345" answered the removed question: it is not taken as the answer to another.
    outcome = play(
        edited_intake,
        draft,
        [(TextReply("HB/12345"), At("contacted_org", notice=FLOW_CHANGED)), *EDITED_REST],
    )
    assert isinstance(outcome, Finished)
    assert kept(draft).items() <= values(outcome.draft).items()


@pytest.mark.parametrize("at", ["welcome", "postcode", "their_reference", "contacted_them"])
def test_a_changed_flow_is_taken_up_once(intake: Intake, edited_intake: Intake, at: str) -> None:
    draft = reach(intake, at)
    fitted = edited_intake.reconcile(draft)
    assert fitted is not None
    assert fitted.flow_version == edited_intake.flow.version
    assert edited_intake.reconcile(fitted) is fitted
    assert intake.reconcile(draft) is draft  # a draft that fits is used as it is


def test_a_draft_is_fitted_to_a_flow_once_and_cannot_change_after(
    intake: Intake, edited_intake: Intake, monkeypatch: pytest.MonkeyPatch
) -> None:
    draft = reach(intake, "their_reference")  # checked as its question was shown
    checks: list[Draft] = []

    def counted(flow: Flow, checked: Draft, applies: Applies) -> Draft | None:
        checks.append(checked)
        return reconcile(flow, checked, applies)

    monkeypatch.setattr(engine, "reconcile", counted)
    assert intake.reconcile(draft) is draft
    assert isinstance(intake.advance(draft, TextReply("HB/12345"), START), Ask)
    # Another flow checks it for itself.
    assert edited_intake.reconcile(draft) is not draft
    assert checks.count(draft) == 1
    with pytest.raises(ValidationError):
        draft.step = "postcode"  # type: ignore[misc]


def test_the_answers_of_a_changed_draft_are_those_the_flow_still_has(
    intake: Intake, edited_intake: Intake
) -> None:
    draft = reach(intake, "review")
    answers = edited_intake.answers(draft)
    assert answers.keys() == intake.answers(draft).keys() - {"their_reference", "contacted_them"}


def _no_housing(data: dict[str, Any]) -> None:
    category = flow_step(data, "category")
    category["options"] = [o for o in category["options"] if o["value"] != "housing"]


def _new_consent_wording(data: dict[str, Any]) -> None:
    flow_step(data, "consent")["version"] = "2027-01-v2"


def _email_required(data: dict[str, Any]) -> None:
    flow_step(data, "email")["optional"] = False
    del flow_step(data, "email")["required_when"]


def _shorter_account(data: dict[str, Any]) -> None:
    flow_step(data, "what_happened")["max_length"] = 20


CHANGED_ANSWERS = [
    (_no_housing, "category", ChoiceReply("council")),
    (_new_consent_wording, "consent", ChoiceReply("yes")),
    (_email_required, "email", TextReply("ada@example.org")),
    (_shorter_account, "what_happened", TextReply("Damp in my flat.")),
]
FINISHED_WITH = {"what_happened": FinishText("what_happened")}


@pytest.mark.parametrize(
    ("change", "asked", "answer"),
    CHANGED_ANSWERS,
    ids=[change.__name__.strip("_") for change, *_ in CHANGED_ANSWERS],
)
def test_an_answer_the_question_no_longer_takes_is_asked_again(
    intake: Intake,
    change: Callable[[dict[str, Any]], None],
    asked: str,
    answer: Reply,
) -> None:
    changed = edited(intake, change)
    draft = reach(intake, "review")
    if asked == "email":  # skipped, which the question no longer allows
        draft = draft.with_answers(
            {**draft.answers, "email": Answer(value=None, answered_at=START)}
        )
    finish = FINISHED_WITH.get(asked)
    answered = [(answer, At(asked)), (finish, At("review"))] if finish else [(answer, At("review"))]
    outcome = play(
        changed,
        draft,
        [(Send(), At(asked, notice=FLOW_CHANGED)), *answered, (Send(), FINISHED)],
    )
    assert isinstance(outcome, Finished)
    assert kept(draft, asked).items() <= values(outcome.draft).items()


def test_a_rejected_reply_still_moves_the_draft_to_the_new_flow(
    intake: Intake, edited_intake: Intake
) -> None:
    draft = reach(intake, "organisation")
    outcome = edited_intake.advance(draft, TextReply(""), START + timedelta(hours=1))
    assert isinstance(outcome, Ask)
    assert outcome.error == Msg("error.short_text.empty")
    assert outcome.notice is None
    assert outcome.changed
    assert (outcome.draft.step, outcome.draft.flow_version) == ("organisation", 2)


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (Cancel(), At("contacted_org", cancelling=True)),
        (
            FileReply(LETTER),
            At("contacted_org", notice=Msg("notice.attachment_saved", {"count": "1"})),
        ),
        (Back(), At("contacted_org", notice=FLOW_CHANGED)),
    ],
    ids=["cancel", "file", "back"],
)
def test_a_reply_to_no_one_question_is_used_after_a_change(
    intake: Intake, edited_intake: Intake, reply: Reply, expected: At
) -> None:
    draft = reach(intake, "contacted_them")
    play(edited_intake, draft, [(reply, expected)])


def test_cancelling_is_answered_after_a_change(intake: Intake, edited_intake: Intake) -> None:
    draft = reach(intake, "contacted_them").cancelling(asked=True)
    play(edited_intake, draft, [(ConfirmCancel(confirmed=True), Stopped("cancelled"))])
    play(
        edited_intake,
        draft,
        [(ConfirmCancel(confirmed=False), At("contacted_org", notice=Msg("notice.cancel_kept")))],
    )


def test_a_draft_of_another_flow_starts_again_saying_so(intake: Intake) -> None:
    other = edited(intake, lambda data: data.update(id="casework"))
    draft = reach(intake, "category")
    assert other.prompt(draft).step == "welcome"
    outcome = other.advance(draft, ChoiceReply("housing"), START + timedelta(hours=1))
    assert isinstance(outcome, Ask)
    assert outcome.notice == Msg("intake.flow_restarted")
    fresh = outcome.draft
    assert (fresh.flow_id, fresh.step, fresh.answers) == ("casework", "welcome", {})
    assert fresh.revision == draft.revision + 1
    assert fresh.profile == draft.profile
    assert other.answers(draft) == {}


def test_answers_carried_into_a_new_intake_must_fit_the_flow(intake: Intake) -> None:
    prefill = {
        "contact_by": Answer(value="post", answered_at=START),
        "full_name": Answer(value="Ada Lovelace", answered_at=START),
    }
    no_post = edited(
        intake,
        lambda data: flow_step(data, "contact_by")["options"].pop(),  # "post" is last
    )
    draft = no_post.begin(START, PROFILE, prefill).draft
    assert draft.answers.keys() == {"full_name"}
    assert draft.prefilled


def test_resuming_a_changed_draft_shows_the_new_question_and_takes_its_answer(
    intake: Intake, edited_intake: Intake
) -> None:
    draft = reach(intake, "their_reference")
    resumed = edited_intake.resume(draft, START + timedelta(hours=1))
    assert (resumed.draft.step, resumed.notice, resumed.changed) == (
        "contacted_org",
        FLOW_CHANGED,
        True,
    )
    assert resumed.draft.revision == draft.revision + 1
    # Saved as resumed, the next reply answers the question then shown.
    play(edited_intake, resumed.draft, [(ChoiceReply("yes"), At("what_happened"))])


def test_resuming_a_draft_that_fits_changes_nothing(intake: Intake) -> None:
    draft = reach(intake, "postcode")
    resumed = intake.resume(draft, START + timedelta(hours=1))
    assert (resumed.draft, resumed.notice, resumed.changed) == (draft, None, False)
    assert resumed.prompt == intake.prompt(draft)


def test_resuming_a_draft_of_another_flow_starts_again(intake: Intake) -> None:
    other = edited(intake, lambda data: data.update(id="casework"))
    resumed = other.resume(reach(intake, "category"), START)
    assert (resumed.draft.step, resumed.notice) == ("welcome", Msg("intake.flow_restarted"))
