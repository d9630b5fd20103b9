"""The staff queue through the real Application on an offline Bot API: cards, commands, replies."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from support.intake import (
    PRIYA,
    SAM,
    STAFF_CHAT,
    Action,
    Clock,
    Harness,
    intake_to_review,
    make_settings,
    new_user,
    services_of,
)
from support.telegram import FakeUser, InlineRows

from bot.core.export import EXPORT_FIELDS
from bot.office import prepare
from bot.service.outbox import RateLimit
from bot.storage.records import AuditEntry, StoredCase

REFUSED = "This command is for office staff."
OTHER_GROUP = -100999
MADE_UP = "SOT-2222222"  # a well-formed reference no case has
STAFF_COMMANDS: list[tuple[str, ...]] = [
    ("/queue",),
    ("/case", "{ref}"),
    ("/claim", "{ref}"),
    ("/assign", "{ref}", "Sam"),
    ("/note", "{ref}", "Called", "the", "council"),
    ("/status", "{ref}", "x"),
    ("/close", "{ref}", "Sorted"),
    ("/reply", "{ref}", "Hello"),
    ("/export", "csv"),
    ("/audit", "{ref}"),
]


def intake(
    *,
    name: str = "Ada Lovelace",
    category: str = "Housing",
    happened: str | None = None,
    deadline: str | None = None,
) -> list[tuple[Action, str]]:
    """Return an intake up to check-your-answers with some answers changed."""
    steps = intake_to_review(name)
    steps[10] = (("tap", category), "Which organisation is it about?")
    if happened is not None:
        steps[14] = (("text", happened), "That is everything")
    if deadline is not None:
        steps[18] = (("text", deadline), "letters or documents")
    return steps


async def send_case(
    harness: Harness, user: FakeUser, steps: list[tuple[Action, str]] | None = None
) -> str:
    """Run a whole intake, press Send, and return the new case's reference."""
    await harness.run(user, steps or intake_to_review())
    await harness.act(user, ("tap", "Send to the office"))
    cases = await services_of(harness.app).intake.cases_of(user.user_id)
    return cases[-1].reference


async def stored(harness: Harness, reference: str) -> StoredCase:
    """Return a case as stored, with its card's message id."""
    async with services_of(harness.app).store.transaction() as tx:
        found = await tx.get_case(reference)
    assert found is not None, reference
    return found


async def audit_of(harness: Harness, reference: str) -> list[AuditEntry]:
    """Return the audit log of a case."""
    async with services_of(harness.app).store.transaction() as tx:
        return await tx.list_audit(reference)


async def messages_of(harness: Harness, reference: str) -> list[str]:
    """Return the texts of a case's notes and messages, oldest first."""
    found = await stored(harness, reference)
    async with services_of(harness.app).store.transaction() as tx:
        return [m.text for m in await tx.list_messages(found.id)]


async def card(harness: Harness, reference: str) -> tuple[int, str, InlineRows]:
    """Return the card of a case as the staff group now shows it: id, text and buttons."""
    found = await stored(harness, reference)
    assert found.card_message_id is not None, "the card was never posted"
    message = harness.request.message(STAFF_CHAT, found.card_message_id)
    assert message is not None
    markup = message.get("reply_markup") or {"inline_keyboard": []}
    rows = [[(b["text"], b.get("callback_data")) for b in r] for r in markup["inline_keyboard"]]
    return found.card_message_id, str(message["text"]), rows


async def command(
    harness: Harness, user: FakeUser, text: str, *args: str, chat_id: int = STAFF_CHAT
) -> list[str]:
    """Send a command in a chat (the staff group unless told) and return what came back there."""
    if chat_id > 0:
        update = harness.updates.command(user, text, *args)
    else:
        update = harness.updates.group_command(user, chat_id, text, *args)
    return await harness.send(update, chat_id=chat_id)


def generous(harness: Harness) -> None:
    """Lift the staff group's 20-a-minute limit for tests that post many cards and edits."""
    services_of(harness.app).outbox.group_limit = RateLimit(1000, 60.0, lambda: 0.0)


def confirmation_texts(harness: Harness, user: FakeUser) -> list[str]:
    """Return the confirmations the constituent was sent."""
    return [
        t for t in harness.request.sent_texts(user.user_id) if "Your enquiry has been sent" in t
    ]


# --- the card ------------------------------------------------------------------------------


async def test_a_finished_intake_posts_a_card_and_confirms_with_the_reference(
    harness: Harness,
) -> None:
    user = new_user()
    reference = await send_case(harness, user)
    [confirmation] = confirmation_texts(harness, user)
    assert f"<b>{reference}</b>" in confirmation
    posted = [c for c in harness.request.calls("sendMessage") if c.chat_id == STAFF_CHAT and c.ok]
    assert len(posted) == 1
    message_id, text, buttons = await card(harness, reference)
    assert posted[0].text == text
    assert f"<code>{reference}</code> · Housing" in text
    assert "⚪ Not urgent" in text
    assert "Received 23 Nov 2026 09:30 (0m ago)" in text
    assert "Assigned to: nobody yet" in text
    assert "Status: New" in text
    # The card may stay in the group for good: who the constituent is and what they wrote
    # are only in the case view.
    for personal in ("Ada", "Lovelace", "ST4 1HH", "damp", "Example Road"):
        assert personal not in text
    assert buttons == [
        [("Claim", f"s1:claim:{reference}"), ("Show case", f"s1:show:{reference}")],
        [("Status", f"s1:st:{reference}"), ("Close", f"s1:close:{reference}")],
    ]
    assert posted[0].params["parse_mode"] == "HTML"
    assert message_id > 0


async def test_the_card_shows_the_age_of_the_case(harness: Harness, clock: Clock) -> None:
    reference = await send_case(harness, new_user())
    clock.advance(hours=5)
    await command(harness, SAM, "/note", reference, "Rang them")
    _, text, _ = await card(harness, reference)
    assert "Received 23 Nov 2026 09:30 (5h ago)" in text


async def test_a_name_with_markup_is_escaped_in_the_case_view(harness: Harness) -> None:
    reference = await send_case(harness, new_user(), intake(name="Ada <b>&</b> Byron"))
    _, text, _ = await card(harness, reference)
    assert "Byron" not in text
    whole = "\n".join(await command(harness, SAM, "/case", reference))
    assert "<b>Your name</b>: Ada &lt;b&gt;&amp;&lt;/b&gt; Byron" in whole
    assert "<b>&" not in whole


# --- who may act ---------------------------------------------------------------------------


async def test_a_forged_claim_button_from_a_constituent_is_refused(harness: Harness) -> None:
    reference = await send_case(harness, new_user())
    message_id, _, _ = await card(harness, reference)
    stranger = new_user("Mallory", "Stranger")
    answers = []
    for ref in (reference, MADE_UP):
        before = len(harness.request.calls())
        for chat in (None, STAFF_CHAT):
            forged = harness.updates.callback(
                stranger, f"s1:claim:{ref}", message_id=message_id, chat_id=chat
            )
            sent = await harness.send(forged)
            assert sent == []
        calls = harness.request.calls()[before:]
        assert [c.method for c in calls] == ["answerCallbackQuery"] * 2
        answers.append(
            [{k: v for k, v in c.params.items() if k != "callback_query_id"} for c in calls]
        )
    assert answers[0] == answers[1]
    assert answers[0][0] == {"text": REFUSED, "show_alert": True}
    found = await stored(harness, reference)
    assert found.case.assignee is None
    assert found.case.status.value == "new"


@pytest.mark.parametrize("chat", ["private", "staff group"])
async def test_every_staff_command_refuses_a_constituent_and_reveals_nothing(
    harness: Harness, chat: str
) -> None:
    owner = new_user()
    reference = await send_case(harness, owner)
    stranger = new_user("Mallory", "Stranger")
    await send_case(harness, stranger)  # a constituent with a case of their own
    chat_id = stranger.user_id if chat == "private" else STAFF_CHAT
    before_case = await stored(harness, reference)
    for words in STAFF_COMMANDS:
        seen = []
        for ref in (reference, MADE_UP):
            name, *args = (w.format(ref=ref) for w in words)
            before = len(harness.request.calls())
            texts = await command(harness, stranger, name, *args, chat_id=chat_id)
            calls = harness.request.calls()[before:]
            assert texts == [REFUSED], (words, texts)
            assert [c.method for c in calls] == ["sendMessage"], words
            assert reference not in json.dumps([c.params for c in calls])
            seen.append(texts)
        assert seen[0] == seen[1], words
    after_case = await stored(harness, reference)
    assert after_case.case == before_case.case
    assert not any(e.actor == stranger.user_id for e in await audit_of(harness, reference))


async def test_staff_are_refused_in_an_unrelated_group(harness: Harness) -> None:
    reference = await send_case(harness, new_user())
    for words in STAFF_COMMANDS:
        name, *args = (w.format(ref=reference) for w in words)
        texts = await command(harness, SAM, name, *args, chat_id=OTHER_GROUP)
        assert texts == [REFUSED], words
    message_id, _, _ = await card(harness, reference)
    press = harness.updates.callback(
        SAM, f"s1:claim:{reference}", message_id=message_id, chat_id=OTHER_GROUP
    )
    assert await harness.send(press) == []
    answer = harness.request.calls("answerCallbackQuery")[-1]
    assert answer.params["text"] == REFUSED
    assert (await stored(harness, reference)).case.assignee is None


# --- working a case ------------------------------------------------------------------------


def edits_of(harness: Harness, message_id: int, since: int) -> list[str]:
    """Return the texts the card ``message_id`` was edited to after call number ``since``."""
    return [
        str(c.params["text"])
        for c in harness.request.calls()[since:]
        if c.method == "editMessageText" and c.ok
        if c.chat_id == STAFF_CHAT and c.params["message_id"] == message_id
    ]


def message_id_of(harness: Harness, chat_id: int, needle: str) -> int:
    """Return the id of the newest stored message in a chat whose text contains ``needle``."""
    for message in harness.request.messages(chat_id):
        if needle in str(message.get("text", "")):
            return int(message["message_id"])
    raise AssertionError(f"no message with {needle!r} in chat {chat_id}")


async def test_claim_assign_note_status_reply_and_close_round_trip(
    harness: Harness, clock: Clock
) -> None:
    generous(harness)
    user = new_user()
    reference = await send_case(harness, user)
    card_id, _, _ = await card(harness, reference)

    # Claim from the card.
    mark = len(harness.request.calls())
    press = harness.updates.callback(
        SAM, f"s1:claim:{reference}", message_id=card_id, chat_id=STAFF_CHAT
    )
    texts = await harness.send(press, chat_id=STAFF_CHAT)
    assert f"{reference} is now assigned to Sam." in texts
    [edited] = edits_of(harness, card_id, mark)
    assert "Assigned to: Sam" in edited
    assert "Status: Open" in edited
    assert harness.request.calls("answerCallbackQuery")[-1].params.get("text") is None

    # Assign to Priya: the card says so and Priya is told privately.
    mark = len(harness.request.calls())
    texts = await command(harness, SAM, "/assign", reference, "priya")
    assert f"{reference} is now assigned to Priya." in texts
    [edited] = edits_of(harness, card_id, mark)
    assert "Assigned to: Priya" in edited
    assert harness.request.sent_texts(PRIYA.user_id) == [
        f"Case {reference} has been assigned to you. Send /case {reference} to see it."
    ]

    # An internal note, from Priya's private chat.
    note = "Tenant says the landlord <b>shouted</b> at her"
    texts = await command(harness, PRIYA, "/note", reference, note, chat_id=PRIYA.user_id)
    assert texts == [f"Note added to {reference}."]

    # Waiting on the council.
    mark = len(harness.request.calls())
    texts = await command(harness, PRIYA, "/status", reference, "waiting")
    assert f"{reference} is now: Waiting on organisation." in texts
    [edited] = edits_of(harness, card_id, mark)
    assert "Status: Waiting on organisation" in edited

    # A reply to the constituent, signed with Priya's first name.
    clock.advance(minutes=5)
    texts = await command(
        harness, PRIYA, "/reply", reference, "We have written to the council for you."
    )
    assert f"Reply to {reference} is on its way to the constituent." in texts
    reply_text = harness.request.sent_texts(user.user_id)[-1]
    assert reply_text.startswith(
        f"<b>Message from Priya at the office of Jo Example</b> about your enquiry {reference}:"
    )
    assert "We have written to the council for you." in reply_text

    # The constituent answers that message with Telegram's reply...
    reply_id = message_id_of(harness, user.user_id, "Message from Priya")
    answer = harness.updates.text(
        user, "Thank you, it is still damp.", reply_to_message_id=reply_id
    )
    texts = await harness.send(answer, chat_id=user.user_id)
    assert texts == [
        "Thank you. Your message has been added to your enquiry"
        f" {reference} and passed to the team."
    ]
    assert harness.request.sent_texts(PRIYA.user_id)[-1] == (
        f"⬅️ <code>{reference}</code>, the constituent writes:\n\nThank you, it is still damp."
    )
    # ... and with a plain message while this is their one open case.
    texts = await harness.send(harness.updates.text(user, "Also <mould> & rot"))
    assert "has been added to your enquiry" in texts[0]
    assert harness.request.sent_texts(PRIYA.user_id)[-1].endswith("Also &lt;mould&gt; &amp; rot")
    assert not [t for t in harness.request.sent_texts(STAFF_CHAT) if "constituent writes" in t]

    # The whole case shows the note and every message.
    texts = await command(harness, SAM, "/case", reference)
    whole = "\n".join(texts)
    assert f"<code>{reference}</code> · Housing" in whole
    assert "Priya (internal): Tenant says the landlord &lt;b&gt;shouted&lt;/b&gt; at her" in whole
    assert "Priya to constituent: We have written to the council for you." in whole
    assert "constituent: Thank you, it is still damp." in whole
    assert "constituent: Also &lt;mould&gt; &amp; rot" in whole

    # Close: the constituent is told, the outcome stays internal.
    mark = len(harness.request.calls())
    texts = await command(harness, PRIYA, "/close", reference, "Council fixed the damp")
    assert f"{reference} is now: Closed." in texts
    [edited] = edits_of(harness, card_id, mark)
    assert "Status: Closed" in edited
    assert harness.request.sent_texts(user.user_id)[-1] == (
        f"Your enquiry {reference} has been closed. If you need more help, send a message here"
        " and we will open a new enquiry."
    )
    to_constituent = "\n".join(harness.request.sent_texts(user.user_id))
    assert "shouted" not in to_constituent
    assert "Council fixed the damp" not in to_constituent
    assert "internal" not in to_constituent
    assert (await stored(harness, reference)).case.status.value == "closed"

    # Their next message opens a new enquiry linked to the old one, details carried over.
    texts = await harness.send(harness.updates.text(user, "The damp is back"), user.user_id)
    joined = "\n".join(texts)
    assert f"Your enquiry {reference} is closed. We will start a new one, linked to it" in joined
    assert "If anyone is in danger now, call 999" in joined
    await harness.run(
        user,
        [
            (("tap", "Start"), "What is your date of birth?"),
            (("tap", "Skip this question"), "What is your enquiry about?"),
            *intake_to_review()[10:],
        ],
    )
    await harness.act(user, ("tap", "Send to the office"))
    cases = await services_of(harness.app).intake.cases_of(user.user_id)
    assert len(cases) == 2
    new = cases[-1]
    assert new.reference != reference
    assert new.linked_to == reference
    assert new.status.value == "new"
    for step, value in (
        ("full_name", "Ada Lovelace"),
        ("postcode", "ST4 1HH"),
        ("address", "12 Example Road, Stoke-on-Trent"),
        ("phone", "+447911123456"),
        ("email", "ada@example.org"),
    ):
        assert new.answers[step] == value, step
    _, text, _ = await card(harness, new.reference)
    assert f"Follows closed case <code>{reference}</code>" in text
    assert (await stored(harness, reference)).case.status.value == "closed"


async def test_a_reply_to_the_office_finds_its_case_among_several(harness: Harness) -> None:
    generous(harness)
    user = new_user()
    first = await send_case(harness, user)
    second = await send_case(harness, user, intake(category="Benefits and pensions"))
    await command(harness, SAM, "/reply", second, "Which benefit is it?")
    await command(harness, SAM, "/reply", first, "Which flat is it?")

    # A plain message cannot tell which case it is for: the constituent is asked.
    texts = await harness.send(harness.updates.text(user, "Hello?"), user.user_id)
    assert texts == [
        f"You have more than one open enquiry ({first}, {second}). Reply to our message about"
        " the one you mean, or send /status to see them."
    ]
    before = [len(await messages_of(harness, r)) for r in (first, second)]
    assert before == [1, 1]

    reply_id = message_id_of(harness, user.user_id, "Which benefit is it?")
    answer = harness.updates.text(user, "Universal Credit", reply_to_message_id=reply_id)
    texts = await harness.send(answer, user.user_id)
    assert f"added to your enquiry {second}" in texts[0]
    assert [len(await messages_of(harness, r)) for r in (first, second)] == [1, 2]
    # Unassigned: relayed to the staff group.
    assert f"⬅️ <code>{second}</code>, the constituent writes:\n\nUniversal Credit" in (
        harness.request.sent_texts(STAFF_CHAT)
    )


# --- routing, urgency and the queue --------------------------------------------------------


async def test_a_routed_category_goes_to_its_specialist(tmp_path: Path, clock: Clock) -> None:
    settings = make_settings(tmp_path / "routed.sqlite3", category_routes="housing:Priya")
    async with Harness.running(prepare(settings), clock) as harness:
        housing = await send_case(harness, new_user())
        benefits = await send_case(harness, new_user(), intake(category="Benefits and pensions"))
        _, text, _ = await card(harness, housing)
        assert "Assigned to: Priya" in text
        assert (await stored(harness, housing)).case.assignee == PRIYA.user_id
        _, text, _ = await card(harness, benefits)
        assert "Assigned to: nobody yet" in text
        assert (await stored(harness, benefits)).case.assignee is None
        assigned = [e for e in await audit_of(harness, housing) if e.action == "assigned"]
        assert [(e.actor, e.detail) for e in assigned] == [(None, f"to={PRIYA.user_id}")]
        told = harness.request.sent_texts(PRIYA.user_id)
        assert [t for t in told if housing in t and "assigned to you" in t]
        assert not [t for t in told if benefits in t]
        texts = await command(harness, PRIYA, "/queue", "mine", chat_id=PRIYA.user_id)
        assert housing in texts[0]
        assert benefits not in texts[0]


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"deadline": "7 12 2026"}, "deadline 2026-12-07"),
        ({"happened": "My landlord has served an Eviction notice on me."}, "mentions eviction"),
    ],
    ids=["deadline", "keyword"],
)
async def test_a_near_deadline_or_a_keyword_makes_a_case_urgent(
    harness: Harness, changes: dict[str, str], reason: str
) -> None:
    reference = await send_case(harness, new_user(), intake(**changes))
    _, text, _ = await card(harness, reference)
    assert text.startswith(f"🔴 <b>URGENT</b>: {reason}\n")
    case = (await stored(harness, reference)).case
    assert case.urgency.urgent
    assert case.urgency.reasons == (reason,)


async def test_a_far_deadline_is_not_urgent(harness: Harness) -> None:
    reference = await send_case(harness, new_user(), intake(deadline="8 12 2026"))
    _, text, _ = await card(harness, reference)
    assert text.startswith("⚪ Not urgent\n")


def order_in(text: str, references: list[str]) -> list[str]:
    """Return the references that appear in ``text``, in the order they appear."""
    found = [r for r in references if r in text]
    return sorted(found, key=text.index)


async def test_the_queue_lists_urgent_first_then_oldest_and_filters(
    harness: Harness, clock: Clock
) -> None:
    generous(harness)
    oldest = await send_case(harness, new_user())
    clock.advance(hours=1)
    urgent_later = await send_case(harness, new_user(), intake(deadline="1 12 2026"))
    clock.advance(hours=1)
    benefits = await send_case(harness, new_user(), intake(category="Benefits and pensions"))
    clock.advance(hours=1)
    urgent_first = await send_case(harness, new_user(), intake(happened="Bailiff at the door"))
    # Created in this order, but urgent_first was sent after urgent_later: age decides.
    refs = [oldest, urgent_later, benefits, urgent_first]
    await command(harness, SAM, "/claim", benefits)
    closed = await send_case(harness, new_user())
    await command(harness, SAM, "/close", closed, "Resolved")
    refs.append(closed)

    [text] = await command(harness, SAM, "/queue")
    assert text.startswith("<b>Open cases</b> (all): 4, page 1 of 1")
    assert order_in(text, refs) == [urgent_later, urgent_first, oldest, benefits]
    assert f"🔴 <code>{urgent_later}</code> · Housing · 2h · nobody yet" in text
    assert f"<code>{benefits}</code> · Benefits and pensions · 1h · Sam" in text
    buttons = harness.request.last_keyboard(STAFF_CHAT)
    assert buttons == [[(r, f"s1:show:{r}")] for r in order_in(text, refs)]

    [text] = await command(harness, SAM, "/queue", "mine")
    assert order_in(text, refs) == [benefits]
    [text] = await command(harness, PRIYA, "/queue", "mine")
    assert text == "No open cases (mine)."
    [text] = await command(harness, SAM, "/queue", "unassigned")
    assert order_in(text, refs) == [urgent_later, urgent_first, oldest]
    [text] = await command(harness, SAM, "/queue", "urgent")
    assert order_in(text, refs) == [urgent_later, urgent_first]
    [text] = await command(harness, SAM, "/queue", "benefits")
    assert order_in(text, refs) == [benefits]
    [text] = await command(harness, SAM, "/queue", "housing")
    assert order_in(text, refs) == [urgent_later, urgent_first, oldest]


async def test_queue_pages_turn_with_their_buttons(harness: Harness, clock: Clock) -> None:
    generous(harness)
    refs = []
    for _ in range(10):
        refs.append(await send_case(harness, new_user()))
        clock.advance(minutes=1)
    [text] = await command(harness, SAM, "/queue")
    assert "(all): 10, page 1 of 2" in text
    assert order_in(text, refs) == refs[:8]
    queue_id = message_id_of(harness, STAFF_CHAT, "page 1 of 2")
    *_, nav = harness.request.last_keyboard(STAFF_CHAT)
    assert nav == [("Next ›", "s1:q:all:-:1")]

    mark = len(harness.request.calls())
    await harness.send(harness.updates.press(SAM, "Next ›", chat_id=STAFF_CHAT))
    [edit] = [c for c in harness.request.calls()[mark:] if c.method == "editMessageText"]
    assert edit.params["message_id"] == queue_id
    page_two = str(edit.params["text"])
    assert "(all): 10, page 2 of 2" in page_two
    assert order_in(page_two, refs) == refs[8:]
    *_, nav = harness.request.last_keyboard(STAFF_CHAT)
    assert nav == [("‹ Previous", "s1:q:all:-:0")]

    await harness.send(harness.updates.press(SAM, "‹ Previous", chat_id=STAFF_CHAT))
    message = harness.request.message(STAFF_CHAT, queue_id)
    assert message is not None
    assert "page 1 of 2" in message["text"]
    assert order_in(message["text"], refs) == refs[:8]

    # A filtered queue keeps its filter across pages.
    [text] = await command(harness, SAM, "/queue", "housing")
    *_, nav = harness.request.last_keyboard(STAFF_CHAT)
    assert nav == [("Next ›", "s1:q:category:housing:1")]
    await harness.send(harness.updates.press(SAM, "Next ›", chat_id=STAFF_CHAT))
    page = harness.request.message(STAFF_CHAT, message_id_of(harness, STAFF_CHAT, "(housing)"))
    assert page is not None
    assert "(housing): 10, page 2 of 2" in page["text"]


async def test_status_shows_a_constituent_only_their_own_cases(harness: Harness) -> None:
    ada, bob = new_user("Ada"), new_user("Bob", "Jones")
    ada_refs = [await send_case(harness, ada), await send_case(harness, ada)]
    bob_ref = await send_case(harness, bob, intake(category="Benefits and pensions"))
    [text] = await harness.send(harness.updates.command(ada, "/status"), ada.user_id)
    assert text.startswith("<b>Your enquiries</b>")
    assert all(ref in text for ref in ada_refs)
    assert bob_ref not in text
    [text] = await harness.send(harness.updates.command(bob, "/status"), bob.user_id)
    assert text == (
        f"<b>Your enquiries</b>\n<b>{bob_ref}</b> · Benefits and pensions · New"
        " · last update 23 Nov 2026 09:30"
    )
    nobody = new_user("Cy")
    [text] = await harness.send(harness.updates.command(nobody, "/status"), nobody.user_id)
    assert text == "You have not sent us an enquiry. Send /start to begin one."


# --- export and audit --------------------------------------------------------------------


def uploaded(harness: Harness, since: int, chat_id: int = STAFF_CHAT) -> tuple[str, bytes]:
    """Return the file name and bytes of the one document sent after call number ``since``."""
    [call] = [c for c in harness.request.calls()[since:] if c.method == "sendDocument"]
    assert call.ok
    assert call.chat_id == chat_id
    newest = next(m for m in harness.request.messages(chat_id) if "document" in m)
    return str(newest["document"]["file_name"]), call.uploads["document"]


async def test_export_sends_csv_and_json_with_every_field(harness: Harness, clock: Clock) -> None:
    first = await send_case(harness, new_user(), intake(name="=Ada Lovelace"))
    clock.advance(days=2)
    second = await send_case(harness, new_user(), intake(happened="Eviction on Friday"))
    await command(harness, SAM, "/claim", second)

    mark = len(harness.request.calls())
    texts = await command(harness, SAM, "/export", "csv", chat_id=SAM.user_id)
    assert "Export of 2 cases attached." in texts
    name, data = uploaded(harness, mark, SAM.user_id)
    assert name == "cases-20261125-0930.csv"
    reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
    assert reader.fieldnames == list(EXPORT_FIELDS)
    rows = list(reader)
    assert [r["reference"] for r in rows] == [first, second]
    assert rows[0]["first_name"] == "'=Ada"  # kept from running as a formula
    assert rows[1]["assignee"] == "Sam"
    assert rows[1]["urgent"] == "yes"
    assert rows[1]["category"] == "Housing"
    assert rows[1]["postcode"] == "ST4 1HH"
    assert rows[1]["consent_answer"] == "yes"

    mark = len(harness.request.calls())
    await command(harness, SAM, "/export", "json", chat_id=SAM.user_id)
    name, data = uploaded(harness, mark, SAM.user_id)
    assert name.endswith(".json")
    loaded: dict[str, Any] = json.loads(data)
    assert loaded["fields"] == list(EXPORT_FIELDS)
    assert [list(c) for c in loaded["cases"]] == [list(EXPORT_FIELDS)] * 2
    assert [c["reference"] for c in loaded["cases"]] == [first, second]
    assert loaded["cases"][0]["first_name"] == "=Ada"
    assert loaded["cases"][1]["created"] == "2026-11-25T09:30:00Z"

    mark = len(harness.request.calls())
    texts = await command(
        harness, PRIYA, "/export", "json", "since", "2026-11-24", chat_id=PRIYA.user_id
    )
    assert texts[0] == "Export of 1 cases attached."
    _, data = uploaded(harness, mark, PRIYA.user_id)
    assert [c["reference"] for c in json.loads(data)["cases"]] == [second]
    mark = len(harness.request.calls())
    await command(harness, SAM, "/export", "csv", "since", "2026-11-23", chat_id=SAM.user_id)
    _, data = uploaded(harness, mark, SAM.user_id)
    assert len(list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))) == 2

    texts = await command(harness, SAM, "/export", "csv", "since", "yesterday", chat_id=SAM.user_id)
    assert texts[0].startswith("Send /export csv or /export json")


async def test_export_in_the_staff_group_sends_no_file_there(harness: Harness) -> None:
    await send_case(harness, new_user())
    mark = len(harness.request.calls())
    texts = await command(harness, SAM, "/export", "csv")
    assert texts == [
        "Exports hold every constituent's details, so they are never posted in the group."
        " Use the staff desk (send /desk to me in a private chat for a sign-in link), or send"
        " /export to me there."
    ]
    assert [c for c in harness.request.calls()[mark:] if c.method == "sendDocument"] == []
    async with services_of(harness.app).store.transaction() as tx:
        assert await tx.count_audit("export_refused") == 1


async def test_audit_lists_every_view_and_action(harness: Harness, clock: Clock) -> None:
    generous(harness)
    reference = await send_case(harness, new_user())
    card_id, _, _ = await card(harness, reference)
    clock.advance(minutes=1)  # 09:31
    await harness.send(
        harness.updates.callback(
            SAM, f"s1:claim:{reference}", message_id=card_id, chat_id=STAFF_CHAT
        )
    )
    clock.advance(minutes=1)  # 09:32
    await command(harness, PRIYA, "/case", reference, chat_id=PRIYA.user_id)
    clock.advance(minutes=1)  # 09:33
    await harness.send(
        harness.updates.callback(
            SAM, f"s1:show:{reference}", message_id=card_id, chat_id=STAFF_CHAT
        )
    )
    clock.advance(minutes=1)  # 09:34
    await command(harness, SAM, "/note", reference, "Rang the council")
    clock.advance(minutes=1)  # 09:35
    await command(harness, SAM, "/assign", reference, "Priya")
    clock.advance(minutes=1)  # 09:36
    await command(harness, PRIYA, "/status", reference, "waiting")
    clock.advance(minutes=1)  # 09:37
    await command(harness, PRIYA, "/reply", reference, "We are on it")
    clock.advance(minutes=1)  # 09:38
    await command(harness, PRIYA, "/close", reference, "unable, not a council matter")
    clock.advance(minutes=1)  # 09:39
    await command(harness, SAM, "/audit", reference)
    clock.advance(minutes=1)  # 09:40
    texts = await command(harness, PRIYA, "/audit", reference, chat_id=PRIYA.user_id)
    assert texts[0].split("\n") == [
        f"<b>Audit of {reference}</b>",
        "23 Nov 2026 09:30 system: created category=housing urgent=no",
        f"23 Nov 2026 09:31 Sam: claimed to={SAM.user_id}",
        "23 Nov 2026 09:32 Priya: viewed ",
        "23 Nov 2026 09:33 Sam: viewed ",
        "23 Nov 2026 09:34 Sam: note ",
        f"23 Nov 2026 09:35 Sam: assigned to={PRIYA.user_id}",
        "23 Nov 2026 09:36 Priya: status waiting",
        "23 Nov 2026 09:37 Priya: reply ",
        "23 Nov 2026 09:38 Priya: status closed_unable",
        "23 Nov 2026 09:39 Sam: audit_viewed ",
    ]
    # The audit never holds what was written.
    assert "Rang the council" not in texts[0]
    assert "We are on it" not in texts[0]


async def test_a_double_tap_on_a_page_button_is_harmless(harness: Harness, clock: Clock) -> None:
    generous(harness)
    refs = []
    for _ in range(9):
        refs.append(await send_case(harness, new_user()))
    await command(harness, SAM, "/queue")
    first = harness.updates.press(SAM, "Next ›", chat_id=STAFF_CHAT)
    second = harness.updates.press(SAM, "Next ›", chat_id=STAFF_CHAT)
    mark = len(harness.request.calls())
    await harness.send(first)
    await harness.send(second)
    answers = [c for c in harness.request.calls()[mark:] if c.method == "answerCallbackQuery"]
    assert len(answers) == 2
    queue_id = message_id_of(harness, STAFF_CHAT, "page 2 of 2")
    message = harness.request.message(STAFF_CHAT, queue_id)
    assert message is not None
    assert order_in(message["text"], refs) == refs[8:]


async def test_the_cards_close_button_asks_before_closing(harness: Harness) -> None:
    user = new_user()
    reference = await send_case(harness, user)
    card_id, _, _ = await card(harness, reference)
    asked = await harness.send(
        harness.updates.callback(
            SAM, f"s1:close:{reference}", message_id=card_id, chat_id=STAFF_CHAT
        ),
        chat_id=STAFF_CHAT,
    )
    assert any(f"Close {reference}?" in text for text in asked)
    assert (await stored(harness, reference)).case.status.value == "new"
    await harness.send(harness.updates.press(SAM, "Keep it open", chat_id=STAFF_CHAT))
    assert (await stored(harness, reference)).case.status.value == "new"
    await harness.send(
        harness.updates.callback(
            SAM, f"s1:close:{reference}", message_id=card_id, chat_id=STAFF_CHAT
        )
    )
    await harness.send(harness.updates.press(SAM, "Close it, unable to help", chat_id=STAFF_CHAT))
    assert (await stored(harness, reference)).case.status.value == "closed_unable"
    assert any("has been closed" in t for t in harness.request.sent_texts(user.user_id))
