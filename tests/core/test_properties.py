"""Property-based tests: hostile input never breaks the validators, the engine or the parsers.

Inputs are arbitrary Unicode (surrogates excluded, as Python requires), messages of 4,096
characters, control, zero-width and bidi characters, right-to-left text, emoji (with ZWJ
sequences), and HTML and Markdown specials.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from support.office import PARAMS

from bot.core.catalogue import Catalogue, Msg, placeholders
from bot.core.draft import Attachment, Draft
from bot.core.engine import Ask, Ended, Finished, Intake, Outcome
from bot.core.flow import Step, StepKind
from bot.core.postcodes import PostcodeCheck, PostcodeStatus, is_valid_format, normalise
from bot.core.reconcile import reconcile
from bot.core.references import REFERENCE_SPACE, make_reference, parse_reference
from bot.core.replies import (
    AttachmentsDone,
    Back,
    Cancel,
    Change,
    ChoiceReply,
    ConfirmCancel,
    ContactReply,
    FileReply,
    FinishText,
    OtherReply,
    Reply,
    Send,
    Skip,
    TextReply,
    UseSuggestion,
)
from bot.core.text import clean_text
from bot.core.validators import (
    MESSAGES,
    VALIDATORS,
    Accepted,
    Rejected,
    ValidationContext,
)
from bot.loading import FLOWS_DIR, load_catalogue, load_flow
from bot.storage.postcode_index import load_postcode_checker

CONSTITUENCY = "E14001520"
START = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
TELEGRAM_LIMIT = 4096

# Examples per property come from the Hypothesis profile (tests/conftest.py: "ci" 100,
# "thorough" 1,000). An example that walks a whole intake, up to 40 replies, costs as much
# as dozens of single checks, so those run a quarter of the profile's count.
EXAMPLES = settings().max_examples
WALKS = max(10, EXAMPLES // 4)

# --- hostile text ----------------------------------------------------------------------

CONTROLS = [chr(c) for c in (*range(0x20), *range(0x7F, 0xA0))]
ZERO_WIDTH = [chr(c) for c in range(0x200B, 0x2010)] + ["\u2060", "\ufeff"]
BIDI = [*"\u202a\u202b\u202c\u202d\u202e", *"\u2066\u2067\u2068\u2069", "\u061c"]
LINE_SEPARATORS = ["\u2028", "\u2029", "\r\n", "\r"]
RIGHT_TO_LEFT = ["مرحبا بالعالم", "محمد عبد الله", "שלום עולם", "דוד כהן", "١٢٣", "٣ ١٢ ١٩٨٥"]
EMOJI = ["🙂", "👨‍👩‍👧‍👦", "🏳️‍🌈", "👩🏽‍💻", "🇬🇧", "🏴󠁧󠁢󠁷󠁬󠁳󠁿", "❤️", "1️⃣"]
MARKUP = [
    *"<>&\"'`*_[]()~|#",
    "<b>",
    "</b>",
    "<i>x</i>",
    "<a href='x'>",
    "&amp;",
    "&lt;",
    "**",
    "`",
]
PIECES = [*CONTROLS, *ZERO_WIDTH, *BIDI, *LINE_SEPARATORS, *RIGHT_TO_LEFT, *EMOJI, *MARKUP]

# Characters no stored answer may contain: controls (a newline only in free text), zero-width
# characters and bidi controls.
HIDDEN = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e"
    "\u2060\u2066-\u2069\ufeff]"
)

any_character = st.characters(exclude_categories=["Cs"])
any_text = st.text(any_character, max_size=60)
hostile_pieces = st.lists(
    st.one_of(st.sampled_from(PIECES), any_text, st.sampled_from(["a", "Z", "1", " ", "\n"])),
    max_size=25,
).map("".join)


@st.composite
def long_texts(draw: st.DrawFn) -> str:
    """Return a message of 1,000 to 4,096 characters built by repeating hostile pieces."""
    pieces = draw(st.lists(st.sampled_from([*PIECES, "a", "word ", "\n"]), min_size=1, max_size=6))
    length = draw(st.sampled_from([1000, 2000, 2001, 4000, TELEGRAM_LIMIT]))
    unit = "".join(pieces)
    return (unit * (length // len(unit) + 1))[:length]


messages = st.one_of(
    st.text(any_character, max_size=200),
    hostile_pieces,
    long_texts(),
    st.text(any_character, min_size=TELEGRAM_LIMIT - 10, max_size=TELEGRAM_LIMIT),
)
todays = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))


# --- shared checks ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    """Return the shipped English catalogue."""
    return load_catalogue(FLOWS_DIR / "locales")


@pytest.fixture(scope="module")
def intake(catalogue: Catalogue) -> Intake:
    """Return Stoke-on-Trent Central's intake with the shipped flow and postcode data."""
    flow = load_flow(FLOWS_DIR / "intake.yaml", catalogue)
    return Intake(flow, load_postcode_checker(), CONSTITUENCY, VALIDATORS, PARAMS)


def assert_renders(catalogue: Catalogue, msg: Msg) -> str:
    """Assert msg names a catalogue text whose placeholders it all fills; return the HTML."""
    assert msg.key in catalogue, f"no catalogue text {msg.key!r}"
    missing = placeholders(catalogue.raw(msg.key)) - set(msg.params)
    assert not missing, f"{msg.key!r} leaves {missing} unfilled"
    for value in msg.params.values():
        if isinstance(value, Msg):
            assert_renders(catalogue, value)
    return catalogue.render(msg, lambda text: html.escape(text, quote=False))


def assert_clean(value: str, *, multiline: bool) -> None:
    """Assert a stored value has no hidden characters, and no newline unless it may."""
    assert not HIDDEN.search(value), f"hidden character stored: {value!r}"
    assert multiline or "\n" not in value, f"newline stored: {value!r}"
    assert value == value.strip()


def assert_draft_clean(draft: Draft) -> None:
    """Assert nothing stored in the draft carries hidden characters."""
    for answer in draft.answers.values():
        if answer.value is not None:
            assert_clean(answer.value, multiline=True)
        for extra in answer.extra.values():
            assert_clean(extra, multiline=False)
    for attachment in draft.attachments:
        for typed in (attachment.caption, attachment.file_name):
            if typed is not None:
                assert_clean(typed, multiline=True)


# --- validators ------------------------------------------------------------------------


@settings(deadline=None)
@example(name="address", text="000A\u200e", max_length=None, today=date(2000, 1, 1))
@given(
    name=st.sampled_from(sorted(VALIDATORS)),
    text=messages,
    max_length=st.none() | st.integers(1, 4000),
    today=todays,
)
def test_no_validator_raises_and_every_refusal_renders(
    catalogue: Catalogue, name: str, text: str, max_length: int | None, today: date
) -> None:
    result = VALIDATORS[name](text, ValidationContext(today=today, max_length=max_length))
    assert isinstance(result, Accepted | Rejected)
    if isinstance(result, Rejected):
        assert result.message in MESSAGES
        assert_renders(catalogue, Msg(result.message, dict(result.params)))
    else:
        assert result.value
        assert_clean(result.value, multiline=name == "free_text")


# (validator, the limit a step sets or the validator's own)
TEXT_LIMITS = [
    ("full_name", 100),
    ("person_name", 100),
    ("relationship", 60),
    ("short_text", 200),
    ("free_text", 2000),
    ("free_text", 1000),
    ("address", 300),
    ("their_reference", 60),
]
REFERENCE_WORD = st.text(st.sampled_from("ABCXYZabc0123456789./-"), min_size=1, max_size=12).filter(
    lambda word: any(c.isalnum() for c in word)
)
WORD = st.lists(
    st.sampled_from([*"abcdefghijXYZéßøçğ", *"محمدשלום", *"&<>\"'`*_[]()~|#", "🙂", "👩🏽‍💻"]),
    min_size=1,
    max_size=15,
).map(lambda word: "a" + "".join(word))


@st.composite
def answers_of_length(draw: st.DrawFn, word: st.SearchStrategy[str], length: int) -> str:
    """Return a clean one-line answer of exactly ``length`` characters."""
    text = ""
    while len(text) < length:
        text = f"{text} {draw(word)}" if text else draw(word)
    text = text[:length].rstrip()
    return text + "a" * (length - len(text))


# Half the profile's count: each example builds answers of up to 2,000 characters word by word.
@settings(max_examples=max(20, EXAMPLES // 2), deadline=None)
@given(
    rule=st.sampled_from(TEXT_LIMITS),
    excess=st.integers(-3, 3),
    padding=st.lists(st.sampled_from([*ZERO_WIDTH, *BIDI, "\x00", "\x07", "\x9b"]), max_size=40),
    data=st.data(),
)
def test_long_answers_are_accepted_to_the_limit_or_refused_but_never_cut(
    catalogue: Catalogue,
    rule: tuple[str, int],
    excess: int,
    padding: list[str],
    data: st.DataObject,
) -> None:
    name, limit = rule
    word = REFERENCE_WORD if name == "their_reference" else WORD
    answer = data.draw(answers_of_length(word, limit + excess))
    # Hidden characters are removed before the length is checked: they do not count.
    positions = data.draw(st.lists(st.integers(0, len(answer)), min_size=len(padding)))
    typed = answer
    for position, hidden in sorted(zip(positions, padding, strict=False), reverse=True):
        typed = typed[:position] + hidden + typed[position:]
    expected = clean_text(answer)
    context = ValidationContext(today=START.date(), max_length=limit)
    result = VALIDATORS[name](typed, context)
    if len(expected) <= limit:
        assert result == Accepted(expected), f"{typed!r}"
    else:
        assert result == Rejected(
            f"error.{name}.too_long", {"max": f"{limit:,}", "length": f"{len(expected):,}"}
        )
        assert f"{limit:,}" in assert_renders(catalogue, Msg(result.message, result.params))


@settings(deadline=None)
@given(extra=st.integers(1, TELEGRAM_LIMIT - 2000), piece=st.sampled_from(["a", "ب", "🙂", "&"]))
def test_a_whole_telegram_message_of_free_text_is_refused_not_truncated(
    extra: int, piece: str
) -> None:
    text = piece * (2000 + extra)
    result = VALIDATORS["free_text"](text, ValidationContext(START.date(), 2000))
    assert isinstance(result, Rejected)
    assert result.message == "error.free_text.too_long"
    assert result.params == {"max": "2,000", "length": f"{2000 + extra:,}"}


# --- the engine ------------------------------------------------------------------------

NAMES = st.lists(WORD, min_size=1, max_size=4).map(" ".join)
GOOD_TEXT: Mapping[str, st.SearchStrategy[str]] = {
    "full_name": NAMES,
    "person_name": NAMES,
    "relationship": NAMES.map(lambda name: name[:60]),
    "address": NAMES.map(lambda name: f"12 {name}\nStoke-on-Trent"),
    "phone": st.sampled_from(["07911 123456", "+44 808 157 0192", "01782 232000"]),
    "email": st.sampled_from(["ada@example.org", "o'brien&co@example.co.uk"]),
    "date_of_birth": st.sampled_from(["27 3 1985", "1st January 1960", "٢٧ ٣ ١٩٨٥"]),
    "deadline_date": st.sampled_from(["15 3 2027", "Tuesday 15 December 2026"]),
    "free_text": st.lists(NAMES, min_size=1, max_size=5).map("\n".join),
    "short_text": NAMES,
    "their_reference": REFERENCE_WORD,
}
POSTCODES = ["ST4 1HH", "st41hh", " s\u200bt4 1hh ", "ST6 1AA", "BT1 1AA", "JE2 4WD", "BFPO 123"]


def attachments() -> st.SearchStrategy[Attachment]:
    """Return photos and documents with arbitrary captions and file names."""
    return st.builds(
        Attachment,
        kind=st.sampled_from(["photo", "document"]),
        file_id=st.text(any_character, min_size=1, max_size=40),
        file_unique_id=st.none() | st.text(any_character, max_size=20),
        file_name=st.none() | hostile_pieces,
        mime_type=st.none() | st.sampled_from(["application/pdf", "image/jpeg"]),
        caption=st.none() | messages,
    )


def hostile_replies(intake: Intake) -> st.SearchStrategy[Reply]:
    """Return any reply at all, with arbitrary content."""
    step_ids = [step.id for step in intake.flow.steps]
    return st.one_of(
        st.builds(TextReply, messages),
        st.builds(ContactReply, messages),
        st.builds(OtherReply, hostile_pieces),
        st.builds(FileReply, attachments()),
        st.builds(ChoiceReply, hostile_pieces | st.sampled_from(["start", "yes", "other"])),
        st.builds(Change, hostile_pieces | st.sampled_from(step_ids)),
        st.sampled_from(
            [
                Skip(),
                UseSuggestion(),
                AttachmentsDone(),
                Back(),
                Send(),
                Cancel(),
                ConfirmCancel(True),
            ]
        ),
        st.just(ConfirmCancel(confirmed=False)),
    )


def good_replies(step: Step) -> st.SearchStrategy[Reply]:
    """Return replies that usually move the intake on from ``step``."""
    if step.kind is StepKind.REVIEW:
        return st.just(Send())
    if step.options:
        return st.sampled_from([ChoiceReply(option.value) for option in step.options])
    if step.kind is StepKind.ATTACHMENTS:
        return st.sampled_from([AttachmentsDone(), Skip()])
    if step.kind is StepKind.POSTCODE:
        return st.sampled_from([TextReply(postcode) for postcode in POSTCODES])
    assert step.validator is not None
    typed = GOOD_TEXT[step.validator].map(TextReply)
    if step.suggest:
        return typed | st.just(UseSuggestion())
    return typed


def check_outcome(catalogue: Catalogue, intake: Intake, before: Draft, outcome: Outcome) -> None:
    """Assert an outcome is well formed and everything it shows can be rendered."""
    assert isinstance(outcome, Ask | Finished | Ended)
    if isinstance(outcome, Ended):
        assert outcome.reason in {"out_of_area", "cancelled"}
        assert_renders(catalogue, outcome.message)
        return
    assert_draft_clean(outcome.draft)
    if isinstance(outcome, Finished):
        assert intake.flow.step(outcome.draft.step).kind is StepKind.REVIEW
        return
    intake.flow.step(outcome.draft.step)  # a real step
    # Every draft the engine makes fits its flow as it is: the engine takes that on trust.
    assert reconcile(intake.flow, outcome.draft, intake.applies) is outcome.draft
    for shown in (outcome.error, outcome.notice, outcome.prompt.text, outcome.prompt.hint):
        if shown is not None:
            assert_renders(catalogue, shown)
    for row in outcome.prompt.summary:
        assert_renders(catalogue, row.label)
        if isinstance(row.value, Msg):
            assert_renders(catalogue, row.value)
    for line in outcome.prompt.buttons:
        for button in line:
            if isinstance(button.label, Msg):
                assert_renders(catalogue, button.label)
            else:
                assert clean_text(button.label), f"blank suggestion button {button.label!r}"
    if outcome.error is not None:
        assert outcome.draft == before
        assert not outcome.changed


profiles: st.SearchStrategy[dict[str, str]] = st.one_of(
    st.just({}),
    st.fixed_dictionaries({"telegram_name": st.sampled_from(["Ada Lovelace", "محمد", "Ada <b>"])}),
    st.fixed_dictionaries({"telegram_name": hostile_pieces}),
)


@settings(
    max_examples=WALKS,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(profile=profiles, data=st.data())
def test_advance_never_raises_at_any_step_with_any_reply(
    catalogue: Catalogue, intake: Intake, profile: dict[str, str], data: st.DataObject
) -> None:
    outcome: Outcome = intake.begin(START, profile)
    now = START
    for _ in range(40):
        assert isinstance(outcome, Ask)
        before = outcome.draft
        step = intake.flow.step(before.step)
        hostile = before.confirming_cancel or data.draw(st.integers(0, 3)) == 0
        reply = data.draw(hostile_replies(intake) if hostile else good_replies(step))
        now += timedelta(minutes=1)
        outcome = intake.advance(before, reply, now)
        check_outcome(catalogue, intake, before, outcome)
        if not isinstance(outcome, Ask):
            break
    event(f"last at {outcome.draft.step}" if isinstance(outcome, Ask) else type(outcome).__name__)


def test_a_telegram_name_of_hidden_characters_makes_no_suggestion_button(intake: Intake) -> None:
    """Found by the property above: the button's label would be blank once cleaned."""
    draft = intake.begin(START, {"telegram_name": "\x00"}).draft
    for reply in (ChoiceReply("start"), ChoiceReply("self")):
        outcome = intake.advance(draft, reply, START)
        assert isinstance(outcome, Ask)
        draft = outcome.draft
    assert draft.step == "full_name"
    actions = [button.action for row in intake.prompt(draft).buttons for button in row]
    assert "suggest" not in actions


def test_captions_and_file_names_are_stored_clean(intake: Intake) -> None:
    """Found by the property above: a caption or file name was stored exactly as sent."""
    draft = intake.begin(START, {}).draft
    spoofed = Attachment(
        kind="document", file_id="f", file_name="bill\u202efdp.exe", caption="\x1f"
    )
    outcome = intake.advance(draft, FileReply(spoofed), START)
    assert isinstance(outcome, Ask)
    [stored] = outcome.draft.attachments
    assert (stored.file_name, stored.caption, stored.file_id) == ("billfdp.exe", None, "f")


@pytest.fixture(scope="module")
def drafts_at_typed_steps(intake: Intake) -> dict[str, Draft]:
    """Return a draft waiting at each typed step of the shipped flow."""
    draft = intake.begin(START, {"telegram_name": "Ada"}).draft
    route: list[Reply] = [
        ChoiceReply("start"),
        ChoiceReply("other"),
        TextReply("Grace Hopper"),
        TextReply("Neighbour"),
        ChoiceReply("yes"),
        TextReply("Ada Lovelace"),
        TextReply("ST4 1HH"),
        TextReply("12 Example Road"),
        TextReply("07911 123456"),
        ChoiceReply("post"),
        TextReply("ada@example.org"),
        TextReply("1 Far Lane, Leeds LS1 1AA"),
        TextReply("27 3 1985"),
        ChoiceReply("housing"),
        TextReply("The council"),
        TextReply("HB/1"),
        ChoiceReply("yes"),
        TextReply("Damp"),
        FinishText("what_happened"),
        TextReply("Repair it"),
        FinishText("desired_outcome"),
        TextReply("15 3 2027"),
    ]
    found: dict[str, Draft] = {}
    now = START
    for reply in route:
        step = intake.flow.step(draft.step)
        if step.kind in {StepKind.TEXT, StepKind.PHONE, StepKind.POSTCODE}:
            found[step.id] = draft
        now += timedelta(minutes=1)
        outcome = intake.advance(draft, reply, now)
        assert isinstance(outcome, Ask)
        assert outcome.error is None, (reply, outcome.error)
        draft = outcome.draft
    return found


@settings(deadline=None)
@given(data=st.data(), text=messages, contact=st.booleans())
def test_every_typed_step_takes_any_message(
    catalogue: Catalogue,
    intake: Intake,
    drafts_at_typed_steps: dict[str, Draft],
    data: st.DataObject,
    text: str,
    contact: bool,
) -> None:
    step_id = data.draw(st.sampled_from(sorted(drafts_at_typed_steps)))
    before = drafts_at_typed_steps[step_id]
    reply: Reply = ContactReply(text) if contact else TextReply(text)
    outcome = intake.advance(before, reply, START + timedelta(hours=1))
    check_outcome(catalogue, intake, before, outcome)
    if isinstance(outcome, Ask) and outcome.error is None and outcome.draft.step != step_id:
        stored = outcome.draft.answers[step_id].value
        assert stored is not None
        if step_id in {"what_happened", "desired_outcome"}:
            # Free text is kept whole: cleaned, never cut.
            assert stored == clean_text(text)


# --- postcodes and references ----------------------------------------------------------


@settings(deadline=None)
@given(text=messages)
def test_postcode_normalise_and_check_never_raise(text: str) -> None:
    normalised = normalise(text)
    if is_valid_format(normalised):
        assert normalise(normalised) == normalised
    check = load_postcode_checker().check(text)
    assert isinstance(check, PostcodeCheck)
    assert isinstance(check.status, PostcodeStatus)
    if check.normalised is not None:
        assert is_valid_format(check.normalised)
        assert check.normalised.isascii()
    if check.constituency is not None:
        assert check.status in {PostcodeStatus.LIVE, PostcodeStatus.TERMINATED}


@settings(deadline=None)
@given(
    noise=st.lists(st.sampled_from([*ZERO_WIDTH, *BIDI, " ", "\t", "\u00a0"]), max_size=8),
    data=st.data(),
    lower=st.booleans(),
)
def test_hidden_characters_do_not_change_a_postcode(
    noise: list[str], data: st.DataObject, lower: bool
) -> None:
    typed = "ST41HH".lower() if lower else "ST41HH"
    for hidden in noise:
        position = data.draw(st.integers(0, len(typed)))
        typed = typed[:position] + hidden + typed[position:]
    check = load_postcode_checker().check(typed)
    assert check.status is PostcodeStatus.LIVE, repr(typed)
    assert check.normalised == "ST4 1HH"
    assert check.constituency is not None
    assert check.constituency.code == CONSTITUENCY


prefixes = st.from_regex(r"[A-Z][A-Z0-9]{0,4}", fullmatch=True)


@given(text=messages, prefix=prefixes)
def test_parse_reference_never_raises(text: str, prefix: str) -> None:
    parsed = parse_reference(text, prefix)
    assert parsed is None or parse_reference(parsed, prefix) == parsed


@given(
    number=st.integers(0, REFERENCE_SPACE - 1),
    prefix=prefixes,
    separator=st.sampled_from(["-", " ", "–", "", " - ", "\u200b-"]),
    lower=st.booleans(),
    around=st.sampled_from(["", " ", "\n", "\u200b", "\u202e"]),
)
def test_references_round_trip(
    number: int, prefix: str, separator: str, lower: bool, around: str
) -> None:
    reference = make_reference(prefix, number)
    assert parse_reference(reference, prefix) == reference
    typed = reference.replace("-", separator, 1)
    typed = around + (typed.lower() if lower else typed) + around
    assert parse_reference(typed, prefix) == reference
