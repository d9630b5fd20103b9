"""Retention and data rights through the real Application."""

from __future__ import annotations

import json
import sqlite3

from support.intake import SAM, STAFF_CHAT, Harness, intake_to_review, new_user, services_of
from support.telegram import FakeUser

from bot.office import Office


async def _send_case(harness: Harness, user: FakeUser) -> str:
    await harness.run(user, intake_to_review())
    texts = await harness.act(user, ("tap", "Send to the office"))
    return texts[-1].split("<b>")[2].split("</b>")[0]


def _rows(office: Office, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(office.settings.database_path) as db:
        return db.execute(sql).fetchall()


async def test_an_idle_draft_is_reminded_once_then_deleted_with_a_message(
    harness: Harness, office: Office
) -> None:
    user = new_user()
    await harness.run(user, intake_to_review()[:6])
    privacy = services_of(harness.app).privacy
    harness.clock.advance(hours=25)
    assert (await privacy.sweep()).reminded == 1
    await harness.settle()
    assert "have not finished it" in harness.request.sent_texts(user.user_id)[-1]
    assert (await privacy.sweep()).reminded == 0
    harness.clock.advance(days=7)
    report = await privacy.sweep()
    await harness.settle()
    assert report.expired == 1
    assert "has been deleted" in harness.request.sent_texts(user.user_id)[-1]
    assert _rows(office, "SELECT count(*) FROM drafts") == [(0,)]
    assert sorted(_rows(office, "SELECT outcome, count FROM intake_counts")) == [
        ("expired", 1),
        ("started", 1),
    ]


async def test_out_of_area_and_cancelled_intakes_keep_only_counts(
    harness: Harness, office: Office
) -> None:
    away, quitter = new_user(), new_user()
    await harness.run(away, intake_to_review()[:4])
    await harness.act(away, ("text", "ST6 1AA"))
    await harness.act(away, ("tap", "Yes, that is my postcode"))
    await harness.run(quitter, intake_to_review()[:3])
    await harness.act(quitter, ("command", "/cancel"))
    await harness.act(quitter, ("tap", "Yes, delete my answers"))
    assert _rows(office, "SELECT count(*) FROM drafts") == [(0,)]
    assert sorted(_rows(office, "SELECT outcome, count FROM intake_counts")) == [
        ("cancelled", 1),
        ("out_of_area", 1),
        ("started", 2),
    ]


async def test_closed_cases_are_deleted_after_retention_keeping_an_audit_line(
    harness: Harness, office: Office
) -> None:
    user = new_user()
    reference = await _send_case(harness, user)
    await harness.send(harness.updates.group_command(SAM, STAFF_CHAT, "/close", reference, "done"))
    harness.clock.advance(days=365 * 2 + 1)
    report = await services_of(harness.app).privacy.sweep()
    assert report.cases_deleted == 1
    assert _rows(office, "SELECT count(*) FROM cases") == [(0,)]
    assert _rows(office, "SELECT count(*) FROM consents") == [(0,)]
    assert _rows(office, "SELECT count(*) FROM case_messages") == [(0,)]
    audit = _rows(office, "SELECT action, detail FROM audit WHERE action = 'deleted_by_retention'")
    assert audit == [("deleted_by_retention", "")]


async def test_mydata_sends_everything_held_but_internal_notes(harness: Harness) -> None:
    user = new_user()
    reference = await _send_case(harness, user)
    await harness.send(
        harness.updates.group_command(SAM, STAFF_CHAT, "/note", reference, "internal-only-remark")
    )
    await harness.send(harness.updates.group_command(SAM, STAFF_CHAT, "/case", reference))
    await harness.act(user, ("command", "/mydata"))
    readable, as_json = harness.request.calls("sendDocument")
    names = [
        m["document"]["file_name"]
        for m in harness.request.messages(user.user_id)
        if "document" in m
    ]
    assert sorted(names) == ["my-data.json", "my-data.txt"]
    [data] = as_json.uploads.values()
    held = json.loads(data)
    [enquiry] = held["enquiries"]
    assert enquiry["case"]["reference"] == reference
    assert enquiry["case"]["answers"]["full_name"] == "Ada Lovelace"
    assert "internal-only-remark" not in data.decode()
    [text] = readable.uploads.values()
    document = text.decode()
    assert "internal-only-remark" not in document
    assert f"Enquiry {reference}, sent on 23 November 2026, 09:30" in document
    assert "  Your name: Ada Lovelace" in document
    assert "  Enquiry about: Housing" in document
    assert "Permission to contact organisations: you gave it, on 23 November 2026" in document
    assert "caseworkers may share your details with the organisations involved" in document
    assert "Documents you sent: a photo" in document
    assert "Sam: took the case on" not in document
    assert "Sam: looked at the case" in document
    assert "<b>" not in document


async def test_delete_erases_closed_cases_and_flags_open_ones(
    harness: Harness, office: Office
) -> None:
    user = new_user()
    closed = await _send_case(harness, user)
    await harness.send(harness.updates.group_command(SAM, STAFF_CHAT, "/close", closed, "done"))
    still_open = await _send_case(harness, user)
    await harness.act(user, ("command", "/delete"))
    texts = await harness.act(user, ("tap", "Yes, delete my information"))
    assert "Closed enquiries deleted: 1" in texts[0]
    assert still_open in texts[1]
    assert _rows(office, "SELECT reference FROM cases") == [(still_open,)]
    group = harness.request.sent_texts(STAFF_CHAT)
    assert any("asks for their information to be deleted" in t and still_open in t for t in group)


async def test_withdraw_records_it_and_tells_staff(harness: Harness, office: Office) -> None:
    user = new_user()
    reference = await _send_case(harness, user)
    texts = await harness.act(user, ("command", "/withdraw"))
    assert f"withdrawn your permission on {reference}" in texts[-1]
    withdrawn = _rows(office, "SELECT withdrawn_at FROM consents")
    assert withdrawn[0][0] is not None
    group = harness.request.sent_texts(STAFF_CHAT)
    assert any("has withdrawn permission" in t and reference in t for t in group)
    again = await harness.act(user, ("command", "/withdraw"))
    assert "no enquiry where you gave permission" in again[-1]
