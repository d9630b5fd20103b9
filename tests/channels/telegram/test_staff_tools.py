"""Staff's menu and help, categories by any name, and search, through the real Application."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.desk import running_desk
from support.intake import (
    PRIYA,
    SAM,
    STAFF_CHAT,
    Action,
    Clock,
    Harness,
    intake_to_review,
    new_user,
    services_of,
)
from support.telegram import FakeUser

from bot.service.outbox import RateLimit


def intake(name: str, category: str = "Housing", happened: str | None = None) -> list[Action]:
    """Return an intake's actions with another name, category or story."""
    steps = [action for action, _ in intake_to_review(name)]
    steps[10] = ("tap", category)
    if happened is not None:
        steps[14] = ("text", happened)
    return steps


async def send_case(harness: Harness, user: FakeUser, actions: list[Action]) -> str:
    """Play an intake, press Send, and return the new case's reference."""
    for action in actions:
        await harness.act(user, action)
    await harness.act(user, ("tap", "Send to the office"))
    return (await services_of(harness.app).intake.cases_of(user.user_id))[-1].reference


async def in_group(harness: Harness, command: str, *args: str) -> list[str]:
    """Send Sam's command in the staff group; return what came back there."""
    update = harness.updates.group_command(SAM, STAFF_CHAT, command, *args)
    return await harness.send(update, STAFF_CHAT)


# --- the menu and help ---------------------------------------------------------------------


def menu(harness: Harness, scope: dict[str, object] | None) -> list[str]:
    """Return the commands of the menu set for a scope (None: everyone's)."""
    [call] = [c for c in harness.request.calls("setMyCommands") if c.params.get("scope") == scope]
    commands = call.params["commands"]
    assert isinstance(commands, list)
    return [c["command"] for c in commands]


async def test_staff_see_staff_commands_in_the_group_and_their_own_chats(
    harness: Harness,
) -> None:
    in_the_group = menu(harness, {"type": "chat", "chat_id": STAFF_CHAT})
    assert in_the_group[:3] == ["help", "queue", "search"]
    assert {"case", "claim", "note", "reply", "close", "erase"} <= set(in_the_group)
    assert "export" not in in_the_group  # never in the group
    for member in (SAM, PRIYA):
        assert menu(harness, {"type": "chat", "chat_id": member.user_id}) == [
            *in_the_group,
            "export",
        ]
    assert menu(harness, None)[0] == "start"


async def test_help_in_the_staff_group_explains_the_staff_commands(harness: Harness) -> None:
    [text] = await in_group(harness, "/help")
    assert text.startswith("<b>Casework commands</b>")
    assert "#note" in text
    assert "/search" in text
    [private] = await harness.send(harness.updates.command(SAM, "/help"), SAM.user_id)
    assert private == text
    constituent = new_user()
    [theirs] = await harness.send(harness.updates.command(constituent, "/help"))
    assert theirs.startswith("This is the enquiry service of Jo Example")


# --- categories by any name ----------------------------------------------------------------


@pytest.mark.parametrize(
    "typed", ["nhs", "NHS", "health", "NHS and social care", "nhs & social care", "social care"]
)
async def test_queue_takes_a_category_by_its_name_label_or_alias(
    harness: Harness, typed: str
) -> None:
    health = await send_case(harness, new_user(), intake("Ada Lovelace", "NHS and social care"))
    housing = await send_case(harness, new_user(), intake("Bo Jones"))
    [text] = await in_group(harness, "/queue", typed)
    assert text.startswith("<b>Open cases</b> (health): 1, page 1 of 1")
    assert health in text
    assert housing not in text


async def test_queue_with_an_unknown_category_names_the_choices(harness: Harness) -> None:
    [text] = await in_group(harness, "/queue", "plumbing")
    assert text.startswith("There is no category called “plumbing”. Send /queue with one of:")
    assert "health (NHS and social care)" in text
    assert "housing (Housing)" in text


async def test_the_queue_in_the_group_shows_no_ones_words(harness: Harness) -> None:
    reference = await send_case(harness, new_user(), intake("Ada Lovelace"))
    [text] = await in_group(harness, "/queue")
    assert reference in text
    assert "damp" not in text
    [private] = await harness.send(harness.updates.command(SAM, "/queue"), SAM.user_id)
    assert "The council has not repaired the damp" in private


# --- search --------------------------------------------------------------------------------


async def test_search_finds_cases_by_name_postcode_phone_reference_and_words(
    harness: Harness,
) -> None:
    services_of(harness.app).outbox.group_limit = RateLimit(1000, 60.0, lambda: 0.0)
    ada_user = new_user()
    ada = await send_case(harness, ada_user, intake("Ada Lovelace"))
    bo = await send_case(
        harness, new_user(), intake("Bo Jones", "Benefits and pensions", "My PIP was stopped.")
    )
    await harness.send(harness.updates.text(ada_user, "There is black mould now."))
    for query, found in [
        ("Lovelace", [ada]),
        ("ada lovelace", [ada]),
        ("Jones", [bo]),
        ("ST4 1HH", [bo, ada]),
        ("st41hh", [bo, ada]),
        ("07911 123456", [bo, ada]),
        ("+44 7911 123456", [bo, ada]),
        ("ada@example.org", [bo, ada]),
        (ada, [ada]),
        (ada.lower().replace("-", ""), [ada]),
        ("PIP stopped", [bo]),
        ("mould", [ada]),
        ("Lov", [ada]),
    ]:
        [text] = await in_group(harness, "/search", *query.split())
        shown = [r for r in (ada, bo) if f"<code>{r}</code>" in text]
        assert sorted(shown, key=text.index) == found, query
        assert text.startswith(f"<b>Cases found</b>: {len(found)}")
    [text] = await in_group(harness, "/search", "Zebedee")
    assert text.startswith("No case matches.")
    [text] = await in_group(harness, "/search")
    assert text.startswith("Send /search and words to look for")
    # What was searched for is not kept: only that a search was made, and how many it found.
    async with services_of(harness.app).store.transaction() as tx:
        assert await tx.count_audit("searched") == 14


async def test_search_results_show_each_case_with_a_button(harness: Harness) -> None:
    reference = await send_case(harness, new_user(), intake("Ada Lovelace"))
    [text] = await in_group(harness, "/search", "Lovelace")
    assert f"<code>{reference}</code> · Housing · New · 23 Nov 2026 09:30 · nobody yet" in text
    assert harness.request.last_keyboard(STAFF_CHAT) == [[(reference, f"s1:show:{reference}")]]
    assert "Ada" not in text.replace("Lovelace", "")


async def test_with_the_desk_on_staff_are_offered_desk_in_their_own_chats(
    tmp_path: Path, clock: Clock
) -> None:
    async with running_desk(tmp_path, clock) as desk:
        in_the_group = menu(desk.harness, {"type": "chat", "chat_id": STAFF_CHAT})
        assert "desk" not in in_the_group  # its link signs in: never posted in a group
        for member in (SAM, PRIYA):
            private = menu(desk.harness, {"type": "chat", "chat_id": member.user_id})
            assert private == [*in_the_group, "export", "desk"]
