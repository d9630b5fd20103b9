"""A case taken by phone reaches the staff group as a card, like any other."""

from __future__ import annotations

from service.test_taken_cases import PHONED
from support.intake import SAM, STAFF_CHAT, Harness, services_of

from bot.core.case import CaseChannel
from bot.service.staff import Actor
from bot.service.taken import Taken


async def test_a_phoned_cases_card_is_posted_in_the_staff_group(harness: Harness) -> None:
    services = services_of(harness.app)
    who = await services.staff.authorise(Actor(SAM.user_id, STAFF_CHAT), "take")
    result = await services.taken.take_case(who, CaseChannel.PHONE, PHONED, consent_how="Phone")
    assert isinstance(result, Taken)
    await harness.settle()
    cards = [
        call.text
        for call in harness.request.calls()
        if call.method == "sendMessage" and call.chat_id == STAFF_CHAT and call.text
    ]
    assert len(cards) == 1
    assert result.case.reference in cards[0]
    assert "Olwen" not in cards[0]  # a card names no one
    assert "📞 Taken down by phone" in cards[0]
    assert [c for c in harness.request.calls() if c.chat_id == 0] == []
