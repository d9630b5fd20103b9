"""/staff in the staff group: the list, a manager adding and removing, refused at once."""

from __future__ import annotations

from channels.telegram.test_staff_app import REFUSED, command, send_case
from support.intake import PRIYA, SAM, Harness, new_user
from support.telegram import FakeUser

OMAR = FakeUser(9003, "Omar", "Caseworker")


async def test_a_manager_adds_and_removes_a_caseworker(harness: Harness) -> None:
    assert await command(harness, OMAR, "/queue") == [REFUSED]
    answer = await command(harness, SAM, "/staff", "add", "9003", "Omar", "noexport", "housing")
    assert answer == ["Omar is on the staff now."]
    listing = await command(harness, SAM, "/staff")
    assert listing[0].splitlines() == [
        "<b>Staff</b>",
        "Sam (9001) · office manager · may export · no specialisms",
        "Priya (9002) · caseworker · may export · no specialisms",
        "Omar (9003) · caseworker · may not export · housing",
    ]
    reference = await send_case(harness, new_user())
    assert (await command(harness, OMAR, "/claim", reference))[0].endswith("assigned to Omar.")
    answer = await command(harness, SAM, "/staff", "remove", "omar")
    assert answer == ["Omar is no longer on the staff; their next action will be refused."]
    assert await command(harness, OMAR, "/queue") == [REFUSED]


async def test_a_caseworker_cannot_change_the_staff(harness: Harness) -> None:
    answer = await command(harness, PRIYA, "/staff", "remove", "Sam")
    assert answer == ["Only an office manager can change the staff list."]
    assert await command(harness, OMAR, "/staff") == [REFUSED]
    answer = await command(harness, SAM, "/staff", "add", "Omar")
    assert answer[0].startswith("Send /staff to see the staff")
