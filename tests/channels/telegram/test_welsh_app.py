"""Cymraeg a Saesneg: a whole intake in Welsh through the real Application, switching, delivery."""

from __future__ import annotations

import html
import json
import re
import sqlite3
from collections.abc import AsyncIterator
from datetime import date
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest
from support.intake import (
    SAM,
    STAFF_CHAT,
    Action,
    Clock,
    Harness,
    make_settings,
    new_user,
    services_of,
)
from support.telegram import JSON, RecordingRequest
from telegram.request import RequestData

from bot.core.catalogue import Catalogue, Msg
from bot.loading import constituent_keys
from bot.office import Office, prepare

# Alyn and Deeside (Alun a Glannau Dyfrdwy): a constituency in Wales, so Welsh is offered.
WELSH_SEAT = "W07000082"
INSIDE = "CH1 4QL"
ELSEWHERE = "CF48 4AB"  # Blaenau Gwent and Rhymney, in Welsh Blaenau Gwent a Rhymni

_TAG = re.compile(r"<[^>]+>")
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


@pytest.fixture
def welsh_office(tmp_path: Path) -> Office:
    """Return an office in Wales, with a database in a temporary folder."""
    settings = make_settings(
        tmp_path / "data" / "casework.sqlite3",
        constituency_code=WELSH_SEAT,
        office_address="1 Stryd Fawr, Queensferry CH5 1AA",
    )
    return prepare(settings)


@pytest.fixture
async def cymraeg(welsh_office: Office, clock: Clock) -> AsyncIterator[Harness]:
    """Return the Welsh office's bot, started on an offline Bot API."""
    async with Harness.running(welsh_office, clock) as running:
        yield running


def texts_of(office: Office, language: str) -> Catalogue:
    """Return the office's texts in ``language``."""
    return office.texts(language)


def label(office: Office, key: str, language: str = "cy") -> str:
    """Return a button's label as the person reads it."""
    return texts_of(office, language).raw(key)


def fragments(catalogue: Catalogue, keys: set[str]) -> set[str]:
    """Return the fixed words of texts: each text's pieces between placeholders, tags taken out."""
    found: set[str] = set()
    for key in keys:
        forms = catalogue.plural_forms(key) or {"": catalogue.raw(key)}
        for text in forms.values():
            for piece in _PLACEHOLDER.split(_TAG.sub("", html.unescape(text))):
                found |= {line.strip() for line in piece.splitlines() if len(line.strip()) >= 12}
    return found


def english_only(office: Office) -> set[str]:
    """Return the English words a Welsh speaker must never be sent: none of them are Welsh."""
    keys = constituent_keys(office.settings.flows_dir / "locales")
    welsh = "\n".join(fragments(texts_of(office, "cy"), keys))
    return {piece for piece in fragments(texts_of(office, "en"), keys) if piece not in welsh}


def shown(text: str) -> str:
    """Return what Telegram shows of an HTML text."""
    return html.unescape(_TAG.sub("", text))


def welsh_intake(office: Office) -> list[tuple[Action, str]]:
    """Return a whole intake answered in Welsh, each step with a Welsh text expected after it."""

    def cy(key: str) -> str:
        return label(office, key)

    return [
        (("command", "/start"), "Pa iaith hoffech chi ei defnyddio?"),
        (("tap", "Cymraeg"), "Os oes unrhyw un mewn perygl nawr, ffoniwch 999"),
        (("tap", cy("button.start")), "Ydy'r ymholiad hwn amdanoch chi"),
        (("tap", cy("option.for_whom.self")), "Beth yw eich enw llawn?"),
        (("text", "Siân Jones"), "Beth yw cod post eich cartref?"),
        (("text", INSIDE.lower()), "Beth yw eich cyfeiriad?"),
        (("text", "1 Stryd Fawr\nQueensferry"), "Beth yw eich rhif ffôn?"),
        (("contact", "447911123456"), "Sut yr hoffech i ni gysylltu â chi?"),
        (("tap", cy("option.contact_by.email")), "Beth yw eich cyfeiriad e-bost?"),
        (("text", "sian@example.org"), "Beth yw eich dyddiad geni?"),
        (("text", "14 Mawrth 1982"), "Am beth mae eich ymholiad?"),
        (("tap", cy("category.housing")), "Pa sefydliad"),
        (("text", "Cyngor Sir y Fflint"), "gyfeirnod"),
        (("text", "HB/12345"), "Ydych chi wedi cysylltu â nhw am hyn yn barod"),
        (("text", "do"), "Beth sydd wedi digwydd?"),
        (("text", "Mae lleithder yn y fflat ers mis Mehefin."), "Wedi cadw"),
        (("tap", cy("button.finish_text")), "Beth yr hoffech i'r Aelod Seneddol ei wneud?"),
        (("text", "Gofyn i'r cyngor wneud y gwaith."), "Wedi cadw"),
        (("tap", cy("button.finish_text")), "Oes dyddiad"),
        (("text", "14eg Mawrth"), "lythyrau neu ddogfennau"),
        (("tap", cy("button.attachments_none")), "Ydych chi'n rhoi caniatâd?"),
        (("tap", cy("option.consent.yes")), "Gwiriwch eich atebion"),
    ]


def _cases(office: Office) -> list[dict[str, Any]]:
    with sqlite3.connect(office.settings.database_path) as db:
        rows = db.execute("SELECT data, language FROM cases ORDER BY id").fetchall()
    return [{**json.loads(data), "column": language} for data, language in rows]


def _labels(request: RecordingRequest, chat_id: int) -> list[str]:
    found = []
    for call in request.calls():
        if call.ok and call.chat_id == chat_id:
            markup = call.params.get("reply_markup")
            if isinstance(markup, dict):
                for row in markup.get("inline_keyboard", []) + markup.get("keyboard", []):
                    found += [b if isinstance(b, str) else b["text"] for b in row]
    return found


async def test_a_whole_intake_in_welsh_sends_nothing_in_english(
    cymraeg: Harness, welsh_office: Office, clock: Clock
) -> None:
    user = new_user("Siân", "Jones")
    await cymraeg.run(user, welsh_intake(welsh_office))
    texts = await cymraeg.act(user, ("tap", label(welsh_office, "button.send")))
    assert "Mae eich ymholiad wedi'i anfon" in "\n".join(texts)

    sent = cymraeg.request.sent_texts(user.user_id)
    buttons = _labels(cymraeg.request, user.user_id)
    english = english_only(welsh_office)
    assert len(english) > 200  # the check has English to look for
    leaks = sorted(
        {piece for text in sent for piece in english if piece in shown(text)}
        | {button for button in buttons if button in english}
    )
    assert leaks == []
    # The office's own values read in Welsh too: the constituency's Welsh name, and no "days".
    assert any("Alun a Glannau Dyfrdwy" in text for text in sent)
    assert not any("Alyn and Deeside" in text for text in sent)

    [case] = _cases(welsh_office)
    assert case["language"] == case["column"] == "cy"
    answers = case["answers"]
    assert answers["date_of_birth"] == "1982-03-14"
    assert answers["contacted_them"] == "yes"
    today = clock().date()
    next_14_march = date(today.year + (today > date(today.year, 3, 14)), 3, 14)
    assert answers["deadline"] == next_14_march.isoformat()
    # Consent has its own version in Welsh, recorded with the Welsh words the person read.
    assert case["consent"]["version"] == "2026-11-v1-cy"
    assert "caniatâd" in case["consent"]["wording"]

    # The office works in English, and is told the constituent writes in Welsh.
    card = cymraeg.request.sent_texts(STAFF_CHAT)[-1]
    assert "Writes in Welsh (Cymraeg)" in card
    assert "Permission to contact organisations" in card


async def test_every_constituent_text_has_welsh_words(welsh_office: Office) -> None:
    """Render each text a constituent can be sent in Welsh and English: none comes out the same."""
    keys = constituent_keys(welsh_office.settings.flows_dir / "locales")
    values = {**welsh_office.params, "reference": "MP-1234567", "count": "2"}
    welsh, english = texts_of(welsh_office, "cy"), texts_of(welsh_office, "en")
    bilingual = {"language.choose", "button.language.cy", "button.language.en", "command.iaith"}

    def rendered(catalogue: Catalogue, key: str) -> str:
        # Every placeholder filled with a value of its own name: only the fixed words differ.
        names = set(_PLACEHOLDER.findall(catalogue.raw(key)))
        params = {name[1:-1]: values.get(name[1:-1], name) for name in names}
        forms = catalogue.plural_forms(key)
        if forms is not None:
            params["count"] = "2"
        return catalogue.render(Msg(key, params), lambda text: text)

    same = sorted(k for k in keys - bilingual if rendered(welsh, k) == rendered(english, k))
    assert same == []
    assert bilingual <= keys


async def test_switching_language_mid_intake_keeps_every_answer(
    cymraeg: Harness, welsh_office: Office
) -> None:
    user = new_user("Siân", "Jones")
    await cymraeg.run(
        user,
        [
            (("command", "/start"), "Which language would you like to use?"),
            (("tap", "English"), "If anyone is in danger now, call 999"),
            (("tap", "Start"), "Is this enquiry about you"),
            (("tap", "It is about me"), "What is your full name?"),
            (("text", "Siân Jones"), "What is your home postcode?"),
            (("text", ELSEWHERE), "Blaenau Gwent and Rhymney"),
            (("tap", "No, let me correct it"), "What is your home postcode?"),
            (("text", INSIDE), "What is your address?"),
            (("command", "/iaith"), "Pa iaith hoffech chi ei defnyddio?"),
            (("tap", "Cymraeg"), "Mae eich atebion wedi'u cadw"),
        ],
    )
    question = cymraeg.request.sent_texts(user.user_id)[-1]
    assert "Beth yw eich cyfeiriad?" in question  # the same question, now in Welsh
    await cymraeg.run(
        user,
        [
            (("text", "1 Stryd Fawr\nQueensferry"), "Beth yw eich rhif ffôn?"),
            (("command", "/language"), "Which language would you like to use?"),
            (("tap", "English"), "Your answers are kept"),
            (("command", "/back"), "What is your address?"),
        ],
    )
    with sqlite3.connect(welsh_office.settings.database_path) as db:
        state, language = db.execute("SELECT state, language FROM drafts").fetchone()
    draft = json.loads(state)
    assert language == draft["language"] == "en"
    assert draft["answers"]["full_name"]["value"] == "Siân Jones"
    assert draft["answers"]["postcode"]["value"] == INSIDE
    assert draft["answers"]["address"]["value"] == "1 Stryd Fawr, Queensferry"


async def test_a_postcode_elsewhere_is_named_in_welsh(
    cymraeg: Harness, welsh_office: Office
) -> None:
    user = new_user("Siân", "Jones")
    transcript = welsh_intake(welsh_office)[:5]
    await cymraeg.run(user, transcript)
    texts = await cymraeg.act(user, ("text", ELSEWHERE))
    assert "Blaenau Gwent a Rhymni" in texts[-1]
    assert "Blaenau Gwent and Rhymney" not in texts[-1]
    assert "Alun a Glannau Dyfrdwy" in texts[-1]


async def test_the_command_menu_is_set_in_each_language(cymraeg: Harness) -> None:
    # Constituents' menus are the default scope's; staff get theirs per chat.
    calls = [c for c in cymraeg.request.calls("setMyCommands") if "scope" not in c.params]
    menus = {
        call.params.get("language_code"): [c["command"] for c in call.params["commands"]]
        for call in calls
    }
    assert set(menus) == {None, "cy"}
    assert "iaith" in menus["cy"]
    assert "language" in menus[None]
    [welsh] = [c for c in calls if c.params.get("language_code")]
    descriptions = {c["command"]: c["description"] for c in welsh.params["commands"]}
    assert descriptions["start"] == "Dechrau neu barhau â'ch ymholiad"


async def test_an_office_in_england_asks_no_language_unless_set(
    harness: Harness, tmp_path: Path, clock: Clock
) -> None:
    user = new_user()
    texts = await harness.act(user, ("command", "/start"))
    assert "If anyone is in danger now, call 999" in texts[-1]
    office = prepare(make_settings(tmp_path / "other.sqlite3", languages="en,cy"))
    async with Harness.running(office, clock) as bilingual:
        texts = await bilingual.act(user, ("command", "/start"))
    assert "Pa iaith hoffech chi ei defnyddio?" in texts[-1]


class _Down(RecordingRequest):
    """The offline Bot API with one private chat unreachable (Bad Gateway) while ``down``."""

    def __init__(self, chat_id: int) -> None:
        super().__init__()
        self.chat_id, self.down = chat_id, True

    def _answer(
        self, api_method: str, params: JSON, request_data: RequestData | None
    ) -> tuple[int | None, JSON]:
        chat = params.get("chat_id")
        if self.down and api_method == "sendMessage" and str(chat) == str(self.chat_id):
            self.fail_next(api_method, status=HTTPStatus.BAD_GATEWAY)
        return super()._answer(api_method, params, request_data)


async def test_a_welsh_confirmation_is_delivered_in_welsh_after_a_restart(
    welsh_office: Office, clock: Clock
) -> None:
    user = new_user("Siân", "Jones")
    first = _Down(user.user_id)
    first.down = False
    async with Harness.running(welsh_office, clock, first) as harness:
        await harness.run(user, welsh_intake(welsh_office))
        first.down = True
        await harness.app.process_update(
            harness.updates.press(user, label(welsh_office, "button.send"))
        )
    [case] = _cases(welsh_office)
    reference = case["reference"]
    assert not [t for t in first.sent_texts(user.user_id) if reference in t]

    clock.advance(minutes=5)
    second = RecordingRequest()
    async with Harness.running(welsh_office, clock, second) as harness:
        await harness.settle()
    [confirmation] = [t for t in second.sent_texts(user.user_id) if reference in t]
    expected = texts_of(welsh_office, "cy").render(
        Msg("confirmation.sent", {**welsh_office.params, "reference": reference}),
        lambda text: html.escape(text, quote=False),
    )
    assert confirmation == expected
    assert "Mae eich ymholiad wedi'i anfon" in confirmation


async def test_what_the_office_sends_later_is_in_welsh(
    cymraeg: Harness, welsh_office: Office, clock: Clock
) -> None:
    user = new_user("Siân", "Jones")
    await cymraeg.run(user, welsh_intake(welsh_office))
    await cymraeg.act(user, ("tap", label(welsh_office, "button.send")))
    [case] = _cases(welsh_office)
    reference = case["reference"]

    reply = cymraeg.updates.group_command(SAM, STAFF_CHAT, "/reply", reference, "Diolch, Siân.")
    staff_saw = await cymraeg.send(reply, chat_id=STAFF_CHAT)
    assert any("Reply sent" in text or reference in text for text in staff_saw)  # in English
    relayed = cymraeg.request.sent_texts(user.user_id)[-1]
    assert f"swyddfa Jo Example</b> am eich ymholiad {reference}" in relayed
    assert "Diolch, Siân." in relayed

    texts = await cymraeg.act(user, ("command", "/status"))
    assert "Eich ymholiadau" in texts[-1]
    assert label(welsh_office, "category.housing") in texts[-1]
    assert "23 Tach 2026 09:30" in texts[-1]

    await cymraeg.act(user, ("command", "/mydata"))
    readable, _ = cymraeg.request.calls("sendDocument")
    assert "Mae'r ffeil hon yn cynnwys popeth" in (readable.text or "")
    [document] = readable.uploads.values()
    copy = document.decode()
    assert "Alun a Glannau Dyfrdwy" in copy
    assert "23 Tachwedd 2026" in copy
    assert "November" not in copy


async def test_a_reminder_of_a_welsh_draft_is_in_welsh(
    cymraeg: Harness, welsh_office: Office, clock: Clock
) -> None:
    user = new_user("Siân", "Jones")
    await cymraeg.run(user, welsh_intake(welsh_office)[:5])
    clock.advance(hours=welsh_office.settings.draft_reminder_hours + 1)
    await services_of(cymraeg.app).privacy.sweep()
    await cymraeg.settle()
    reminder = cymraeg.request.sent_texts(user.user_id)[-1]
    assert "Rydych wedi dechrau ymholiad" in reminder
    assert "ar ôl 7 diwrnod heb ateb" in reminder
