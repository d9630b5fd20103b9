"""What people on phones do, through the real Application: helping someone else, postcode slips,
stories in several messages, voice notes, and answers shown as people write them."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from support.intake import STAFF_CHAT, Action, Harness, intake_to_review, new_user
from support.telegram import FakeUser
from telegram import Update

from bot.core.case import Case
from bot.core.export import export_row
from bot.office import Office

Transcript = list[tuple[Action, str]]


def cases(office: Office) -> list[dict[str, Any]]:
    """Return every stored case as its JSON."""
    with sqlite3.connect(office.settings.database_path) as db:
        rows = db.execute("SELECT data FROM cases ORDER BY id").fetchall()
    return [json.loads(row[0]) for row in rows]


def drafts(office: Office) -> int:
    """Return how many drafts are stored."""
    with sqlite3.connect(office.settings.database_path) as db:
        return int(db.execute("SELECT count(*) FROM drafts").fetchone()[0])


def for_someone_else(their_postcode: str) -> Transcript:
    """Return an intake by a helper, up to the constituent's postcode being answered."""
    return [
        (("command", "/start"), "If anyone is in danger now, call 999"),
        (("tap", "Start"), "Is this enquiry about you"),
        (("tap", "I am helping someone else"), "full name of the person you are helping"),
        (("text", "Grace Hopper"), "How do you know them?"),
        (("text", "Her son"), "Do they agree"),
        (("tap", "Yes, they agree"), "what is your own full name?"),
        (("text", "Alan Hopper"), "home postcode of the person you are helping"),
        (("text", their_postcode), ""),
    ]


REST_FOR_SOMEONE_ELSE: Transcript = [
    (("text", "3 Example Road, Stoke-on-Trent"), "What is your own phone number?"),
    (("contact", "447911123456"), "How would you like us to contact you?"),
    (("tap", "Letter"), "What is your own email address?"),
    (("tap", "Skip this question"), "What is your own address?"),
    # The helper lives in London, outside the constituency: that is fine.
    (("text", "10 Downing Street, London SW1A 2AA"), "What is their date of birth?"),
    (("text", "14/3/1950"), "What is your enquiry about?"),
]


async def to_category(harness: Harness, user: FakeUser) -> None:
    """Run an intake for oneself up to the category question."""
    await harness.run(user, intake_to_review()[:10])


async def test_a_helper_from_elsewhere_for_a_constituent_here_is_accepted_with_both_people(
    harness: Harness, office: Office
) -> None:
    helper = new_user("Alan", "Hopper")
    await harness.run(helper, for_someone_else("ST4 1HH")[:-1])
    await harness.run(helper, [(("text", "ST4 1HH"), "What is their address?")])
    await harness.run(helper, REST_FOR_SOMEONE_ELSE)
    rest = intake_to_review()[10:]
    texts = await harness.run(helper, rest)
    review = texts[-1]
    for shown in ("Their postcode", "Their address", "Your address", "14 March 1950"):
        assert shown in review
    sent = await harness.act(helper, ("tap", "Send to the office"))
    assert "Your enquiry has been sent" in sent[-1]
    [case] = cases(office)
    answers = case["answers"]
    assert answers["other_name"] == "Grace Hopper"
    assert answers["full_name"] == "Alan Hopper"
    assert answers["postcode"] == "ST4 1HH"
    assert answers["helper_address"] == "10 Downing Street, London SW1A 2AA"
    card = next(t for t in harness.request.sent_texts(STAFF_CHAT) if case["reference"] in t)
    # The card says someone wrote for the constituent, never who either of them is.
    assert "For someone else (Her son)" in card
    assert "Grace" not in card
    assert "Alan" not in card
    row = export_row(
        Case.model_validate(case), assignee_name=None, category_label="Housing", summary=""
    )
    assert (row["first_name"], row["last_name"]) == ("Grace", "Hopper")
    assert (row["helper_name"], row["helper_relationship"]) == ("Alan Hopper", "Her son")
    assert row["on_behalf_of"] == "Grace Hopper"
    assert row["date_of_birth"] == "1950-03-14"


async def test_a_helper_here_for_a_constituent_elsewhere_is_refused_and_nothing_is_kept(
    harness: Harness, office: Office
) -> None:
    helper = new_user("Alan", "Hopper")
    await harness.run(helper, for_someone_else("ST6 1AA")[:-1])
    await harness.run(
        helper,
        [
            (("text", "ST6 1AA"), "the postcode of the person you are helping that counts"),
            (("tap", "Yes, that is their postcode"), "we have not kept the details you gave"),
        ],
    )
    assert drafts(office) == 0
    assert cases(office) == []


async def test_someone_who_cannot_agree_is_recorded_with_the_helpers_authority(
    harness: Harness, office: Office
) -> None:
    helper = new_user("Mary", "Shelley")
    steps = for_someone_else("ST4 1HH")[:5]
    await harness.run(
        helper,
        [
            *steps,
            (("tap", "They are not able to agree"), "Organisations will want proof"),
            (("tap", "A power of attorney"), "what is your own full name?"),
        ],
    )
    with sqlite3.connect(office.settings.database_path) as db:
        [(state,)] = db.execute("SELECT state FROM drafts").fetchall()
    answers = json.loads(state)["answers"]
    assert (answers["other_agrees"]["value"], answers["other_authority"]["value"]) == (
        "unable",
        "attorney",
    )


async def test_no_agreement_yet_is_told_what_the_office_will_need(harness: Harness) -> None:
    helper = new_user()
    await harness.run(
        helper,
        [
            *for_someone_else("ST4 1HH")[:5],
            (("tap", "No, or not yet"), "the person you are helping will need to agree"),
            (("tap", "Carry on"), "what is your own full name?"),
        ],
    )


async def test_a_postcode_slip_is_corrected_without_losing_the_enquiry(
    harness: Harness, office: Office
) -> None:
    user = new_user()
    await harness.run(
        user,
        [
            *intake_to_review()[:4],
            (("text", "ST6 1AA"), "Is ST6 1AA right?"),
            (("tap", "No, let me correct it"), "What is your home postcode?"),
            (("text", "ST4 1HH"), "What is your address?"),
        ],
    )
    assert drafts(office) == 1


async def test_changing_the_postcode_at_check_answers_to_another_area_keeps_every_answer(
    harness: Harness, office: Office
) -> None:
    user = new_user()
    await harness.run(user, intake_to_review())
    await harness.run(
        user,
        [
            (("tap", "Change an answer"), "Which answer do you want to change?"),
            (("tap", "Postcode"), "What is your home postcode?"),
            (("text", "ST6 1AA"), "Is ST6 1AA right?"),
            (("tap", "No, let me correct it"), "What is your home postcode?"),
            (("text", "ST4 1HH"), "Check your answers before sending"),
        ],
    )
    sent = await harness.act(user, ("tap", "Send to the office"))
    assert "Your enquiry has been sent" in sent[-1]
    [case] = cases(office)
    assert case["answers"]["what_happened"].startswith("The council has not repaired")


async def test_a_postcode_we_cannot_find_twice_can_be_sent_for_the_office_to_check(
    harness: Harness, office: Office
) -> None:
    user = new_user()
    await harness.run(
        user,
        [
            *intake_to_review()[:4],
            (("text", "ST4 1ZZ"), "We cannot find the postcode ST4 1ZZ"),
            (("text", "ST4 1ZZ"), "01782 232 000"),
            (("tap", "Send it with ST4 1ZZ to check"), "What is your address?"),
        ],
    )
    await harness.run(user, intake_to_review()[5:])
    await harness.act(user, ("tap", "Send to the office"))
    [case] = cases(office)
    assert case["postcode_verified"] is False
    assert case["answers"]["postcode"] == "ST4 1ZZ"
    card = next(t for t in harness.request.sent_texts(STAFF_CHAT) if case["reference"] in t)
    assert "not in our data" in card


async def test_a_letter_i_for_a_one_is_offered_the_postcode_meant(harness: Harness) -> None:
    user = new_user()
    await harness.run(
        user,
        [
            *intake_to_review()[:4],
            (("text", "ST4 IHH"), "Did you mean ST4 1HH?"),
            (("tap", "Yes, use ST4 1HH"), "What is your address?"),
        ],
    )


async def test_a_story_sent_as_three_messages_is_one_answer(
    harness: Harness, office: Office
) -> None:
    user = new_user()
    steps = intake_to_review()
    story = steps.index(next(s for s in steps if s[0][1].startswith("The council")))
    await harness.run(user, steps[:story])
    await harness.run(
        user,
        [
            (("text", "My benefits stopped in May."), "That is everything"),
            (("text", "They said I missed an appointment."), "characters so far"),
            (("text", "But the letter never came."), "characters so far"),
            (("tap", "That is everything"), "What would you like the MP to do?"),
        ],
    )
    await harness.run(user, steps[story + 2 :])
    texts = await harness.act(user, ("tap", "Send to the office"))
    assert "Your enquiry has been sent" in texts[-1]
    [case] = cases(office)
    assert case["answers"]["what_happened"] == (
        "My benefits stopped in May.\n\nThey said I missed an appointment.\n\n"
        "But the letter never came."
    )


async def test_a_story_over_the_limit_keeps_what_fits_and_says_so_and_shows_it_whole(
    harness: Harness, office: Office
) -> None:
    user = new_user()
    steps = intake_to_review()
    story = steps.index(next(s for s in steps if s[0][1].startswith("The council")))
    await harness.run(user, steps[:story])
    part = ("word " * 700).strip()  # 3,499 characters: two of them pass the 6,000 limit
    await harness.act(user, ("text", part))
    texts = await harness.act(user, ("text", part))
    assert "we kept the first 6,000 characters" in texts[-1]
    await harness.run(user, [(("tap", "That is everything"), "What would you like the MP")])
    texts = await harness.run(user, steps[story + 2 :])
    whole = [t for t in texts if "(in full)" in t]
    assert len(whole) == 2  # 6,000 characters, in two messages before the summary
    assert all(len(t) <= 4096 for t in texts)
    assert "Check your answers before sending" in texts[-1]
    await harness.act(user, ("tap", "Send to the office"))
    [case] = cases(office)
    assert 5800 <= len(case["answers"]["what_happened"]) <= 6000


async def test_a_voice_note_and_a_location_are_answered_plainly(harness: Harness) -> None:
    user = new_user()
    await harness.run(user, intake_to_review()[:5])
    texts = await harness.send(harness.updates.voice(user), chat_id=user.user_id)
    assert "We cannot listen to voice messages. Type your answer instead." in texts[-1]
    location = {"latitude": 53.0, "longitude": -2.18}
    update = Update.de_json(
        {
            "update_id": 999_001,
            "message": harness.updates._message(user, location=location),
        },
        harness.app.bot,
    )
    texts = await harness.send(update, chat_id=user.user_id)
    assert "A shared location does not give us an address" in texts[-1]
    await harness.run(user, [(("text", "12 Example Road"), "What is your phone number?")])


async def test_check_answers_shows_answers_as_written_with_send_first(harness: Harness) -> None:
    user = new_user()
    steps = intake_to_review()
    dob = steps.index(next(s for s in steps if s[1] == "What is your enquiry about?"))
    steps[dob] = (("text", "14/3/1982"), "What is your enquiry about?")
    texts = await harness.run(user, steps)
    assert "14 March 1982" in texts[-1]
    assert "07911 123 456" in texts[-1]
    keyboard = harness.request.last_keyboard(user.user_id)
    labels = [row[0][0] for row in keyboard]
    assert labels[0] == "Send to the office"
    assert labels == ["Send to the office", "Change an answer", "« Back"]
    await harness.run(
        user,
        [
            (("tap", "Change an answer"), "Which answer do you want to change?"),
            (("tap", "« Back to your answers"), "Check your answers before sending"),
        ],
    )


async def test_contact_by_email_without_an_email_asks_for_it(harness: Harness) -> None:
    user = new_user()
    steps = intake_to_review()[:7]
    await harness.run(user, [*steps, (("tap", "Email"), "You asked us to email you")])
    labels = [row[0][0] for row in harness.request.last_keyboard(user.user_id)]
    assert "Skip this question" not in labels
    await harness.run(
        user,
        [
            (("command", "/back"), "How would you like us to contact you?"),
            (("tap", "A message here on Telegram"), "What is your email address?"),
        ],
    )
    labels = [row[0][0] for row in harness.request.last_keyboard(user.user_id)]
    assert "Skip this question" in labels


async def test_the_phone_question_has_back_and_going_back_saves_no_number(
    harness: Harness,
) -> None:
    user = new_user()
    await harness.run(user, intake_to_review()[:6])
    keyboard = harness.request.last_keyboard(user.user_id)
    assert keyboard == [["Share my phone number"], ["« Back"]]
    texts = await harness.act(user, ("text", "« Back"))
    assert "Phone number saved." not in "\n".join(texts)
    assert "Back to the previous question." in texts[0]
    assert "What is your address?" in texts[-1]


async def test_a_number_not_in_use_is_told_so(harness: Harness) -> None:
    user = new_user()
    await harness.run(
        user,
        [
            *intake_to_review()[:6],
            (("text", "07700 900461"), "That number is not in use in the UK – check it"),
            (("text", "07911 123 456"), "How would you like us to contact you?"),
        ],
    )


async def test_a_typed_category_picks_its_button(harness: Harness) -> None:
    user = new_user()
    await to_category(harness, user)
    await harness.run(user, [(("text", "benefits"), "Which organisation is it about?")])


async def test_a_misspelt_email_domain_is_offered_once_and_never_forced(
    harness: Harness, office: Office
) -> None:
    user = new_user()
    steps = intake_to_review()[:8]
    await harness.run(
        user,
        [
            *steps,
            (("text", "ada@gmial.com"), "Did you mean ada@gmail.com?"),
            (("text", "ada@gmial.com"), "What is your date of birth?"),
        ],
    )
    other = new_user()
    await harness.run(
        other,
        [
            *steps,
            (("text", "ada@gmial.com"), "Did you mean ada@gmail.com?"),
            (("tap", "Yes, use ada@gmail.com"), "What is your date of birth?"),
        ],
    )


async def test_odd_updates_the_api_allows_are_answered_without_an_error(
    harness: Harness,
) -> None:
    nameless = new_user("", None)
    texts = await harness.act(nameless, ("command", "/start"))
    assert "If anyone is in danger now, call 999" in texts[-1]
    await harness.run(nameless, [(("tap", "Start"), "Is this enquiry about you")])
    await harness.run(nameless, [(("tap", "It is about me"), "What is your full name?")])
    labels = [b for row in harness.request.last_keyboard(nameless.user_id) for b in row]
    assert all(label[0].strip() for label in labels)  # no blank Telegram-name button
    inline = Update.de_json(
        {
            "update_id": 999_002,
            "callback_query": {
                "id": "inline-1",
                "from": nameless.to_dict(),
                "chat_instance": "elsewhere",
                "inline_message_id": "AAAA",
                "data": "i1:3:o.self",
            },
        },
        harness.app.bot,
    )
    await harness.send(inline)
    [answer] = harness.request.calls("answerCallbackQuery")[-1:]
    assert answer.params["callback_query_id"] == "inline-1"
