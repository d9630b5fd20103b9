"""Whole intakes through the real Application on an offline Bot API."""

from __future__ import annotations

import asyncio
import json
import sqlite3

from support.intake import Clock, Harness, intake_to_review, new_user

from bot.core.references import parse_reference
from bot.office import Office


def _cases(office: Office) -> list[dict[str, object]]:
    with sqlite3.connect(office.settings.database_path) as db:
        rows = db.execute("SELECT data FROM cases ORDER BY id").fetchall()
    return [json.loads(row[0]) for row in rows]


def _drafts(office: Office) -> int:
    with sqlite3.connect(office.settings.database_path) as db:
        return int(db.execute("SELECT count(*) FROM drafts").fetchone()[0])


async def test_happy_path_ends_with_a_reference_and_a_stored_case(
    harness: Harness, office: Office
) -> None:
    user = new_user()
    await harness.run(user, intake_to_review())
    texts = await harness.act(user, ("tap", "Send to the office"))
    confirmation = texts[-1]
    assert "Your enquiry has been sent" in confirmation
    reference = confirmation.split("<b>")[2].split("</b>")[0]
    assert parse_reference(reference, "SOT") == reference
    [case] = _cases(office)
    assert case["reference"] == reference
    assert case["status"] == "new"
    assert case["category"] == "housing"
    assert case["constituency_code"] == "E14001520"
    answers = case["answers"]
    assert isinstance(answers, dict)
    assert answers["full_name"] == "Ada Lovelace"
    assert answers["postcode"] == "ST4 1HH"
    assert answers["phone"] == "+447911123456"
    assert answers["address"] == "12 Example Road, Stoke-on-Trent"
    assert case["attachments"] == [
        {
            "kind": "photo",
            "file_id": "photo-of-letter-1",
            "file_unique_id": "u-photo-of-letter-1",
            "file_name": None,
            "mime_type": None,
            "caption": None,
        }
    ]
    consent = case["consent"]
    assert isinstance(consent, dict)
    assert consent["answer"] == "yes"
    assert consent["version"] == "2026-11-v1"
    assert _drafts(office) == 0
    with sqlite3.connect(office.settings.database_path) as db:
        stored = db.execute("SELECT version, answer FROM consents").fetchall()
    assert stored == [("2026-11-v1", "yes")]


async def test_check_answers_lists_what_was_given(harness: Harness) -> None:
    user = new_user()
    texts = await harness.run(user, intake_to_review())
    review = texts[-1]
    for shown in ("Ada Lovelace", "ST4 1HH", "07911 123 456", "Housing", "1 sent", "Yes, I give"):
        assert shown in review


async def test_out_of_area_postcode_names_the_constituency_and_keeps_nothing(
    harness: Harness, office: Office
) -> None:
    user = new_user()
    transcript = intake_to_review()[:4]
    await harness.run(user, transcript)
    texts = await harness.act(user, ("text", "ST6 1AA"))
    assert "Stoke-on-Trent North" in texts[-1]
    assert "Is ST6 1AA right?" in texts[-1]
    assert _drafts(office) == 1  # kept until the person says the postcode is right
    texts = await harness.act(user, ("tap", "Yes, that is my postcode"))
    assert "contact the MP for Stoke-on-Trent North" in texts[-1].replace("Contact", "contact")
    assert _drafts(office) == 0
    assert _cases(office) == []
    after = await harness.act(user, ("text", "hello"))
    assert "Send /start" in after[-1]


async def test_unknown_and_malformed_postcodes_keep_the_person_on_the_question(
    harness: Harness, office: Office
) -> None:
    user = new_user()
    await harness.run(user, intake_to_review()[:4])
    texts = await harness.act(user, ("text", "ST4 1ZZ"))
    assert "We cannot find the postcode ST4 1ZZ" in texts[-1]
    texts = await harness.act(user, ("text", "ST4 IHH"))
    assert "Enter a full UK postcode, like ST4 1HH" in texts[-1]
    assert "You sent: ST4 IHH" in texts[-1]
    texts = await harness.act(user, ("text", "JE2 4WD"))
    assert "Jersey" in texts[-1]
    await harness.run(user, [(("text", "ST4 1HH"), "What is your address?")])
    assert _drafts(office) == 1


async def test_consent_refused_is_respected(harness: Harness, office: Office) -> None:
    user = new_user()
    transcript = intake_to_review()
    transcript[-1] = (("tap", "No"), "Check your answers before sending")
    await harness.run(user, transcript)
    texts = await harness.act(user, ("tap", "Send to the office"))
    assert "You did not give permission" in texts[-1]
    [case] = _cases(office)
    consent = case["consent"]
    assert isinstance(consent, dict)
    assert consent["answer"] == "no"


async def test_change_an_answer_from_check_answers_returns_there(
    harness: Harness, office: Office
) -> None:
    user = new_user()
    await harness.run(user, intake_to_review())
    await harness.run(
        user,
        [
            (("tap", "Change an answer"), "Which answer do you want to change?"),
            (("tap", "Your name"), "What is your full name?"),
            (("text", "Ada King"), "Check your answers before sending"),
        ],
    )
    texts = await harness.act(user, ("tap", "Send to the office"))
    assert "Your enquiry has been sent" in texts[-1]
    [case] = _cases(office)
    answers = case["answers"]
    assert isinstance(answers, dict)
    assert answers["full_name"] == "Ada King"


async def test_changing_to_helping_someone_else_asks_the_new_questions(harness: Harness) -> None:
    user = new_user()
    await harness.run(user, intake_to_review())
    await harness.run(
        user,
        [
            (("tap", "Change an answer"), "Which answer do you want to change?"),
            (("tap", "Enquiry for"), "Is this enquiry about you"),
            (("tap", "I am helping someone else"), "full name of the person you are helping"),
            (("text", "Grace Hopper"), "How do you know them?"),
            (("text", "Her neighbour"), "Do they agree"),
            # Their postcode and address, not the helper's, decide: they are asked again.
            (("tap", "Yes, they agree"), "home postcode of the person you are helping"),
            (("text", "ST4 1HH"), "What is their address?"),
            (("text", "3 Other Road, Stoke-on-Trent"), "What is your own address?"),
            (("tap", "Skip this question"), "What is their date of birth?"),
            (("text", "14 3 1950"), "Check your answers before sending"),
        ],
    )


async def test_restart_in_the_middle_resumes_at_the_same_question(
    office: Office, clock: Clock
) -> None:
    user = new_user()
    transcript = intake_to_review()
    async with Harness.running(office, clock) as first:
        await first.run(user, transcript[:8])
    async with Harness.running(office, clock) as second:
        second.updates = type(second.updates)(second.app.bot, second.request)
        await second.run(
            user,
            [
                (("command", "/start"), "Do you want to carry on"),
                (("tap", "Carry on"), "What is your email address?"),
            ],
        )
        rest = transcript[8:]
        await second.run(user, rest)
        texts = await second.act(user, ("tap", "Send to the office"))
        assert "Your enquiry has been sent" in texts[-1]
    [case] = _cases(office)
    answers = case["answers"]
    assert isinstance(answers, dict)
    assert answers["email"] == "ada@example.org"
    assert answers["full_name"] == "Ada Lovelace"


async def test_the_same_button_pressed_twice_advances_once(harness: Harness) -> None:
    user = new_user()
    await harness.run(user, intake_to_review()[:2])
    press = harness.updates.press(user, "It is about me")
    again = harness.updates.press(user, "It is about me")
    first = await harness.send(press)
    second = await harness.send(again)
    assert any("What is your full name?" in t for t in first)
    assert second == []
    answers = harness.request.calls("answerCallbackQuery")[-2:]
    assert "text" not in answers[0].params
    assert answers[1].params.get("text") == "That button is from an earlier question."


async def test_every_button_press_is_answered(harness: Harness) -> None:
    user = new_user()
    await harness.run(user, intake_to_review())
    presses = sum(1 for (kind, _), _ in intake_to_review() if kind == "tap")
    assert len(harness.request.calls("answerCallbackQuery")) == presses


async def test_back_goes_to_the_previous_question_with_answers_kept(harness: Harness) -> None:
    user = new_user()
    await harness.run(user, intake_to_review()[:5])
    await harness.run(
        user,
        [
            (("command", "/back"), "What is your home postcode?"),
            (("command", "/back"), "What is your full name?"),
            (("text", "Ada Lovelace"), "What is your home postcode?"),
        ],
    )


async def test_cancel_asks_then_deletes(harness: Harness, office: Office) -> None:
    user = new_user()
    await harness.run(user, intake_to_review()[:5])
    await harness.run(
        user,
        [
            (("command", "/cancel"), "Do you want to stop and delete"),
            (("tap", "No, carry on"), "What is your address?"),
            (("command", "/cancel"), "Do you want to stop and delete"),
            (("tap", "Yes, delete my answers"), "Your answers have been deleted"),
        ],
    )
    assert _drafts(office) == 0


async def test_unusable_messages_get_a_plain_answer(harness: Harness) -> None:
    user = new_user()
    await harness.run(user, intake_to_review()[:4])
    texts = await harness.act(user, ("sticker", ""))
    assert "Type your postcode, like ST4 1HH" in texts[-1]
    stale = harness.updates.callback(user, "i1:0:o.start", message_id=1)
    assert await harness.send(stale) == []
    forged = harness.updates.callback(user, "something-else", message_id=1)
    assert await harness.send(forged) == []
    texts = await harness.act(user, ("text", "ST4 1HH"))
    assert "What is your address?" in texts[-1]


async def test_typed_text_is_escaped_when_echoed(harness: Harness) -> None:
    user = new_user()
    await harness.run(user, intake_to_review()[:4])
    texts = await harness.act(user, ("text", "<b>&amp;"))
    assert "You sent: &lt;b&gt;&amp;amp;" in texts[-1]


async def test_a_name_with_markup_is_escaped_on_check_answers(harness: Harness) -> None:
    user = new_user()
    texts = await harness.run(user, intake_to_review(name="Ada <b>&</b> Byron"))
    assert "Ada &lt;b&gt;&amp;&lt;/b&gt; Byron" in texts[-1]


async def test_group_chats_are_told_to_message_privately(harness: Harness) -> None:
    user = new_user()
    update = harness.updates.group_command(user, -100123, "/start")
    texts = await harness.send(update)
    [text] = texts
    assert text.startswith("To contact the office, send me a private message.")


async def test_commands_are_registered(harness: Harness) -> None:
    # Constituents' menu is the one without a scope (staff have theirs: see test_staff_menus).
    [call] = [c for c in harness.request.calls("setMyCommands") if "scope" not in c.params]
    names = (
        [c["command"] for c in json.loads(call.params["commands"])]
        if isinstance(call.params["commands"], str)
        else [c["command"] for c in call.params["commands"]]
    )
    assert names == [
        "start",
        "back",
        "cancel",
        "help",
        "privacy",
        "about",
        "status",
        "mydata",
        "delete",
        "withdraw",
    ]


async def test_about_shows_the_postcode_data_attribution(harness: Harness) -> None:
    user = new_user()
    texts = await harness.act(user, ("command", "/about"))
    assert "Contains OS data © Crown copyright" in texts[-1]
    assert "mySociety" in texts[-1]


async def test_fifty_drafts_sent_at_once_get_fifty_references(
    harness: Harness, office: Office
) -> None:
    users = [new_user(f"Person{i}") for i in range(50)]
    await asyncio.gather(*(harness.run(user, intake_to_review()) for user in users))
    presses = [harness.updates.press(user, "Send to the office") for user in users]
    # Straight to the Application: the staff group takes 20 cards a minute, so the 50 cards
    # are still being delivered when the references are checked.
    await asyncio.gather(*(harness.app.process_update(press) for press in presses))
    references = [case["reference"] for case in _cases(office)]
    assert len(references) == 50
    assert len(set(references)) == 50


async def test_colliding_reference_numbers_are_retried(office: Office, clock: Clock) -> None:
    numbers = iter([7, 7, 7, 8])
    async with Harness.running(office, clock, random_number=lambda: next(numbers)) as running:
        first, second = new_user(), new_user()
        for user in (first, second):
            await running.run(user, intake_to_review())
            await running.act(user, ("tap", "Send to the office"))
    references = [case["reference"] for case in _cases(office)]
    assert len(set(references)) == 2
