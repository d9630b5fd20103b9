"""An office's own texts are checked at start-up, not at a constituent's question."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.channels.telegram.render import BUTTON_LABEL_LIMIT
from bot.core.catalogue import Catalogue
from bot.core.flow import Flow, FlowError
from bot.core.rules import spell_duration
from bot.core.wording import BUTTON_LIMIT, check_texts, html_fault
from bot.loading import FLOWS_DIR, load_catalogue, load_flow

SHIPPED = load_catalogue(FLOWS_DIR / "locales")
FLOW = load_flow(FLOWS_DIR / "intake.yaml", SHIPPED)
OFFICE = {
    "mp_name",
    "constituency",
    "office_phone",
    "office_email",
    "office_address",
    "response_days",
    "retention_years",
    "draft_expiry",
    "flood_pause",
    "attribution",
}


def edited(**changes: str) -> Catalogue:
    """Return the shipped texts with some changed (keys spelled with __ for dots)."""
    texts = {key: SHIPPED.raw(key) for key in SHIPPED.keys()}  # noqa: SIM118
    texts.update({key.replace("__", "."): value for key, value in changes.items()})
    return Catalogue(texts)


def fault(catalogue: Catalogue, flow: Flow = FLOW) -> str:
    """Return the one line check_texts raises for a catalogue."""
    with pytest.raises(FlowError) as caught:
        check_texts(catalogue, SHIPPED, flow, OFFICE)
    line = str(caught.value)
    assert "\n" not in line
    return line


def test_the_shipped_texts_pass() -> None:
    check_texts(SHIPPED, SHIPPED, FLOW, OFFICE)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"help": "Ask {mp_nmae} for help"},
            "text 'help' has an unknown placeholder {mp_nmae}; it may use {attribution}",
        ),
        (
            {"notice__echo": "You sent: {text} on {date}"},
            "text 'notice.echo' has an unknown placeholder {date}; it may use {text}",
        ),
        ({"help": "Send {start"}, "text 'help' has a { or } without its pair"),
        (
            {"question__postcode": "Your postcode in {constituency} at {office}?"},
            "text 'question.postcode' has an unknown placeholder {office}",
        ),
        ({"help": "<b>Help"}, "text 'help': opens <b> and never closes it"),
        ({"help": "Help</b>"}, "text 'help': closes </b> without opening it first"),
        ({"help": "<b><i>Help</b></i>"}, "text 'help': closes </b> without opening it first"),
        ({"help": "<h1>Help</h1>"}, "text 'help': uses <h1>, which Telegram does not support"),
        ({"help": "Help<br>me"}, "text 'help': uses <br>, which Telegram does not support"),
        ({"help": "If x < 3"}, "text 'help': has a '<' that is not a tag"),
        ({"help": "Fish & chips"}, "text 'help': has an '&' that is not an entity"),
        (
            {"button__send": "<b>Send</b>"},
            "text 'button.send': is shown as typed (a button or a command)",
        ),
        (
            {"option__consent__yes": "Yes, I give my permission to the office " * 2},
            "text 'option.consent.yes' makes a button of 80 characters",
        ),
        (
            {"button__change": "Change your answer to the question: {label}"},
            "text 'button.change' makes a button of 71 characters",
        ),
        ({"command__help": "x" * 300}, "text 'command.help' is 300 characters"),
        ({"help": "x" * 5000}, "text 'help' is 5000 characters; a message is 4096 at most"),
    ],
)
def test_a_broken_text_is_named_in_one_line(changes: dict[str, str], expected: str) -> None:
    assert fault(edited(**changes)).startswith(expected)


def test_texts_of_the_flow_may_use_the_office_values_and_the_steps_own() -> None:
    check_texts(
        edited(question__what_happened="Tell {mp_name} ({max_length} characters, {attachments})"),
        SHIPPED,
        FLOW,
        OFFICE,
    )


def test_a_text_the_office_added_for_nothing_is_not_checked_for_placeholders() -> None:
    check_texts(edited(spare__note="An unused {note}"), SHIPPED, FLOW, OFFICE)


@pytest.mark.parametrize(
    "text",
    [
        "<b>bold</b> <i>it</i> <u>u</u> <s>s</s> <code>x</code> <pre>y</pre>",
        '<a href="https://example.org">a link</a> &lt;3 &amp; &#39; &#x27;',
        '<span class="tg-spoiler">s</span> <tg-spoiler>s</tg-spoiler> <blockquote>q</blockquote>',
        "Fine: 3 > 2, {placeholder} and {{literal braces}}",
    ],
)
def test_telegrams_html_subset_passes(text: str) -> None:
    assert html_fault(text) is None


def test_button_limit_is_the_renderers() -> None:
    assert BUTTON_LIMIT == BUTTON_LABEL_LIMIT


@pytest.mark.parametrize(
    ("length", "spelled"),
    [
        (timedelta(days=7), "7 days"),
        (timedelta(days=1), "1 day"),
        (timedelta(hours=36), "36 hours"),
        (timedelta(seconds=300), "5 minutes"),
        (timedelta(seconds=60), "1 minute"),
        (timedelta(seconds=90), "90 seconds"),
    ],
)
def test_durations_are_spelled_as_a_text_states_them(length: timedelta, spelled: str) -> None:
    assert spell_duration(length, SHIPPED) == spelled
