"""The desk service with no channel: login links, sessions, queue views, search and export."""

from __future__ import annotations

import io
import itertools
import json
import sqlite3
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from support.intake import Clock, make_settings
from support.services import RecordingTransport, send_intake

from bot.core.desk import DeskQuery, Sort, Tab
from bot.core.references import ALPHABET
from bot.office import prepare
from bot.service.desk import LoginRefused, SignedIn
from bot.service.staff import Actor, Caseworker, NotStaffError
from bot.wiring import Services, build_services, open_store

SAM, PRIYA = 9001, 9002
STAFF_CHAT = -100777


@pytest.fixture
async def services(tmp_path: Path, clock: Clock) -> AsyncIterator[Services]:
    """Return an office's services on a fresh store, with a recording transport."""
    office = prepare(make_settings(tmp_path / "db.sqlite3"))
    store = await open_store(office.settings.database_path)
    numbers = itertools.count(123456, 7919)
    built = build_services(
        office,
        store,
        clock,
        lambda: next(numbers),
        delivery_backoff=0.01,
        desk_url="https://desk.example.org/",
    )
    built.outbox.transport = RecordingTransport()
    try:
        yield built
    finally:
        await store.close()


async def link(services: Services, user_id: int = SAM) -> str:
    """Return the token of a login link sent to a caseworker."""
    url = await services.desk.login_link(Actor(user_id, user_id, None))
    assert url.startswith("https://desk.example.org/login/")
    return url.rsplit("/", 1)[1]


async def sign_in(services: Services, user_id: int = SAM) -> str:
    """Return the session of a caseworker signed in through a fresh link."""
    result = await services.desk.sign_in(await link(services, user_id))
    assert isinstance(result, SignedIn)
    return result.session


def rows(services: Services, sql: str) -> list[tuple[object, ...]]:
    """Read the store's file directly, as anyone with a copy of it could."""
    path = services.office.settings.database_path
    with sqlite3.connect(path) as db:
        return db.execute(sql).fetchall()


async def worker(services: Services, user_id: int = SAM) -> Caseworker:
    return await services.staff.authorise(Actor(user_id, user_id), "test")


async def test_only_staff_in_their_private_chat_get_a_link(services: Services) -> None:
    with pytest.raises(NotStaffError):
        await services.desk.login_link(Actor(5001, 5001))
    with pytest.raises(NotStaffError):
        await services.desk.login_link(Actor(SAM, STAFF_CHAT))
    token = await link(services)
    assert len(token) >= 43  # 32 random bytes, URL-safe
    stored = rows(services, "SELECT token_hash, user_id FROM desk_logins")
    assert len(stored) == 1
    assert token not in str(stored)
    assert stored[0][1] == SAM


async def test_a_link_signs_in_once_within_ten_minutes(services: Services, clock: Clock) -> None:
    token = await link(services)
    first = await services.desk.sign_in(token)
    assert isinstance(first, SignedIn)
    assert first.user_id == SAM
    assert await services.desk.sign_in(token) == LoginRefused("used")
    late = await link(services)
    clock.advance(minutes=10, seconds=1)
    assert await services.desk.sign_in(late) == LoginRefused("expired")
    assert await services.desk.sign_in("made-up") == LoginRefused("unknown")
    async with services.store.transaction() as tx:
        assert await tx.count_audit("desk_login") == 1
        assert await tx.count_audit("desk_login_refused") == 3
    # Only hashes are kept: the session's secret is not in the file.
    assert first.session not in str(rows(services, "SELECT * FROM desk_sessions"))


async def test_a_session_lasts_twelve_hours_and_ends_on_sign_out(
    services: Services, clock: Clock
) -> None:
    desk = services.desk
    session = await sign_in(services)
    who = await desk.caseworker(session)
    assert who is not None
    assert (who.user_id, who.chat_id) == (SAM, SAM)
    assert await desk.caseworker("forged") is None
    assert await desk.caseworker("") is None
    clock.advance(hours=11, minutes=59)
    assert await desk.caseworker(session) is not None
    clock.advance(minutes=2)
    assert await desk.caseworker(session) is None

    first, second, third = [await sign_in(services) for _ in range(3)]
    other = await sign_in(services, PRIYA)
    assert await desk.sign_out(who, first) == 1
    assert await desk.caseworker(first) is None
    assert await desk.caseworker(second) is not None
    assert await desk.sign_out(who, second, everywhere=True) == 2
    assert await desk.caseworker(second) is None
    assert await desk.caseworker(third) is None
    assert await desk.caseworker(other) is not None


async def test_the_desk_key_is_made_once_and_kept(services: Services) -> None:
    key = await services.desk.key()
    services.desk._key = None
    assert await services.desk.key() == key
    assert rows(services, "SELECT value FROM meta WHERE key = 'desk_key'") == [(key,)]


async def test_queue_tabs_filters_and_counts(services: Services, clock: Clock) -> None:
    sam = await worker(services)
    cases = []
    for number in range(4):
        cases.append(await send_intake(services, 5001 + number))
        clock.advance(days=1)
    await services.staff.claim(sam, cases[0].reference)
    await services.staff.set_status(sam, cases[1].reference, "waiting")
    await services.staff.assign(sam, cases[2].reference, "Priya")
    await services.staff.close(sam, cases[3].reference, "Sorted")

    page = await services.desk.queue(sam, DeskQuery(Tab.MINE))
    assert [s.case.reference for s in page.rows] == [cases[0].reference]
    assert page.counts == {
        Tab.MINE: 1,
        Tab.UNASSIGNED: 1,
        Tab.URGENT: 0,
        Tab.OVERDUE: 0,
        Tab.WAITING: 1,
        Tab.OPEN: 3,
        Tab.CLOSED: 1,
    }
    closed = await services.desk.queue(sam, DeskQuery(Tab.CLOSED))
    assert [s.case.reference for s in closed.rows] == [cases[3].reference]
    by_priya = await services.desk.queue(sam, DeskQuery(Tab.OPEN, assignee=PRIYA))
    assert [s.case.reference for s in by_priya.rows] == [cases[2].reference]
    nobody = await services.desk.queue(sam, DeskQuery(Tab.OPEN, assignee=0))
    assert [s.case.reference for s in nobody.rows] == [cases[1].reference]
    newest = await services.desk.queue(sam, DeskQuery(Tab.OPEN, sort=Sort.NEWEST))
    assert [s.case.reference for s in newest.rows] == [c.reference for c in cases[2::-1]]
    day = cases[1].created_at.date()
    one_day = await services.desk.queue(
        sam, DeskQuery(Tab.OPEN, received_from=day, received_to=day)
    )
    assert [s.case.reference for s in one_day.rows] == [cases[1].reference]
    other_category = await services.desk.queue(sam, DeskQuery(Tab.OPEN, category="immigration"))
    assert other_category.total == 0
    assert other_category.counts[Tab.OPEN] == 0
    future = await services.desk.queue(
        sam, DeskQuery(Tab.OPEN, received_from=date.today() + timedelta(days=400))
    )
    assert future.rows == []


async def test_the_overdue_tab_holds_open_cases_past_their_promised_date(
    services: Services, clock: Clock
) -> None:
    sam = await worker(services)
    late, answered, chased = [await send_intake(services, 5101 + n) for n in range(3)]
    assert late.reply_by is not None
    clock.advance(days=(late.reply_by - clock().date()).days)
    page = await services.desk.queue(sam, DeskQuery(Tab.OVERDUE))
    assert (page.total, page.counts[Tab.OVERDUE]) == (0, 0)  # due today is not yet late
    clock.advance(days=1)
    await services.staff.reply(sam, answered.reference, "We have written to them.")
    chase_on = clock().date() + timedelta(days=3)
    await services.staff.follow_up(sam, chased.reference, chase_on)
    page = await services.desk.queue(sam, DeskQuery(Tab.OVERDUE))
    # The unanswered case is late; a follow-up date does not excuse the promised reply.
    assert sorted(s.case.reference for s in page.rows) == sorted([late.reference, chased.reference])
    assert page.counts[Tab.OVERDUE] == 2
    await services.staff.reply(sam, chased.reference, "We are chasing them.")
    await services.staff.close(sam, late.reference, "Sorted")
    page = await services.desk.queue(sam, DeskQuery(Tab.OVERDUE))
    assert page.rows == []
    clock.advance(days=4)
    page = await services.desk.queue(sam, DeskQuery(Tab.OVERDUE))
    assert [s.case.reference for s in page.rows] == [chased.reference]  # the chase is late


async def test_search_by_name_postcode_phone_and_a_mistyped_reference(
    services: Services,
) -> None:
    sam = await worker(services)
    case = await send_intake(services)
    for text in ("Ada", "lovelace", "ST4 1HH", "st41hh", "07911 123456", "damp", case.reference):
        found = await services.desk.search(sam, text)
        assert [s.case.reference for s in found.rows] == [case.reference], text
    assert (await services.desk.search(sam, "Olwen")).rows == []
    body = case.reference[-7:]
    slip = body[0] + next(c for c in ALPHABET if c != body[1]) + body[2:]
    found = await services.desk.search(sam, f"SOT-{slip}")
    assert found.likely == [case.reference]
    async with services.store.transaction() as tx:
        assert await tx.count_audit("searched") == 9
    # What was searched for is never written down.
    assert "Ada" not in str(rows(services, "SELECT detail FROM audit WHERE action = 'searched'"))


async def test_export_as_a_workbook_with_notes_and_messages_apart(services: Services) -> None:
    sam = await worker(services)
    case = await send_intake(services)
    await services.staff.note(sam, case.reference, "=HYPERLINK('x') called the council")
    await services.staff.reply(sam, case.reference, "We have written to the council.")
    export = await services.desk.export(sam, DeskQuery(Tab.OPEN), "xlsx", "cases")
    assert export.count == 1
    assert export.filename.endswith(".xlsx")
    book = load_workbook(io.BytesIO(export.data))
    assert book.sheetnames == ["Cases", "Notes", "Messages"]
    header, row = list(book["Cases"].values)
    values = dict(zip(header, row, strict=True))
    assert values["reference"] == case.reference
    assert values["answer.what_happened"] == (
        "The council has not repaired the damp in my flat since June."
    )
    assert values["answer.desired_outcome"] == "Ask the council to carry out the repair."
    assert values["consent_answer"] == "yes"
    assert values["consent_withdrawn"] is None
    notes = list(book["Notes"].values)
    assert notes[1][0] == case.reference
    assert notes[1][4] == "=HYPERLINK('x') called the council"
    assert book["Notes"].cell(2, 5).data_type == "s"  # text, never a formula
    messages = list(book["Messages"].values)
    assert messages[1][2] == "to_constituent"
    async with services.store.transaction() as tx:
        assert await tx.count_audit("exported") == 1


async def test_export_as_csv_tables_and_one_json_document(services: Services) -> None:
    sam = await worker(services)
    case = await send_intake(services)
    await services.staff.note(sam, case.reference, "=1+1")
    notes = await services.desk.export(sam, DeskQuery(Tab.OPEN), "csv", "notes")
    text = notes.data.decode("utf-8-sig")
    assert text.splitlines()[0] == "reference,at,kind,author,text"
    assert text.splitlines()[1].endswith(",note,Sam,'=1+1")
    whole = json.loads((await services.desk.export(sam, DeskQuery(Tab.OPEN), "json", "")).data)
    assert set(whole) == {"cases", "notes", "messages"}
    assert whole["cases"]["rows"][0]["reference"] == case.reference
    assert whole["notes"]["rows"][0]["text"] == "=1+1"
    empty = await services.desk.export(sam, DeskQuery(Tab.CLOSED), "csv", "cases")
    assert empty.count == 0


async def test_a_search_finding_very_many_says_more_than_and_shows_the_newest(
    services: Services, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.service.desk.SEARCH_COUNT_LIMIT", 2)
    sam = await worker(services)
    cases = []
    for number in range(3):
        cases.append(await send_intake(services, 5001 + number))
        clock.advance(minutes=5)
    found = await services.desk.search(sam, "Ada")
    assert (found.total, found.more) == (2, True)
    assert [s.case.reference for s in found.rows] == [c.reference for c in reversed(cases)]
    exact = await services.desk.search(sam, "lovelace damp")
    assert exact.more
