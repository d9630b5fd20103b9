"""Staff side end to end: the bot as ``python -m bot`` against a Bot API server on 127.0.0.1.

Cards reach the staff group through the outbox (written with the case, delivered after the
commit, retried through outages); caseworkers claim and answer cases from the group.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest
from support.botapi import BotApiServer, BotProcess, Call, Group, User
from support.e2e import play, query, reference_in
from support.intake import intake_to_review

pytestmark = pytest.mark.e2e

SENT = "Your enquiry has been sent"
SAM = 9001  # a caseworker in the staff group (conftest's staff_group)


def pending(database: Path, kind: str | None = None) -> int:
    """Return how many outbox entries (of ``kind``) are still owed."""
    sql = "SELECT count(*) FROM outbox WHERE state = 'pending' AND (? IS NULL OR kind = ?)"
    [(count,)] = query(database, sql, kind, kind)
    return int(count)


def card_posts(api: BotApiServer, group: Group, reference: str) -> list[Call]:
    """Return every sendMessage of the case's card (the one with its Claim button) to the group."""
    claim = f"s1:claim:{reference}"

    def is_card(call: Call) -> bool:
        markup = call.params.get("reply_markup")
        rows = markup.get("inline_keyboard", []) if isinstance(markup, dict) else []
        return any(button.get("callback_data") == claim for row in rows for button in row)

    return [c for c in api.calls("sendMessage") if c.chat_id == group.chat_id and is_card(c)]


def confirmations(api: BotApiServer, user: User) -> list[Call]:
    """Return the confirmations the bot sent a constituent successfully."""
    return [
        c
        for c in api.calls("sendMessage")
        if c.ok and c.chat_id == user.chat_id and SENT in (c.text or "")
    ]


def log_of(calls: list[Call]) -> str:
    """Return calls one a line, for assertion messages."""
    return "\n".join(f"  {call}" for call in calls) or "  (none)"


def refusals(api: BotApiServer) -> list[Call]:
    """Return what Telegram refused, apart from a card edit that changed nothing visible."""
    return [c for c in api.rejected if "message is not modified" not in str(c.answer)]


async def test_a_caseworker_claims_and_answers_a_case_from_the_staff_group(
    api: BotApiServer, bot: BotProcess, staff_group: Group
) -> None:
    sam = staff_group.members[SAM]
    sam.command("/help")  # staff have talked to the bot, so it may write to them privately
    await sam.wait_for_text("Casework commands")

    ada = api.user("Ada", "Lovelace")
    await play(ada, intake_to_review())
    ada.press("Send to the office")
    reference = reference_in(await ada.wait_for_text(SENT))

    card = await staff_group.wait_for_text(reference)
    assert "Ada Lovelace" not in card.text  # the card names no one; the case view does
    assert "Assigned to: nobody yet" in card.text
    assert card.buttons == [
        [("Claim", f"s1:claim:{reference}"), ("Show case", f"s1:show:{reference}")],
        [("Status", f"s1:st:{reference}"), ("Close", f"s1:close:{reference}")],
    ]

    sam.press("Claim", chat=staff_group, message=card)
    await staff_group.wait_for_text(f"{reference} is now assigned to Sam.")
    await api.wait_until(
        lambda: "Assigned to: Sam" in card.text, what="the card to show Sam as assignee"
    )
    assert card.edits >= 1
    assert "Status: Open" in card.text
    labels = [label for row in card.buttons for label, _ in row]
    assert labels == ["Claim", "Show case", "Status", "Close"]
    assert len(card_posts(api, staff_group, reference)) == 1, "the claim edits the card"

    sam.send_text(f"/reply {reference} We have written to the council for you.", chat=staff_group)
    await staff_group.wait_for_text(f"Reply to {reference} is on its way")
    answer = await ada.wait_for_text("We have written to the council for you.")
    assert reference in answer.text
    assert "Message from Sam at the office of Jo Example" in answer.text

    ada.send_text("Thank you. The damp has spread to the bedroom.", reply_to=answer)
    await ada.wait_for_text(f"Your message has been added to your enquiry {reference}")
    relayed = await sam.wait_for_text("The damp has spread to the bedroom.")
    assert reference in relayed.text
    assert "the constituent writes" in relayed.text
    assert not [m for m in staff_group.messages() if "damp has spread" in m.text], (
        "the constituent's message went to the assignee, not the whole group"
    )

    assert len(card_posts(api, staff_group, reference)) == 1
    assert len(confirmations(api, ada)) == 1
    assert api.unanswered_queries() == []
    assert refusals(api) == [], log_of(refusals(api))


async def test_cards_owed_at_a_sigkill_are_posted_once_after_the_restart(
    api: BotApiServer, bot: BotProcess, staff_group: Group, database: Path
) -> None:
    people = [api.user(name, "Example") for name in ("Ada", "Ben", "Cleo")]
    await asyncio.gather(
        *(play(person, intake_to_review(f"{person.first_name} Example")) for person in people)
    )

    # The staff group is unreachable: every card post fails, constituents are still answered.
    api.fail("sendMessage", 500, times=1000, chat=staff_group)
    for person in people:
        person.press("Send to the office")
    sent = await asyncio.gather(*(person.wait_for_text(SENT) for person in people))
    references = [reference_in(message) for message in sent]
    assert len(set(references)) == len(people)
    await api.wait_until(
        lambda: any(c.fault for c in api.calls("sendMessage") if c.chat_id == staff_group.chat_id),
        what="a card post to fail",
    )
    await api.wait_confirmed()
    # The kill comes once the bot has recorded the confirmations as sent: killed between
    # Telegram's 200 and that commit (about a millisecond), a message goes again on restart.
    await api.wait_until(
        lambda: pending(database, "message") == 0, what="the confirmations to be recorded"
    )
    assert pending(database, "card") == len(people), "every card is owed before the kill"
    assert staff_group.messages() == []

    assert await bot.kill() == -signal.SIGKILL
    api.clear_faults()
    restart = api.mark()
    await bot.start()
    await api.wait_until(
        lambda: all(any(c.ok for c in card_posts(api, staff_group, r)) for r in references),
        timeout=15,
        what="every owed card to be posted after the restart",
    )
    await api.wait_until(lambda: pending(database) == 0, what="the outbox to be empty")

    for reference in references:
        posts = card_posts(api, staff_group, reference)
        posted = [c for c in posts if c.ok]
        assert len(posted) == 1, f"{reference} card posts:\n{log_of(posts)}"
        assert any(c is posted[0] for c in api.calls(since=restart)), "posted by the second run"
        shown = [m for m in staff_group.messages() if reference in m.text]
        assert len(shown) == 1, [str(m) for m in shown]
    assert len(staff_group.messages()) == len(people)
    assert api.calls("editMessageText") == []
    for person in people:
        got = confirmations(api, person)
        assert len(got) == 1, f"{person.first_name}'s confirmations:\n{log_of(got)}"
        assert len([m for m in person.messages() if SENT in m.text]) == 1
    assert refusals(api) == [], log_of(refusals(api))


async def test_a_card_post_through_a_hang_a_500_and_a_429_arrives_once(
    api: BotApiServer, bot: BotProcess, staff_group: Group, database: Path
) -> None:
    ada = api.user("Ada", "Lovelace")
    await play(ada, intake_to_review())

    # The card's first post hangs until the client gives up (its read timeout, 5 s by
    # default) and never takes effect, the second gets a 500, the third a 429 (retry after
    # 1 s); then Telegram is back.
    api.hang("sendMessage", deliver=False, chat=staff_group)
    api.fail("sendMessage", 500, chat=staff_group)
    api.fail("sendMessage", 429, retry_after=1, chat=staff_group)
    ada.press("Send to the office")
    confirmation = await ada.wait_for_text(SENT)
    reference = reference_in(confirmation)

    card = await staff_group.wait_for_text(reference, timeout=30)
    await api.wait_until(lambda: pending(database) == 0, what="the outbox to be empty")

    posts = card_posts(api, staff_group, reference)
    shape = [(c.fault, c.status, c.abandoned) for c in posts]
    assert shape == [
        ("hang", None, True),
        ("fail", 500, False),
        ("fail", 429, False),
        (None, 200, False),
    ], log_of(posts)
    rate_limited, recovered = posts[2], posts[3]
    assert rate_limited.answered_at is not None
    assert recovered.time - rate_limited.answered_at >= 0.9, "retry_after was not honoured"
    # Sent while the card's first post still hung (the two lanes start side by side).
    hung_until = posts[1].time
    assert confirmation.sent_at < hung_until, "the confirmation waited for the card"
    assert [m.message_id for m in staff_group.messages()] == [card.message_id]
    assert len(confirmations(api, ada)) == 1
    assert api.faults_pending == 0
    assert refusals(api) == [], log_of(refusals(api))
