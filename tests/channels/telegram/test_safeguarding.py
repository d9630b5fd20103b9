"""Someone who may be at risk gets the crisis numbers at once, and the team is told."""

from __future__ import annotations

import pytest
from support.intake import SAM, STAFF_CHAT, Harness, intake_to_review, new_user, services_of

from bot.core.safeguarding import Concern, concerns_in

# (what the person writes, the concern, a line of the help they must be given)
GROUPS = [
    ("I have been thinking about suicide since the letter came.", Concern.SELF_HARM, "116 123"),
    ("I can't go on like this any more.", Concern.SELF_HARM, "Samaritans"),
    ("My partner hits me when the rent is late.", Concern.DOMESTIC_ABUSE, "0808 2000 247"),
    ("It is domestic abuse and the council will not rehouse us.", Concern.DOMESTIC_ABUSE, "999"),
    ("I think my child is at risk in the flat.", Concern.CHILD_AT_RISK, "0808 800 5000"),
    ("I am not safe at home.", Concern.IN_DANGER, "press 55"),
]
STORY_STEP = 14  # the transcript's "What has happened?" answer


@pytest.mark.parametrize(("text", "concern", "help_line"), GROUPS)
async def test_each_group_of_words_gets_help_at_once_and_flags_the_case(
    harness: Harness, text: str, concern: Concern, help_line: str
) -> None:
    assert concerns_in(text)[0] is concern
    user = new_user()
    transcript = intake_to_review()
    await harness.run(user, transcript[:STORY_STEP])
    answers = await harness.act(user, ("text", text))
    assert help_line in answers[0]
    assert "call 999" in answers[0]
    assert "01782 232 000" in answers[0]  # the office's own phone
    assert "That is everything" in answers[-1]  # then the intake carries on
    await harness.run(user, transcript[STORY_STEP + 1 :])
    harness.request.clear()
    await harness.act(user, ("tap", "Send to the office"))
    to_staff = harness.request.sent_texts(STAFF_CHAT)
    [case] = await services_of(harness.app).intake.cases_of(user.user_id)
    assert case.concerns == (concern.value,)
    assert case.urgency.urgent
    assert any("🛟 <b>Safeguarding</b>" in t and case.reference in t for t in to_staff)
    assert any(t.startswith("🛟 <b>Safeguarding:") and case.reference in t for t in to_staff)


async def test_ordinary_words_raise_no_concern(harness: Harness) -> None:
    user = new_user()
    await harness.run(user, intake_to_review())
    await harness.act(user, ("tap", "Send to the office"))
    [case] = await services_of(harness.app).intake.cases_of(user.user_id)
    assert case.concerns == ()
    assert not any("Safeguarding" in t for t in harness.request.sent_texts(STAFF_CHAT))


async def test_a_message_after_the_case_was_sent_alerts_whoever_has_it(harness: Harness) -> None:
    user = new_user()
    await harness.run(user, intake_to_review())
    await harness.act(user, ("tap", "Send to the office"))
    [case] = await services_of(harness.app).intake.cases_of(user.user_id)
    await harness.send(harness.updates.group_command(SAM, STAFF_CHAT, "/claim", case.reference))
    harness.request.clear()
    answers = await harness.act(user, ("text", "He said he is going to kill me tonight."))
    assert "call 999" in answers[0]
    to_sam = harness.request.sent_texts(SAM.user_id)
    assert any(t.startswith("🛟 <b>Safeguarding:") for t in to_sam)
    [flagged] = await services_of(harness.app).intake.cases_of(user.user_id)
    assert flagged.concerns == (Concern.IN_DANGER.value,)


@pytest.mark.parametrize(
    "text",
    ["Suicidal thoughts", "my husband hits me", "SELF-HARM", "I\u2019m in danger", "end my life"],
)
def test_the_words_are_found_however_they_are_typed(text: str) -> None:
    assert concerns_in(text)


@pytest.mark.parametrize(
    "text", ["The danger money was stopped", "hitsville", "the overdosed plant", "a safe house"]
)
def test_near_misses_are_not_concerns(text: str) -> None:
    assert concerns_in(text) == ()
