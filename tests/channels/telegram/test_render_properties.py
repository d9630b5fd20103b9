"""Property-based tests: whatever people answer, every rendered message is one Telegram accepts.

Telegram refuses a whole message whose HTML it cannot parse, that is empty or longer than
4,096 characters, and a keyboard with a blank label or callback data over 64 bytes; any of
those would leave the person stuck on a question.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from support.intake import Harness, intake_to_review, new_user
from support.keyboards import markup_of
from support.office import PARAMS
from support.telegram import SentCall
from telegram import InlineKeyboardMarkup, ReplyKeyboardMarkup

from bot.channels.telegram.render import Outgoing, Renderer
from bot.core.catalogue import Catalogue, Msg
from bot.core.draft import Attachment, Draft
from bot.core.engine import Ask, Ended, Finished, Intake, Outcome
from bot.core.flow import Step, StepKind
from bot.core.prompts import Prompt
from bot.core.references import REFERENCE_SPACE, make_reference
from bot.core.replies import (
    AttachmentsDone,
    Back,
    Cancel,
    Change,
    ChoiceReply,
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
from bot.core.validators import VALIDATORS
from bot.loading import FLOWS_DIR, load_catalogue, load_flow
from bot.service.types import Response
from bot.storage.postcode_index import load_postcode_checker

CONSTITUENCY = "E14001520"
START = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
MESSAGE_LIMIT = 4096
BUTTON_TEXT_LIMIT = 64
CALLBACK_DATA_LIMIT = 64
ENTITY_LIMIT = 100

# Examples per property come from the Hypothesis profile (tests/conftest.py: "ci" 100,
# "thorough" 1,000). An example that walks a whole intake, or plays one through the running
# bot, costs as much as dozens of single checks, so those run a quarter of the profile's count.
WALKS = max(10, settings().max_examples // 4)

# Telegram HTML as the catalogue uses it: these tags, and the entities html.escape makes.
TAG = re.compile(r"<(/?)(b|i|code)>")
ENTITY = re.compile(r"&(?:amp|lt|gt|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")
# What no message may show: controls other than a newline, zero-width and bidi controls.
HIDDEN = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e"
    "\u2060\u2066-\u2069\ufeff]"
)


def visible_text(text: str) -> str:
    """Return what Telegram shows for ``text``, failing where Telegram would refuse the HTML."""
    shown: list[str] = []
    open_tags: list[str] = []
    entities = 0
    position = 0
    while position < len(text):
        character = text[position]
        if character == "<":
            tag = TAG.match(text, position)
            assert tag, f"raw '<' or a tag Telegram refuses: {text[position : position + 20]!r}"
            closing, name = tag.groups()
            if closing:
                assert open_tags[-1:] == [name], f"</{name}> closes nothing"
                open_tags.pop()
            else:
                open_tags.append(name)
                entities += 1
            position = tag.end()
        elif character == "&":
            entity = ENTITY.match(text, position)
            assert entity, f"raw '&': {text[position : position + 20]!r}"
            shown.append(html.unescape(entity.group()))
            position = entity.end()
        else:
            assert character != ">", f"raw '>': {text[max(0, position - 20) : position + 1]!r}"
            shown.append(character)
            position += 1
    assert not open_tags, f"tags left open: {open_tags}"
    assert entities <= ENTITY_LIMIT
    return "".join(shown)


def assert_sendable(outgoing: list[Outgoing]) -> list[str]:
    """Assert Telegram would accept every message and keyboard; return the visible texts."""
    assert outgoing, "nothing to send"
    texts = []
    for message in outgoing:
        assert message.text.strip(), "empty message"
        shown = visible_text(message.text)
        # Telegram counts characters after parsing the HTML: "&amp;" is one.
        assert len(shown) <= MESSAGE_LIMIT, f"{len(shown)} characters"
        assert not HIDDEN.search(shown), f"hidden character shown: {shown!r}"
        texts.append(shown)
        markup = markup_of(message)
        if isinstance(markup, InlineKeyboardMarkup):
            for row in markup.inline_keyboard:
                for button in row:
                    assert button.text.strip(), "blank button"
                    assert len(button.text) <= BUTTON_TEXT_LIMIT
                    assert not HIDDEN.search(button.text)
                    data = button.callback_data
                    assert isinstance(data, str)
                    assert 1 <= len(data.encode()) <= CALLBACK_DATA_LIMIT
        elif isinstance(markup, ReplyKeyboardMarkup):
            for keys in markup.keyboard:
                for key in keys:
                    assert key.text.strip()
    return texts


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    """Return the shipped English catalogue."""
    return load_catalogue(FLOWS_DIR / "locales")


@pytest.fixture(scope="module")
def intake(catalogue: Catalogue) -> Intake:
    """Return Stoke-on-Trent Central's intake with the shipped flow and postcode data."""
    flow = load_flow(FLOWS_DIR / "intake.yaml", catalogue)
    return Intake(flow, load_postcode_checker(), CONSTITUENCY, VALIDATORS, PARAMS)


@pytest.fixture(scope="module")
def renderer(catalogue: Catalogue) -> Renderer:
    """Return the renderer over the shipped catalogue."""
    return Renderer(catalogue)


def response_to(intake: Intake, before: Draft, outcome: Outcome) -> Response | None:
    """Return the Response the intake service makes of ``outcome`` (None once sent)."""
    if isinstance(outcome, Finished):
        return None
    if isinstance(outcome, Ended):
        return Response(lead=(outcome.message,), remove_keyboard=True)
    was_phone = intake.flow.step(before.step).kind is StepKind.PHONE
    return Response(
        lead=tuple(m for m in (outcome.notice, outcome.error) if m is not None),
        prompt=outcome.prompt,
        echo=outcome.echo,
        revision=outcome.draft.revision,
        remove_keyboard=was_phone and not outcome.prompt.request_contact,
    )


def assert_answers_shown(prompt: Prompt, shown: str) -> None:
    """Assert each typed answer on check-your-answers reads as typed: escaped, not as markup."""
    for row in prompt.summary:
        if isinstance(row.value, str):
            assert row.value[:12] in shown, f"{row.value[:12]!r} not shown"


# --- arbitrary answers the validators accept -------------------------------------------

SPECIALS = [*"<>&\"'`*_[]()~|#", "<b>", "</i>", "<code>", "&amp;", "&lt;", "&#1;", "**", "__"]
LETTERS = [*"abcXYZéß", "محمد", "שלום", "🙂", "👨‍👩‍👧", "🇬🇧", "\u202e", "\u200b", "\u200e"]
WORD = st.lists(st.sampled_from([*SPECIALS, *LETTERS]), min_size=1, max_size=8).map(
    lambda pieces: "A" + "".join(pieces)
)
NAMES = st.lists(WORD, min_size=1, max_size=4).map(" ".join)
TYPED = {
    "full_name": NAMES,
    "person_name": NAMES,
    "relationship": NAMES,
    "address": NAMES.map(lambda name: f"12 {name}\n{name}"),
    "phone": st.sampled_from(["07911 123456", "+44 808 157 0192"]),
    "email": st.sampled_from(["ada@example.org", "o'brien&co@example.co.uk", "a<b>@x.org"]),
    "date_of_birth": st.sampled_from(["27 3 1985", "٢٧ ٣ ١٩٨٥"]),
    "deadline_date": st.sampled_from(["15 3 2027"]),
    "free_text": st.lists(NAMES, min_size=1, max_size=6).map("\n\n".join),
    "short_text": NAMES,
    "their_reference": st.sampled_from(["HB/12345", "A-1.2"]),
}
HOSTILE = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"]), max_size=300),
    st.lists(st.sampled_from([*SPECIALS, *LETTERS, "\x00", "\n", " "]), max_size=40).map("".join),
    st.sampled_from(["&", "<", "🙂", "\u202e", " "]).map(lambda unit: unit * MESSAGE_LIMIT),
)


def answer(step: Step, intake: Intake) -> st.SearchStrategy[Reply]:
    """Return replies that the validators accept, or that move the intake on, at ``step``."""
    if step.kind is StepKind.REVIEW:
        changes = [Change(s.id) for s in intake.flow.steps if s.label and s.summary]
        return st.sampled_from([Send(), *changes])
    if step.options:
        return st.sampled_from([ChoiceReply(option.value) for option in step.options])
    if step.kind is StepKind.ATTACHMENTS:
        captions = st.none() | HOSTILE
        files = st.builds(
            Attachment, kind=st.just("document"), file_id=st.just("f"), caption=captions
        )
        return st.one_of(st.just(AttachmentsDone()), st.builds(FileReply, files))
    if step.kind is StepKind.POSTCODE:
        postcodes = ["ST4 1HH", "st41hh", "ST4 1HH", "ST6 1AA", "BT1 1AA", "BFPO 123"]
        return st.sampled_from([*postcodes, "ST4 1HH", "ST4 1HH"]).map(TextReply)
    assert step.validator is not None
    return TYPED[step.validator].map(TextReply) | st.just(UseSuggestion())


def anything() -> st.SearchStrategy[Reply]:
    """Return any reply, with hostile content."""
    return st.one_of(
        HOSTILE.map(TextReply),
        HOSTILE.map(ContactReply),
        HOSTILE.map(OtherReply),
        st.sampled_from([Back(), Cancel(), Skip(), Send(), AttachmentsDone()]),
    )


names = st.one_of(
    st.just(""), NAMES, st.text(st.characters(exclude_categories=["Cs"]), max_size=129)
)


@settings(
    max_examples=WALKS,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(telegram_name=names, data=st.data())
def test_every_message_of_an_intake_is_one_telegram_accepts(
    intake: Intake, renderer: Renderer, telegram_name: str, data: st.DataObject
) -> None:
    ask = intake.begin(START, {"telegram_name": telegram_name} if telegram_name else {})
    assert_sendable(renderer.render(Response(prompt=ask.prompt, revision=0)))
    outcome: Outcome = ask
    now = START
    for _ in range(45):
        assert isinstance(outcome, Ask)
        before = outcome.draft
        step = intake.flow.step(before.step)
        hostile = before.confirming_cancel or data.draw(st.integers(0, 4)) == 0
        reply = data.draw(anything() if hostile else answer(step, intake))
        now += timedelta(minutes=1)
        outcome = intake.advance(before, reply, now)
        response = response_to(intake, before, outcome)
        if response is None:
            break
        texts = assert_sendable(renderer.render(response))
        if isinstance(outcome, Ask) and outcome.prompt.summary:
            assert_answers_shown(outcome.prompt, texts[-1])
        if not isinstance(outcome, Ask):
            break
    event(f"last at {outcome.draft.step}" if isinstance(outcome, Ask) else type(outcome).__name__)


# --- check-your-answers with every typed answer at its longest -------------------------


def longest(unit: str, length: int) -> str:
    """Return ``unit`` repeated to exactly ``length`` characters, starting with a letter."""
    return ("A" + unit * length)[:length]


@settings(max_examples=12, deadline=None)
@given(
    unit=st.sampled_from(["&", "<", ">", "🙂", "ب", "a", "<b>", "&amp;"]),
    echo=st.sampled_from(["&", "<", "🙂 ", "x"]),
    reference=st.integers(0, REFERENCE_SPACE - 1),
)
def test_check_answers_fits_with_every_answer_at_its_longest(
    intake: Intake, renderer: Renderer, unit: str, echo: str, reference: int
) -> None:
    email = (
        longest(unit if unit in ("&", "a") else "a", 64) + "@" + ".".join(["b" * 63] * 2) + ".uk"
    )
    route: list[Reply] = [
        ChoiceReply("start"),
        ChoiceReply("other"),
        TextReply(longest(unit, 100)),
        TextReply(longest(unit, 60)),
        ChoiceReply("unable"),
        ChoiceReply("parent"),
        TextReply(longest(unit, 100)),
        TextReply("ST4 1HH"),
        TextReply(longest(unit, 300)),
        ContactReply("+447911123456"),
        ChoiceReply("telegram"),
        TextReply(email),
        TextReply(longest(unit, 300)),
        TextReply("27 3 1985"),
        ChoiceReply("immigration"),
        TextReply(longest(unit, 200)),
        TextReply(longest("A", 60)),
        ChoiceReply("yes"),
        TextReply(longest(unit, 6000)),
        FinishText("what_happened"),
        TextReply(longest(unit, 2000)),
        FinishText("desired_outcome"),
        TextReply("15 3 2027"),
        FileReply(Attachment(kind="photo", file_id="p", caption=longest(unit, 1024))),
        AttachmentsDone(),
        ChoiceReply("yes"),
    ]
    outcome: Outcome = intake.begin(START, {"telegram_name": longest(unit, 129)})
    now = START
    for reply in route:
        assert isinstance(outcome, Ask)
        now += timedelta(minutes=1)
        outcome = intake.advance(outcome.draft, reply, now)
        assert isinstance(outcome, Ask)
        assert outcome.error is None, (reply, outcome.error)
    assert isinstance(outcome, Ask)
    assert outcome.draft.step == "review"
    assert len(outcome.draft.answers["what_happened"].value or "") == 6000
    # At check-your-answers, the longest answers, then a whole message typed instead of a tap.
    before = outcome.draft
    for shown in (outcome, intake.advance(before, TextReply(echo * 4096), now)):
        response = response_to(intake, before, shown)
        assert response is not None
        # Long answers go whole in messages of their own, then check-your-answers.
        text = assert_sendable(renderer.render(response))[-1]
        assert "Permission to contact organisations" in text, "the last answer is cut off"
        assert_answers_shown(outcome.prompt, text)
    sent = Msg("confirmation.sent", {**PARAMS, "reference": make_reference("SOT", reference)})
    assert_sendable([Outgoing(renderer.text(sent))])


# --- the postcode question, which repeats what was typed -------------------------------

# Postcodes with hidden characters or spaces inside, which the checker looks through.
PADDED_POSTCODES = st.builds(
    lambda code, pad, count: code[0] + pad * count + code[1:],
    st.sampled_from(["BFPO 123", "SANTA1", "ZZ99 3AZ", "ASCN 1ZZ", "ST4 1ZZ", "JE2 4WD"]),
    st.sampled_from([" ", "\u200b", "\u202e", "\x00", "\t", "\u2066", "<", "&"]),
    st.integers(1, MESSAGE_LIMIT - 10),
)


@pytest.fixture(scope="module")
def at_postcode(intake: Intake) -> Draft:
    """Return a draft waiting at the postcode question."""
    draft = intake.begin(START, {}).draft
    for reply in (ChoiceReply("start"), ChoiceReply("self"), TextReply("Ada Lovelace")):
        outcome = intake.advance(draft, reply, START)
        assert isinstance(outcome, Ask)
        draft = outcome.draft
    assert draft.step == "postcode"
    return draft


@settings(deadline=None)
@example(text="B\u200bFPO 123")  # repeated the zero-width space
@example(text="B" + " " * 3863 + "FPO 123")  # too long: cut inside the HTML
@given(text=PADDED_POSTCODES | HOSTILE)
def test_any_postcode_answer_gets_a_message_telegram_accepts(
    intake: Intake, renderer: Renderer, at_postcode: Draft, text: str
) -> None:
    outcome = intake.advance(at_postcode, TextReply(text), START)
    response = response_to(intake, at_postcode, outcome)
    assert response is not None
    texts = assert_sendable(renderer.render(response))
    if isinstance(outcome, Ask) and outcome.error is not None:
        assert "What is your home postcode?" in texts[-1], "the question is cut off"


# --- the running bot: edited messages, messages without text, hostile names ------------


def assert_sent_calls_sendable(calls: list[SentCall]) -> None:
    """Assert every message the bot sent was one Telegram accepts."""
    for call in calls:
        if call.method not in {"sendMessage", "editMessageText"}:
            continue
        text = call.text
        assert text is not None
        assert text.strip()
        assert len(text) <= MESSAGE_LIMIT
        assert not HIDDEN.search(visible_text(text))
        markup = call.params.get("reply_markup")
        if isinstance(markup, dict):
            for row in markup.get("inline_keyboard", []):
                for button in row:
                    assert 0 < len(button["text"].strip()) <= BUTTON_TEXT_LIMIT
                    assert 1 <= len(button["callback_data"].encode()) <= CALLBACK_DATA_LIMIT


@settings(
    max_examples=WALKS,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    first_name=st.sampled_from(["Ada", "\u200b", "<b>", "محمد", "👨‍👩‍👧", "&amp;"]),
    text=HOSTILE,
    at=st.integers(2, 19),
)
async def test_the_running_bot_answers_hostile_updates_with_messages_telegram_accepts(
    harness: Harness, first_name: str, text: str, at: int
) -> None:
    user = new_user(first_name, None)
    for action, _ in intake_to_review()[:at]:
        await harness.act(user, action)
    mark = len(harness.request.calls())
    # An edited message changes nothing: the answer given stands.
    assert await harness.send(harness.updates.edited_text(user, text), chat_id=user.user_id) == []
    # A message without text (a sticker, a voice note) gets a plain answer.
    assert await harness.send(harness.updates.sticker(user), chat_id=user.user_id)
    assert await harness.send(harness.updates.voice(user), chat_id=user.user_id)
    await harness.act(user, ("text", text))
    await harness.act(user, ("photo", "photo-1"))
    assert_sent_calls_sendable(harness.request.calls()[mark:])
    assert all(call.ok for call in harness.request.calls()[mark:])
    assert not harness.errors
