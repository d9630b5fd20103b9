"""Promised dates in the staff group: the card's date line, /followup and /queue overdue."""

from __future__ import annotations

from datetime import UTC, datetime

from channels.telegram.test_staff_app import card, command, generous, send_case, stored
from support.intake import SAM, Harness, new_user, services_of


async def test_the_card_shows_the_promised_date_then_overdue(harness: Harness) -> None:
    generous(harness)
    harness.clock.now = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)  # Monday
    reference = await send_case(harness, new_user())
    _, text, _ = await card(harness, reference)
    assert "Reply promised by 7 December 2026" in text
    assert "OVERDUE" not in text
    # The day after the promised date, any change to the case shows it overdue.
    harness.clock.now = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
    await command(harness, SAM, "/note", reference, "Still", "waiting")
    _, text, _ = await card(harness, reference)
    assert "⏰ <b>OVERDUE</b>: a reply was promised by 7 December 2026" in text
    answer = await command(harness, SAM, "/queue", "overdue")
    assert "overdue" in answer[0]
    assert reference in answer[0]
    assert "⏰" in answer[0]


async def test_followup_sets_the_date_to_chase_and_clears_it(harness: Harness) -> None:
    generous(harness)
    reference = await send_case(harness, new_user())
    _, text, _ = await card(harness, reference)
    assert "Reply promised by 7 December 2026" in text
    # Once the office has replied, the next date owed is the chase.
    await command(harness, SAM, "/reply", reference, "We", "have", "written", "to", "DWP.")
    answer = await command(
        harness, SAM, "/followup", reference, "12", "March", "2027", "chase", "DWP"
    )
    assert (
        answer[0]
        == f"{reference} will be chased on 12 March 2027, and waits on the organisation until then."
    )
    found = await stored(harness, reference)
    assert found.case.follow_up is not None
    assert found.case.follow_up.isoformat() == "2027-03-12"
    assert found.case.status.value == "waiting"
    _, text, _ = await card(harness, reference)
    assert "Chase the organisation on 12 March 2027" in text
    answer = await command(harness, SAM, "/followup", reference, "2027-03-15")
    assert "15 March 2027" in answer[0]
    answer = await command(harness, SAM, "/followup", reference, "none")
    assert answer[0] == f"{reference} has no follow-up date now."
    assert (await stored(harness, reference)).case.follow_up is None


async def test_followup_without_a_readable_date_says_how(harness: Harness) -> None:
    reference = await send_case(harness, new_user())
    answer = await command(harness, SAM, "/followup", reference, "soon")
    assert answer[0].startswith("Send /followup, a reference and a date")
    async with services_of(harness.app).store.transaction() as tx:
        assert await tx.count_audit("follow_up") == 0
