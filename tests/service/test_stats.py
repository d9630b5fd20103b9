"""The office's statistics against a seeded database whose answers are known."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from support.intake import Clock
from support.services import RecordingTransport, running_services

from bot.core.case import Case, CaseChannel, CaseStatus, Consent, Urgency
from bot.core.charts import Table, bar_chart, middle, weeks
from bot.core.references import make_reference
from bot.core.workdays import working_days
from bot.service.staff import Actor
from bot.service.stats import Period, PeriodError
from bot.wiring import Services, start_services

STAFF_CHAT = -100777
SAM, PRIYA = 9001, 9002
TODAY = datetime(2026, 12, 8, 12, 0, tzinfo=UTC)
PERIOD = Period(date(2026, 11, 2), date(2026, 11, 29))


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def case(
    number: int,
    received: str,
    category: str,
    *,
    replied: str | None = None,
    closed: str | None = None,
    status: CaseStatus = CaseStatus.NEW,
    assignee: int | None = None,
) -> Case:
    created = utc(received)
    return Case(
        reference=make_reference("SOT", number),
        user_id=7000 + number,
        chat_id=7000 + number,
        created_at=created,
        updated_at=created,
        status=CaseStatus.CLOSED if closed else status,
        flow_id="intake",
        flow_version=1,
        category=category,
        constituency_code="E14001520",
        constituency_name="Stoke-on-Trent Central",
        answers={"full_name": f"Person {number}"},
        consent=Consent(version="v1", answer="yes", recorded_at=created),
        urgency=Urgency(urgent=False),
        assignee=assignee,
        reply_by=working_days("E").reply_by(created, 10),
        first_reply_at=utc(replied) if replied else None,
        closed_at=utc(closed) if closed else None,
        channel=CaseChannel.TELEGRAM,
    )


SEEDED = [
    case(1, "2026-11-02T10:00", "housing", replied="2026-11-03T10:00", closed="2026-11-06T10:00"),
    case(
        2,
        "2026-11-04T10:00",
        "housing",
        replied="2026-11-07T10:00",
        status=CaseStatus.OPEN,
        assignee=SAM,
    ),
    case(3, "2026-11-10T10:00", "benefits"),
    case(4, "2026-11-23T23:30", "benefits", replied="2026-12-08T10:00", closed="2026-12-08T11:30"),
    case(5, "2026-11-30T10:00", "benefits", status=CaseStatus.WAITING, assignee=PRIYA),
    case(6, "2026-11-28T10:00", "housing"),
]


@pytest.fixture
async def office(
    tmp_path: Path, clock: Clock
) -> AsyncIterator[tuple[Services, RecordingTransport]]:
    clock.now = TODAY
    async with running_services(tmp_path, clock) as running:
        services = running[0]
        await start_services(services)
        async with services.store.transaction() as tx:
            for seeded in SEEDED:
                await tx.create_case(seeded)
            for day, outcome, times in [
                ("2026-11-05", "started", 3),
                ("2026-11-05", "sent", 2),
                ("2026-11-20", "out_of_area", 1),
                ("2026-12-01", "started", 1),
            ]:
                for _ in range(times):
                    await tx.count_outcome(day, outcome)
        yield running


async def test_the_statistics_of_a_known_period(
    office: tuple[Services, RecordingTransport],
) -> None:
    services, _ = office
    who = await services.staff.authorise(Actor(SAM, STAFF_CHAT), "stats")
    stats = await services.stats.statistics(who, PERIOD)
    received = stats.received.table
    assert received.series == ("Benefits and pensions", "Housing")
    assert received.rows == (
        ("2026-11-02", (0.0, 2.0)),
        ("2026-11-09", (1.0, 0.0)),
        ("2026-11-16", (0.0, 0.0)),
        ("2026-11-23", (1.0, 1.0)),
    )
    assert stats.open_cases.table.series == ("New", "Open", "Waiting on organisation")
    assert stats.open_cases.table.rows == (
        ("Sam", (0.0, 1.0, 0.0)),
        ("Priya", (0.0, 0.0, 1.0)),
        ("nobody yet", (2.0, 0.0, 0.0)),
    )
    assert (stats.first_reply.days, stats.first_reply.count) == (3.0, 3)
    assert stats.closed.count == 2
    assert stats.closed.days == pytest.approx(9.25)
    promises = stats.promises
    assert (promises.in_time, promises.late, promises.overdue, promises.not_due) == (2, 1, 1, 1)
    assert stats.answered_in_time == 0.5
    assert stats.intakes.table.rows == (
        ("Started", (3.0,)),
        ("Sent", (2.0,)),
        ("Out of the constituency", (1.0,)),
        ("Cancelled", (0.0,)),
        ("Left unfinished", (0.0,)),
    )
    async with services.store.transaction() as tx:
        assert await tx.count_audit("statistics_viewed") == 1


async def test_each_chart_is_svg_with_its_numbers_as_csv(
    office: tuple[Services, RecordingTransport],
) -> None:
    services, _ = office
    who = await services.staff.authorise(Actor(SAM, STAFF_CHAT), "stats")
    stats = await services.stats.statistics(who, PERIOD)
    for chart in stats.charts():
        svg = ET.fromstring(chart.svg)
        assert svg.tag == "{http://www.w3.org/2000/svg}svg"
        assert svg.get("role") == "img"
        rows = list(csv.reader(io.StringIO(chart.table.csv())))
        assert rows[0] == [chart.table.label_heading, *chart.table.series]
        assert len(rows) == len(chart.table.rows) + 1
    bars = ET.fromstring(stats.received.svg).findall("{http://www.w3.org/2000/svg}rect")
    titles = [bar.findtext("{http://www.w3.org/2000/svg}title") for bar in bars]
    assert "2026-11-02, Housing: 2" in titles
    assert list(csv.reader(io.StringIO(stats.received.table.csv())))[1] == [
        "2026-11-02",
        "0",
        "2",
    ]


def test_a_bar_chart_escapes_labels_and_draws_one_bar_per_value() -> None:
    table = Table("A <b> & c", "Label", ("One", "Two"), (("x<y", (1.0, 2.0)), ("z", (0.0, 3.0))))
    chart = bar_chart(table)
    svg = ET.fromstring(chart.svg)
    rects = svg.findall(".//{http://www.w3.org/2000/svg}rect")
    # Three bars with a value (a zero draws none) and two legend keys.
    assert len(rects) == 5
    assert svg.findtext("{http://www.w3.org/2000/svg}title") == "A <b> & c"


def test_weeks_and_medians() -> None:
    assert weeks(date(2026, 11, 4), date(2026, 11, 16)) == [
        date(2026, 11, 2),
        date(2026, 11, 9),
        date(2026, 11, 16),
    ]
    assert middle([]) is None
    assert middle([3, 1, 2]) == 2
    assert middle([4, 1, 2, 3]) == 2.5


async def test_periods(office: tuple[Services, RecordingTransport]) -> None:
    services, _ = office
    assert services.stats.period() == Period(date(2026, 9, 16), date(2026, 12, 8))
    with pytest.raises(PeriodError) as caught:
        services.stats.period(date(2026, 12, 1), date(2026, 11, 1))
    assert caught.value.msg.key == "stats.period_backwards"
    with pytest.raises(PeriodError):
        services.stats.period(date(2020, 1, 1), date(2026, 1, 1))


async def test_the_counts_follow_replies_and_erasures(
    office: tuple[Services, RecordingTransport],
) -> None:
    services, _ = office
    who = await services.staff.authorise(Actor(SAM, STAFF_CHAT), "stats")
    overdue = SEEDED[2].reference  # received 10 November, never answered
    await services.staff.reply(who, overdue, "Sorry for the wait.")  # answered late now
    stats = await services.stats.statistics(who, PERIOD)
    promises = stats.promises
    assert (promises.in_time, promises.late, promises.overdue, promises.not_due) == (2, 2, 0, 1)
    await services.staff.erase(who, SEEDED[0].reference)
    stats = await services.stats.statistics(who, PERIOD)
    assert stats.received.table.rows[0] == ("2026-11-02", (0.0, 1.0))
    assert stats.promises.in_time == 1
    assert stats.first_reply.count == 3  # 2, 3 (just now) and 4
