"""A staff group without topics: plain replies answer the constituent; erasures take posts down."""

from __future__ import annotations

import logging

import pytest
from support.intake import (
    PRIYA,
    SAM,
    STAFF_CHAT,
    Clock,
    Harness,
    intake_to_review,
    new_user,
    services_of,
)
from support.telegram import FakeUser, RecordingRequest

from bot.office import Office
from bot.service.outbox import RateLimit


async def send_case(harness: Harness, user: FakeUser) -> str:
    """Run a whole intake and press Send; return the new case's reference."""
    await harness.run(user, intake_to_review())
    await harness.act(user, ("tap", "Send to the office"))
    return (await services_of(harness.app).intake.cases_of(user.user_id))[-1].reference


def newest(harness: Harness, chat_id: int, needle: str) -> int:
    """Return the id of the newest message in a chat whose text contains ``needle``."""
    for message in harness.request.messages(chat_id):
        if needle in str(message.get("text", "")):
            return int(message["message_id"])
    raise AssertionError(f"no message with {needle!r} in {chat_id}")


async def posted_by(
    harness: Harness, chat_id: int, user: FakeUser, command: str, *args: str
) -> list[int]:
    """Send a command in a chat; return the ids of the messages the bot answered with."""
    if chat_id > 0:
        update = harness.updates.command(user, command, *args)
    else:
        update = harness.updates.group_command(user, chat_id, command, *args)
    assert update.message is not None
    asked = update.message.message_id
    await harness.send(update)
    return sorted(
        int(m["message_id"])
        for m in harness.request.messages(chat_id)
        if m["message_id"] > asked and m["from"]["is_bot"]
    )


def replies_to(harness: Harness, user: FakeUser) -> list[str]:
    """Return the caseworkers' messages the constituent was sent."""
    return [t for t in harness.request.sent_texts(user.user_id) if "Message from" in t]


def lift_limit(harness: Harness) -> None:
    """Lift the staff group's rate limit: these tests post more than 20 messages a minute."""
    services_of(harness.app).outbox.group_limit = RateLimit(1000, 60.0, lambda: 0.0)


async def test_a_flat_group_is_used_as_one_chat_and_the_bot_says_why(
    office: Office, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    async with Harness.running(office, clock) as harness:
        reference = await send_case(harness, new_user())
        card = harness.request.message(STAFF_CHAT, newest(harness, STAFF_CHAT, reference))
        assert harness.request.calls("createForumTopic") == []
    assert card is not None
    assert "message_thread_id" not in card
    assert any("the staff group has no topics" in r.getMessage() for r in caplog.records)


async def test_a_plain_reply_to_the_card_answers_the_constituent(harness: Harness) -> None:
    lift_limit(harness)
    user = new_user()
    reference = await send_case(harness, user)
    card_id = newest(harness, STAFF_CHAT, f"<code>{reference}</code> · Housing")
    update = harness.updates.group_text(
        SAM, STAFF_CHAT, "Which flat number is it?", reply_to_message_id=card_id
    )
    assert f"Reply to {reference} is on its way to the constituent." in await harness.send(update)
    [reply] = replies_to(harness, user)
    assert "Which flat number is it?" in reply
    assert reply.startswith("<b>Message from Sam at the office of Jo Example</b>")


async def test_a_plain_reply_to_a_relayed_message_answers_the_constituent(
    harness: Harness,
) -> None:
    lift_limit(harness)
    user = new_user()
    reference = await send_case(harness, user)
    await harness.send(harness.updates.text(user, "It is flat 4."))
    relayed = newest(harness, STAFF_CHAT, "It is flat 4.")
    update = harness.updates.group_text(
        PRIYA, STAFF_CHAT, "Thank you, we will tell the council.", reply_to_message_id=relayed
    )
    await harness.send(update)
    [reply] = replies_to(harness, user)
    assert "Message from Priya" in reply
    assert "we will tell the council" in reply
    # A reply marked as a note stays internal.
    note = harness.updates.group_text(
        PRIYA, STAFF_CHAT, "#note she sounded worried", reply_to_message_id=relayed
    )
    assert f"Note added to {reference}." in await harness.send(note)
    assert len(replies_to(harness, user)) == 1


async def test_talk_in_the_group_that_answers_no_case_is_left_alone(harness: Harness) -> None:
    lift_limit(harness)
    user = new_user()
    await send_case(harness, user)
    mark = len(harness.request.calls())
    assert await harness.send(harness.updates.group_text(SAM, STAFF_CHAT, "Coffee?")) == []
    # A reply to a caseworker's own message is not about a case either.
    own = harness.updates.group_text(SAM, STAFF_CHAT, "Who has the damp case?")
    await harness.send(own)
    assert own.message is not None
    answer = harness.updates.group_text(
        PRIYA, STAFF_CHAT, "I do", reply_to_message_id=own.message.message_id
    )
    assert await harness.send(answer) == []
    assert harness.request.calls()[mark:] == []
    assert replies_to(harness, user) == []


async def test_a_caseworker_replying_to_a_relay_in_their_own_chat_answers_the_constituent(
    harness: Harness,
) -> None:
    lift_limit(harness)
    user = new_user()
    reference = await send_case(harness, user)
    await harness.send(harness.updates.group_command(SAM, STAFF_CHAT, "/assign", reference, "Sam"))
    await harness.send(harness.updates.text(user, "Did they reply?"))
    relayed = newest(harness, SAM.user_id, "Did they reply?")
    update = harness.updates.text(SAM, "Not yet, I will chase them.", reply_to_message_id=relayed)
    assert f"Reply to {reference} is on its way to the constituent." in await harness.send(update)
    assert "I will chase them" in replies_to(harness, user)[-1]


async def test_erasing_a_case_deletes_the_bots_messages_that_telegram_still_allows(
    harness: Harness, clock: Clock
) -> None:
    lift_limit(harness)
    user = new_user()
    reference = await send_case(harness, user)
    card_id = newest(harness, STAFF_CHAT, f"<code>{reference}</code> · Housing")
    await harness.send(harness.updates.text(user, "Old news from Zebedee"))
    old = newest(harness, STAFF_CHAT, "Old news from Zebedee")
    clock.advance(hours=50)  # too old for Telegram to let the bot delete it
    await harness.send(harness.updates.text(user, "Fresh news from Zebedee"))
    fresh = newest(harness, STAFF_CHAT, "Fresh news from Zebedee")
    # The whole case, with the constituent's letter, shown in the group and in a private chat.
    views = await posted_by(harness, STAFF_CHAT, SAM, "/case", reference)
    private = await posted_by(harness, PRIYA.user_id, PRIYA, "/case", reference)
    assert len(views) == len(private) == 2  # the case, and the photo of the letter
    await harness.send(harness.updates.group_command(SAM, STAFF_CHAT, "/erase", reference))
    await harness.send(harness.updates.press(SAM, "Erase it now", chat_id=STAFF_CHAT))

    deleted = {
        (int(c.params["chat_id"]), m)
        for c in harness.request.calls("deleteMessages")
        for m in c.params["message_ids"]
    }
    assert deleted == {
        (STAFF_CHAT, fresh),
        *((STAFF_CHAT, v) for v in views),
        *((PRIYA.user_id, v) for v in private),
    }
    assert (STAFF_CHAT, old) not in deleted
    # The card, too old to delete, says only that the case was erased.
    card = harness.request.message(STAFF_CHAT, card_id)
    assert card is not None
    assert card["text"].startswith(f"<b>{reference}</b> was erased on")
    assert "reply_markup" not in card


async def test_a_staff_group_the_bot_cannot_look_at_runs_flat(
    office: Office, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    request = RecordingRequest()
    request.fail_next("getChat", status=400, description="Bad Request: chat not found")
    async with Harness.running(office, clock, request) as harness:
        await send_case(harness, new_user())
        assert request.calls("createForumTopic") == []
    assert any("could not check the staff group" in r.getMessage() for r in caplog.records)


async def test_a_reply_to_a_notice_or_a_case_view_is_not_sent_to_the_constituent(
    harness: Harness,
) -> None:
    lift_limit(harness)
    user = new_user()
    reference = await send_case(harness, user)
    await harness.send(harness.updates.command(user, "/withdraw"))
    notice = newest(harness, STAFF_CHAT, "withdrawn")
    [view] = (await posted_by(harness, STAFF_CHAT, SAM, "/case", reference))[:1]
    for replied in (notice, view):
        update = harness.updates.group_text(
            SAM, STAFF_CHAT, "I will ring her about this", reply_to_message_id=replied
        )
        assert await harness.send(update) == []
    assert replies_to(harness, user) == []
