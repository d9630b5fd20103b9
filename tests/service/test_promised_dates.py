"""Promised dates: each case's reply-by date, follow-ups, and the overdue queue."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from support.intake import Clock
from support.services import RecordingTransport, running_services, send_intake

from bot.core.case import CaseStatus, QueueFilter
from bot.core.workdays import working_days
from bot.service.staff import Actor, CaseView, Caseworker
from bot.wiring import Services

STAFF_CHAT = -100777
SAM = 9001


@pytest.fixture
async def office(
    tmp_path: Path, clock: Clock
) -> AsyncIterator[tuple[Services, RecordingTransport]]:
    async with running_services(tmp_path, clock) as running:
        yield running


async def sam(services: Services) -> Caseworker:
    return await services.staff.authorise(Actor(SAM, STAFF_CHAT), "test")


async def test_a_new_case_is_promised_a_reply_in_working_days(
    office: tuple[Services, RecordingTransport], clock: Clock
) -> None:
    services, _ = office
    # Friday 18 December 2026: 10 working days pass Christmas, Boxing Day (observed on the
    # 28th) and New Year's Day.
    clock.now = datetime(2026, 12, 18, 15, 0, tzinfo=UTC)
    case = await send_intake(services)
    assert case.reply_by == date(2027, 1, 6)
    async with services.store.transaction() as tx:
        stored = await tx.get_case(case.reference)
    assert stored is not None
    assert stored.case.reply_by == date(2027, 1, 6)
    assert stored.case.due_on == date(2027, 1, 6)


async def test_response_days_is_a_setting(tmp_path: Path, clock: Clock) -> None:
    async with running_services(tmp_path, clock, response_days=3) as (services, _):
        clock.now = datetime(2026, 12, 18, 15, 0, tzinfo=UTC)
        case = await send_intake(services)
    assert case.reply_by == date(2026, 12, 23)


async def test_a_scottish_office_counts_scotlands_bank_holidays(
    tmp_path: Path, clock: Clock
) -> None:
    async with running_services(tmp_path, clock, constituency_code="S14000045") as running:
        services, _ = running
        rules = services.office.rules
    # Friday 27 November 2026; Monday 30 November is St Andrew's Day in Scotland.
    friday = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    assert working_days(rules.nation).reply_by(friday, 1) == date(2026, 12, 1)
    assert working_days("E").reply_by(friday, 1) == date(2026, 11, 30)


async def test_overdue_cases_are_listed_and_a_reply_meets_the_promise(
    office: tuple[Services, RecordingTransport], clock: Clock
) -> None:
    services, _ = office
    clock.now = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)  # a Monday
    late = await send_intake(services, 5001)
    answered = await send_intake(services, 5002)
    assert late.reply_by == date(2026, 12, 7)
    who = await sam(services)
    await services.staff.reply(who, answered.reference, "We have written to the council.")
    clock.now = datetime(2026, 12, 7, 17, 0, tzinfo=UTC)
    page = await services.staff.queue(who, QueueFilter.OVERDUE)
    assert page.total == 0  # due today is not overdue yet
    clock.now = datetime(2026, 12, 8, 8, 0, tzinfo=UTC)
    page = await services.staff.queue(who, QueueFilter.OVERDUE)
    assert [row.reference for row in page.rows] == [late.reference]
    assert page.rows[0].due_on == date(2026, 12, 7)
    # Replying meets the promise: the case leaves the overdue list.
    await services.staff.reply(who, late.reference, "Sorry for the wait.")
    assert (await services.staff.queue(who, QueueFilter.OVERDUE)).total == 0
    async with services.store.transaction() as tx:
        stored = await tx.get_case(late.reference)
    assert stored is not None
    assert stored.case.first_reply_at == clock.now
    assert not stored.case.is_overdue(date(2027, 1, 1))


async def test_a_follow_up_date_waits_on_the_organisation_and_is_audited(
    office: tuple[Services, RecordingTransport], clock: Clock
) -> None:
    services, recorder = office
    case = await send_intake(services)
    who = await sam(services)
    await services.staff.reply(who, case.reference, "We are on it.")
    done = await services.staff.follow_up(who, case.reference, date(2026, 12, 1), "chase DWP")
    assert done.msg.key == "staff.follow_up_set"
    assert done.case is not None
    assert done.case.status is CaseStatus.WAITING
    assert done.case.due_on == date(2026, 12, 1)
    view = await services.staff.view(who, case.reference)
    assert isinstance(view, CaseView)
    assert [m.text for m in view.messages if m.kind == "note"] == ["chase DWP"]
    assert [(e.action, e.detail) for e in view.history if e.action == "follow_up"] == [
        ("follow_up", "2026-12-01")
    ]
    clock.now = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    page = await services.staff.queue(who, QueueFilter.OVERDUE)
    assert [row.reference for row in page.rows] == [case.reference]
    cleared = await services.staff.follow_up(who, case.reference, None)
    assert cleared.msg.key == "staff.follow_up_cleared"
    assert (await services.staff.queue(who, QueueFilter.OVERDUE)).total == 0
    # The card was brought up to date after each change.
    await services.outbox.drain(seconds=5)
    assert recorder.cards[-1] == (STAFF_CHAT, case.reference)


async def test_a_follow_up_in_the_past_is_refused_and_changes_nothing(
    office: tuple[Services, RecordingTransport], clock: Clock
) -> None:
    services, _ = office
    case = await send_intake(services)
    who = await sam(services)
    done = await services.staff.follow_up(who, case.reference, date(2026, 11, 20))
    assert done.msg.key == "staff.follow_up_past"
    async with services.store.transaction() as tx:
        stored = await tx.get_case(case.reference)
        assert await tx.count_audit("follow_up") == 0
    assert stored is not None
    assert stored.case.follow_up is None


async def test_closing_records_when_and_reopening_clears_it(
    office: tuple[Services, RecordingTransport], clock: Clock
) -> None:
    services, _ = office
    case = await send_intake(services)
    who = await sam(services)
    clock.advance(days=3)
    closed = await services.staff.close(who, case.reference, "Repaired")
    assert closed.case is not None
    assert closed.case.closed_at == clock.now
    assert closed.case.due_on is None
    reopened = await services.staff.set_status(who, case.reference, "open")
    assert reopened.case is not None
    assert reopened.case.closed_at is None
