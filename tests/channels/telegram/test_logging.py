"""Logs carry references and ids, never what constituents wrote."""

from __future__ import annotations

import pytest
from support.intake import OFFICE_ENV, SAM, STAFF_CHAT, Harness, intake_to_review, new_user

from bot import logs

TOKEN = str(OFFICE_ENV["telegram_bot_token"])
PERSONAL = (
    "Ada Lovelace",
    "Lovelace",
    "7911123456",
    "ada@example.org",
    "12 Example Road",
    "ST4 1HH",
    "st4 1hh",
    "damp in my flat",
    "carry out the repair",
    "HB/12345",
    "We have written to the council",
    "Thank you for helping",
)


@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
async def test_a_whole_intake_and_staff_round_trip_log_nothing_personal(
    harness: Harness, caplog: pytest.LogCaptureFixture, level: str
) -> None:
    logs.configure(level, (TOKEN,))
    caplog.set_level(level)
    user = new_user()
    await harness.run(user, intake_to_review())
    texts = await harness.act(user, ("tap", "Send to the office"))
    reference = texts[-1].split("<b>")[2].split("</b>")[0]
    staff = harness.updates
    await harness.send(staff.group_command(SAM, STAFF_CHAT, "/claim", reference))
    await harness.send(staff.group_command(SAM, STAFF_CHAT, "/case", reference))
    await harness.send(
        staff.group_command(SAM, STAFF_CHAT, "/reply", reference, "We have written to the council")
    )
    await harness.act(user, ("text", "Thank you for helping"))
    await harness.send(staff.group_command(SAM, STAFF_CHAT, "/close", reference, "resolved"))
    logged = "\n".join(record.getMessage() + (record.exc_text or "") for record in caplog.records)
    assert any(reference in record.getMessage() for record in caplog.records)
    for value in (*PERSONAL, TOKEN, TOKEN.split(":")[1]):
        assert value not in logged, f"{value!r} was logged"
