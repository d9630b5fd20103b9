"""The access-control matrix: every staff command and button, from everyone who is not allowed."""

from __future__ import annotations

import json
import sqlite3

import pytest
from support.intake import SAM, STAFF_CHAT, Harness, intake_to_review, new_user, services_of
from support.telegram import FakeUser

from bot.office import Office

REFUSAL = "This command is for office staff."
OTHER_GROUP = -100999
OUTSIDER = FakeUser(7777, "Mallory")

COMMANDS = [
    ("/queue",),
    ("/case", "{ref}"),
    ("/claim", "{ref}"),
    ("/assign", "{ref}", "Sam"),
    ("/note", "{ref}", "a note"),
    ("/status", "{ref}", "closed"),
    ("/close", "{ref}", "done"),
    ("/reply", "{ref}", "hello"),
    ("/export", "csv"),
    ("/audit", "{ref}"),
    ("/block", "{ref}"),
    ("/unblock", "{ref}"),
]
BUTTONS = ["s1:claim:{ref}", "s1:show:{ref}", "s1:close:{ref}", "s1:q:all:-:0", "s1:q:mine:-:1"]
# (who, where): a constituent privately, an outsider in the staff group, staff in another group.
SENDERS = [("constituent", "private"), ("outsider", "staff group"), ("staff", "other group")]


async def _case(harness: Harness) -> tuple[str, FakeUser]:
    owner = new_user()
    await harness.run(owner, intake_to_review())
    await harness.act(owner, ("tap", "Send to the office"))
    [case] = await services_of(harness.app).intake.cases_of(owner.user_id)
    return case.reference, owner


def _state(office: Office) -> str:
    with sqlite3.connect(office.settings.database_path) as db:
        rows = db.execute("SELECT status, assignee, data FROM cases").fetchall()
        notes = db.execute("SELECT count(*) FROM case_messages").fetchone()
        blocked = db.execute("SELECT count(*) FROM blocked_users").fetchone()
    return json.dumps([rows, notes, blocked])


def _sender(who: str, owner: FakeUser) -> tuple[FakeUser, int]:
    if who == "constituent":
        return owner, owner.user_id
    if who == "outsider":
        return OUTSIDER, STAFF_CHAT
    return SAM, OTHER_GROUP


@pytest.mark.parametrize(("who", "where"), SENDERS)
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
async def test_staff_commands_are_refused_revealing_nothing(
    harness: Harness, office: Office, who: str, where: str, command: tuple[str, ...]
) -> None:
    reference, owner = await _case(harness)
    before = _state(office)
    sender, chat = _sender(who, owner)
    answers = []
    for ref in (reference, "SOT-2TQR7QK"):  # a real reference and a made-up one
        name, *args = (part.format(ref=ref) for part in command)
        if chat > 0:
            update = harness.updates.command(sender, name, *args)
        else:
            update = harness.updates.group_command(sender, chat, name, *args)
        answers.append(await harness.send(update))
    assert answers[0] == answers[1] == [REFUSAL]
    assert _state(office) == before
    assert harness.request.calls("sendDocument") == []


@pytest.mark.parametrize(("who", "where"), SENDERS)
@pytest.mark.parametrize("button", BUTTONS)
async def test_staff_buttons_are_refused_revealing_nothing(
    harness: Harness, office: Office, who: str, where: str, button: str
) -> None:
    reference, owner = await _case(harness)
    before = _state(office)
    sender, chat = _sender(who, owner)
    sent = await harness.send(
        harness.updates.callback(sender, button.format(ref=reference), message_id=1, chat_id=chat)
    )
    assert sent == []
    [answer] = harness.request.calls("answerCallbackQuery")[-1:]
    assert answer.params.get("text") == REFUSAL
    assert _state(office) == before


@pytest.mark.parametrize(
    "data",
    [
        "i1:0:o.self",
        "i1:999999:send",
        "i1:x:o.self",
        "i2:1:o.self",
        "s1",
        "p2:erase",
        "",
        "i1:1:c.nope",
    ],
)
async def test_forged_or_stale_intake_buttons_change_nothing(
    harness: Harness, office: Office, data: str
) -> None:
    reference, owner = await _case(harness)
    intruder = new_user()
    await harness.run(intruder, intake_to_review()[:3])
    before = _state(office)
    for presser in (intruder, owner):
        sent = await harness.send(harness.updates.callback(presser, data, message_id=1))
        assert reference not in "".join(sent)
        assert not any("Your enquiry has been sent" in text for text in sent)
    assert _state(office) == before


async def test_a_constituent_pressing_anothers_button_moves_only_their_own_draft(
    harness: Harness,
) -> None:
    owner, other = new_user(), new_user()
    await harness.run(owner, intake_to_review()[:2])
    await harness.run(other, intake_to_review()[:1])
    buttons = [b for row in harness.request.last_keyboard(owner.user_id) for b in row]
    owners_button = next(b[1] for b in buttons if isinstance(b, tuple) and b[0] == "It is about me")
    assert isinstance(owners_button, str)
    sent = await harness.send(harness.updates.callback(other, owners_button, message_id=1))
    assert all("full name" not in text for text in sent)
    texts = await harness.act(owner, ("tap", "It is about me"))
    assert "What is your full name?" in texts[-1]


async def test_the_privacy_erase_button_acts_only_in_the_pressers_own_chat(
    harness: Harness, office: Office
) -> None:
    reference, owner = await _case(harness)
    before = _state(office)
    in_a_group = harness.updates.callback(owner, "p1:erase", message_id=1, chat_id=STAFF_CHAT)
    await harness.send(in_a_group)
    await harness.send(harness.updates.callback(OUTSIDER, "p1:erase", message_id=1))
    assert _state(office) == before
    assert reference


@pytest.mark.parametrize(
    "command", ["/status", "/mydata", "/delete", "/withdraw", "/back", "/cancel", "hello"]
)
async def test_other_groups_get_no_intake_and_no_data(harness: Harness, command: str) -> None:
    reference, owner = await _case(harness)
    if command.startswith("/"):
        update = harness.updates.group_command(owner, OTHER_GROUP, command)
    else:
        update = harness.updates.group_text(owner, OTHER_GROUP, command)
    sent = await harness.send(update)
    assert reference not in "".join(sent)
    assert harness.request.calls("sendDocument") == []
    assert all("Your enquiries" not in text for text in sent)


@pytest.mark.parametrize("text", ["/start", "/EXPORT csv", "/status", "/delete", "/queue"])
async def test_a_message_edited_into_a_command_does_nothing(harness: Harness, text: str) -> None:
    user = new_user()
    await harness.run(user, intake_to_review()[:3])
    edited = harness.updates.edited_text(user, text)
    assert await harness.send(edited, chat_id=user.user_id) == []
