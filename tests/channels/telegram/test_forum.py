"""A staff group with topics, through the real Application: one forum topic per case."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from support.intake import (
    SAM,
    STAFF_CHAT,
    Clock,
    Harness,
    intake_to_review,
    new_user,
    services_of,
)
from support.telegram import (
    JSON,
    THREAD_NOT_FOUND,
    TOPIC_DELETED,
    FakeUser,
    RecordingRequest,
    SentCall,
)

from bot.office import Office
from bot.service.outbox import RateLimit

TOPIC_LINK = "https://t.me/c/777/"


@pytest.fixture
async def forum(office: Office, clock: Clock) -> AsyncIterator[Harness]:
    """Return the bot running with a staff group that is a forum the bot manages.

    The group's rate limit is lifted (the tests below that need it put their own back).
    """
    request = RecordingRequest()
    request.make_forum(STAFF_CHAT)
    async with Harness.running(office, clock, request) as running:
        services_of(running.app).outbox.group_limit = RateLimit(1000, 60.0, lambda: 0.0)
        yield running


async def send_case(harness: Harness, user: FakeUser) -> str:
    """Run a whole intake and press Send; return the new case's reference."""
    await harness.run(user, intake_to_review())
    await harness.act(user, ("tap", "Send to the office"))
    cases = await services_of(harness.app).intake.cases_of(user.user_id)
    return cases[-1].reference


async def topic_of(harness: Harness, reference: str) -> int:
    """Return the id of a case's topic."""
    async with services_of(harness.app).store.transaction() as tx:
        stored = await tx.get_case(reference)
    assert stored is not None
    assert stored.topic_id is not None, "the case has no topic"
    return stored.topic_id


def calls(harness: Harness, method: str, since: int = 0) -> list[SentCall]:
    """Return the successful calls of one method to the staff group (after call ``since``)."""
    return [
        c
        for c in harness.request.calls()[since:]
        if c.method == method and c.ok and c.chat_id == STAFF_CHAT
    ]


def in_topic(harness: Harness, topic: int) -> list[JSON]:
    """Return the messages now in a topic, oldest first, without its service messages."""
    return [m for m in harness.request.topic_messages(STAFF_CHAT, topic) if "text" in m or (
        "document" in m or "photo" in m
    )]  # fmt: skip


def title(harness: Harness, topic: int) -> str:
    """Return a topic's title as the group now shows it."""
    return harness.request.topics[(STAFF_CHAT, topic)].name


async def in_the_topic(harness: Harness, topic: int, text: str, **kwargs: Any) -> list[str]:
    """Have Sam write in a topic; return what the bot then sent anywhere."""
    update = harness.updates.group_text(SAM, STAFF_CHAT, text, thread_id=topic, **kwargs)
    return await harness.send(update)


# --- a case's topic, from its first card to its closing ------------------------------------


async def test_a_case_has_its_own_topic_from_its_card_to_its_closing(forum: Harness) -> None:
    user = new_user()
    reference = await send_case(forum, user)
    topic = await topic_of(forum, reference)
    created = [c.params["name"] for c in calls(forum, "createForumTopic")]
    assert created == [f"{reference} · Housing · New", "New cases"]
    # The card is the topic's first message, and nothing about the case is outside it.
    [card] = in_topic(forum, topic)
    assert card["text"].startswith("⚪ Not urgent\n")
    assert f"<code>{reference}</code> · Housing" in card["text"]
    assert "Write here to answer the constituent" in card["text"]
    outside = [c for c in calls(forum, "sendMessage") if "message_thread_id" not in c.params]
    assert not [c for c in outside if reference in (c.text or "")]

    # Claim from the card: the topic's title says the case is open.
    await forum.send(forum.updates.press(SAM, "Claim", chat_id=STAFF_CHAT))
    assert title(forum, topic) == f"{reference} · Housing · Open"
    assert "Assigned to: Sam" in in_topic(forum, topic)[0]["text"]
    assert any("is now assigned to Sam" in m["text"] for m in in_topic(forum, topic))

    # Close from the card: the constituent is told, the topic is closed.
    await forum.send(forum.updates.press(SAM, "Close", chat_id=STAFF_CHAT))
    await forum.send(forum.updates.press(SAM, "Close it", chat_id=STAFF_CHAT))
    assert forum.request.topics[(STAFF_CHAT, topic)].closed
    assert title(forum, topic) == f"{reference} · Housing · Closed"
    assert "has been closed" in forum.request.sent_texts(user.user_id)[-1]

    # Writing again opens a new case, in a new topic that links back to the closed one.
    await forum.send(forum.updates.text(user, "The damp is back"))
    await forum.run(
        user,
        [
            (("tap", "Start"), "What is your date of birth?"),
            (("tap", "Skip this question"), "What is your enquiry about?"),
            *intake_to_review()[10:],
        ],
    )
    await forum.act(user, ("tap", "Send to the office"))
    follow_up = (await services_of(forum.app).intake.cases_of(user.user_id))[-1]
    assert follow_up.linked_to == reference
    new_topic = await topic_of(forum, follow_up.reference)
    assert new_topic != topic
    [new_card] = in_topic(forum, new_topic)
    assert (
        f'Follows closed case <code>{reference}</code> (<a href="{TOPIC_LINK}{topic}">'
        in (new_card["text"])
    )


async def test_the_new_cases_topic_keeps_one_line_per_open_case(forum: Harness) -> None:
    first, second = await send_case(forum, new_user()), await send_case(forum, new_user("Bo"))
    summaries = [c for c in calls(forum, "createForumTopic") if c.params["name"] == "New cases"]
    [summary_topic] = [int(m["message_thread_id"]) for m in forum.request.messages(STAFF_CHAT) if (
        m.get("forum_topic_created", {}).get("name") == "New cases"
    )]  # fmt: skip
    assert len(summaries) == 1
    [summary] = in_topic(forum, summary_topic)
    lines = summary["text"].split("\n")
    assert lines[0] == "<b>Open cases</b>: 2, urgent first. Each case has its own topic."
    for line, reference in zip(lines[1:], (first, second), strict=True):
        link = f'<a href="{TOPIC_LINK}{await topic_of(forum, reference)}">topic</a>'
        assert line == f"<code>{reference}</code> · Housing · New · nobody yet · {link}"
    # Nothing personal in it.
    assert "Ada" not in summary["text"]
    assert "damp" not in summary["text"]

    # A closed case drops off the summary.
    topic = await topic_of(forum, first)
    await in_the_topic(forum, topic, "/close Sorted")
    [summary] = in_topic(forum, summary_topic)
    assert first not in summary["text"]
    assert second in summary["text"]


# --- caseworkers writing in a topic ----------------------------------------------------------


async def test_a_message_in_the_topic_reaches_the_constituent_exactly_once(
    forum: Harness,
) -> None:
    user = new_user()
    reference = await send_case(forum, user)
    topic = await topic_of(forum, reference)
    update = forum.updates.group_text(
        SAM, STAFF_CHAT, "We have written to the council for you.", thread_id=topic
    )
    answered = await forum.send(update)
    assert f"Reply to {reference} is on its way to the constituent." in answered
    # Telegram may deliver an update twice: the constituent still gets it once.
    await forum.send(update)
    replies = [t for t in forum.request.sent_texts(user.user_id) if "Message from Sam" in t]
    assert replies == [
        f"<b>Message from Sam at the office of Jo Example</b> about your enquiry {reference}:"
        "\n\nWe have written to the council for you.\n\n<i>You can reply to this message.</i>"
    ]
    # The acknowledgement is in the topic, not the group's General topic.
    [ack] = [c for c in calls(forum, "sendMessage") if "is on its way" in (c.text or "")]
    assert ack.params["message_thread_id"] == topic


NOTE = "Called the council, they will ring back"


@pytest.mark.parametrize("note", [f"#note {NOTE}", f"/note {NOTE}"])
async def test_a_note_in_the_topic_stays_internal(forum: Harness, note: str) -> None:
    user = new_user()
    reference = await send_case(forum, user)
    topic = await topic_of(forum, reference)
    before = list(forum.request.sent_texts(user.user_id))
    update = (
        forum.updates.group_command(SAM, STAFF_CHAT, "/note", *note.split()[1:], thread_id=topic)
        if note.startswith("/")
        else forum.updates.group_text(SAM, STAFF_CHAT, note, thread_id=topic)
    )
    assert f"Note added to {reference}." in await forum.send(update)
    assert forum.request.sent_texts(user.user_id) == before
    async with services_of(forum.app).store.transaction() as tx:
        stored = await tx.get_case(reference)
        assert stored is not None
        [message] = await tx.list_messages(stored.id)
    assert (message.kind, message.text) == ("note", NOTE)


async def test_commands_in_a_topic_need_no_reference(forum: Harness) -> None:
    reference = await send_case(forum, new_user())
    topic = await topic_of(forum, reference)
    update = forum.updates.group_command(SAM, STAFF_CHAT, "/claim", thread_id=topic)
    assert f"{reference} is now assigned to Sam." in await forum.send(update)
    update = forum.updates.group_command(SAM, STAFF_CHAT, "/status", "waiting", thread_id=topic)
    assert f"{reference} is now: Waiting on organisation." in await forum.send(update)
    assert title(forum, topic) == f"{reference} · Housing · Waiting on organisation"
    shown = await forum.send(forum.updates.group_command(SAM, STAFF_CHAT, "/case", thread_id=topic))
    assert any("<b>Your name</b>: Ada Lovelace" in t for t in shown)


async def test_a_document_from_staff_is_not_sent_and_they_are_told(forum: Harness) -> None:
    user = new_user()
    reference = await send_case(forum, user)
    topic = await topic_of(forum, reference)
    before = list(forum.request.sent_texts(user.user_id))
    update = forum.updates.group_text(SAM, STAFF_CHAT, "x", thread_id=topic)
    assert update.message is not None
    data = update.to_dict()
    del data["message"]["text"]
    data["message"]["sticker"] = {
        "file_id": "s", "file_unique_id": "s", "type": "regular", "width": 1, "height": 1,
        "is_animated": False, "is_video": False,
    }  # fmt: skip
    texts = await forum.send(type(update).de_json(data, forum.app.bot))
    assert texts == [
        "Only typed messages are sent to the constituent from here, so this was not sent."
        " Write what you want them to know, or send it to them another way."
    ]
    assert forum.request.sent_texts(user.user_id) == before


async def test_talk_outside_a_case_topic_is_left_alone(forum: Harness) -> None:
    user = new_user()
    await send_case(forum, user)
    mark = len(forum.request.calls())
    assert await forum.send(forum.updates.group_text(SAM, STAFF_CHAT, "Morning all")) == []
    assert [c.method for c in forum.request.calls()[mark:]] == []


# --- the constituent's later messages ------------------------------------------------------


async def test_a_constituents_document_and_words_arrive_in_the_topic(forum: Harness) -> None:
    user = new_user()
    reference = await send_case(forum, user)
    topic = await topic_of(forum, reference)
    letter = forum.updates.document(
        user, "doc-eviction", "notice.pdf", "application/pdf", caption="The notice"
    )
    await forum.send(letter)
    await forum.send(forum.updates.text(user, "It came today."))
    [card, document, words] = in_topic(forum, topic)
    assert document["document"]["file_id"] == "doc-eviction"
    assert document["caption"] == (
        f"⬅️ <code>{reference}</code>, the constituent writes:\n\nThe notice"
    )
    assert words["text"].endswith("It came today.")
    assert card["message_id"] < document["message_id"] < words["message_id"]


async def test_a_claimed_cases_messages_go_to_its_topic_not_to_the_caseworker(
    forum: Harness,
) -> None:
    user = new_user()
    reference = await send_case(forum, user)
    topic = await topic_of(forum, reference)
    await in_the_topic(forum, topic, "/claim")
    await forum.send(forum.updates.text(user, "Any news?"))
    assert in_topic(forum, topic)[-1]["text"].endswith("Any news?")
    assert not [t for t in forum.request.sent_texts(SAM.user_id) if "Any news?" in t]


@pytest.mark.parametrize("error", [THREAD_NOT_FOUND, TOPIC_DELETED], ids=["thread", "deleted"])
async def test_a_topic_deleted_by_hand_is_opened_again_with_a_fresh_card(
    forum: Harness, error: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    forum.request.deleted_topic_error = error
    user = new_user()
    reference = await send_case(forum, user)
    topic = await topic_of(forum, reference)
    forum.request.delete_topic(STAFF_CHAT, topic)  # a caseworker deletes it in the app

    await forum.send(forum.updates.text(user, "Hello? Is anyone there?"))
    new_topic = await topic_of(forum, reference)
    assert new_topic != topic
    assert title(forum, new_topic) == f"{reference} · Housing · New"
    [card, relayed] = in_topic(forum, new_topic)
    assert f"<code>{reference}</code> · Housing" in card["text"]
    assert relayed["text"].endswith("Hello? Is anyone there?")
    # Sent once into the new topic; the one refused went nowhere.
    posted = [c for c in forum.request.calls("sendMessage") if "anyone there" in (c.text or "")]
    assert [(c.ok, c.params["message_thread_id"]) for c in posted] == [
        (False, topic),
        (True, new_topic),
    ]
    assert any("its topic is gone" in r.getMessage() for r in caplog.records)

    # A caseworker's answer in the new topic reaches the constituent.
    await in_the_topic(forum, new_topic, "Sorry, we are here.")
    assert "Sorry, we are here." in forum.request.sent_texts(user.user_id)[-1]


# --- nothing left behind -------------------------------------------------------------------


async def test_erasing_a_case_deletes_its_topic_and_everything_in_it(forum: Harness) -> None:
    user = new_user()
    reference = await send_case(forum, user)
    topic = await topic_of(forum, reference)
    await forum.send(forum.updates.text(user, "My neighbour Zebedee shouts at me"))
    await in_the_topic(forum, topic, "/case")
    await in_the_topic(forum, topic, "/erase")
    await forum.send(forum.updates.press(SAM, "Erase it now", chat_id=STAFF_CHAT))
    [deleted] = calls(forum, "deleteForumTopic")
    assert deleted.params["message_thread_id"] == topic
    assert forum.request.topic_messages(STAFF_CHAT, topic) == []
    left = [m for m in forum.request.messages(STAFF_CHAT) if "Zebedee" in str(m) or "Ada" in str(m)]
    assert left == []
    # All that is left of it in the group is the answer that it was erased.
    [told] = [m["text"] for m in forum.request.messages(STAFF_CHAT) if reference in str(m)]
    assert told == f"{reference} has been erased, and the constituent told."


async def test_the_retention_sweep_deletes_a_closed_cases_topic(forum: Harness) -> None:
    reference = await send_case(forum, new_user())
    topic = await topic_of(forum, reference)
    await in_the_topic(forum, topic, "/close Resolved")
    forum.clock.advance(days=365 * 2 + 1)
    assert (await services_of(forum.app).privacy.sweep()).cases_deleted == 1
    await forum.settle()
    assert [c.params["message_thread_id"] for c in calls(forum, "deleteForumTopic")] == [topic]
    assert (STAFF_CHAT, topic) not in forum.request.topics


# --- the group's set-up --------------------------------------------------------------------


async def test_without_the_right_to_manage_topics_the_group_runs_flat_and_says_why(
    office: Office, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    request = RecordingRequest()
    request.make_forum(STAFF_CHAT, can_manage_topics=False)
    async with Harness.running(office, clock, request) as harness:
        reference = await send_case(harness, new_user())
        assert request.calls("createForumTopic") == []
        [card] = [c for c in calls(harness, "sendMessage") if reference in (c.text or "")]
        assert "message_thread_id" not in card.params
    assert any("may not manage its topics" in r.getMessage() for r in caplog.records)


async def test_the_cards_status_button_sets_an_open_status(forum: Harness) -> None:
    reference = await send_case(forum, new_user())
    topic = await topic_of(forum, reference)
    asked = await forum.send(forum.updates.press(SAM, "Status", chat_id=STAFF_CHAT))
    assert f"Status of {reference}?" in asked
    assert forum.request.last_keyboard(STAFF_CHAT) == [
        [("New", f"s1:set:{reference}:new")],
        [("Open", f"s1:set:{reference}:open")],
        [("Waiting on organisation", f"s1:set:{reference}:waiting")],
        [("Leave it as it is", f"s1:keep:{reference}")],
    ]
    texts = await forum.send(
        forum.updates.press(SAM, "Waiting on organisation", chat_id=STAFF_CHAT)
    )
    assert f"{reference} is now: Waiting on organisation." in texts
    assert title(forum, topic) == f"{reference} · Housing · Waiting on organisation"
    assert "Status: Waiting on organisation" in in_topic(forum, topic)[0]["text"]


async def test_a_topic_renamed_by_hand_is_no_message_to_anyone(forum: Harness) -> None:
    user = new_user()
    reference = await send_case(forum, user)
    topic = await topic_of(forum, reference)
    update = forum.updates.group_text(SAM, STAFF_CHAT, "x", thread_id=topic)
    data = update.to_dict()
    del data["message"]["text"]
    data["message"]["forum_topic_edited"] = {"name": "Ada's damp"}
    before = len(forum.request.calls())
    assert await forum.send(type(update).de_json(data, forum.app.bot)) == []
    assert forum.request.calls()[before:] == []
