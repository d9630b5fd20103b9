"""Working days: reply-by dates across weekends, bank holidays and year ends, by nation."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.core.workdays import WorkingDays, london_date, working_days

# (nation, received on, working days, reply by)
REPLY_BY = [
    # An ordinary week: Monday + 5 working days is the next Monday.
    ("E", date(2026, 11, 2), 5, date(2026, 11, 9)),
    ("E", date(2026, 11, 6), 1, date(2026, 11, 9)),  # Friday -> Monday
    ("E", date(2026, 11, 7), 1, date(2026, 11, 9)),  # a Saturday counts from Monday
    # Christmas 2026 falls on a Friday: Boxing Day (Saturday) is made up on Monday 28.
    ("E", date(2026, 12, 24), 1, date(2026, 12, 29)),
    ("E", date(2026, 12, 18), 10, date(2027, 1, 6)),
    # 2027: Christmas Day and Boxing Day on a weekend, both made up (27 and 28 December).
    ("E", date(2027, 12, 24), 1, date(2027, 12, 29)),
    ("W", date(2027, 12, 24), 1, date(2027, 12, 29)),
    # New Year's Day 2027 is a Friday; Scotland's 2 January (a Saturday) moves to Monday 4.
    ("E", date(2026, 12, 31), 1, date(2027, 1, 4)),
    ("S", date(2026, 12, 31), 1, date(2027, 1, 5)),
    # 2026: 2 January is a Friday, a holiday in Scotland only.
    ("E", date(2025, 12, 31), 1, date(2026, 1, 2)),
    ("S", date(2025, 12, 31), 1, date(2026, 1, 5)),
    # Easter 2027: Good Friday 26 March everywhere; Easter Monday 29 March not in Scotland.
    ("E", date(2027, 3, 25), 1, date(2027, 3, 30)),
    ("W", date(2027, 3, 25), 1, date(2027, 3, 30)),
    ("S", date(2027, 3, 25), 1, date(2027, 3, 29)),
    # St Andrew's Day: Monday 30 November 2026 in Scotland.
    ("S", date(2026, 11, 27), 1, date(2026, 12, 1)),
    ("E", date(2026, 11, 27), 1, date(2026, 11, 30)),
    # August: the first Monday in Scotland, the last one in England and Wales.
    ("S", date(2027, 7, 30), 1, date(2027, 8, 3)),
    ("E", date(2027, 7, 30), 1, date(2027, 8, 2)),
    ("E", date(2027, 8, 27), 1, date(2027, 8, 31)),
    ("S", date(2027, 8, 27), 1, date(2027, 8, 30)),
    # Zero days: the day itself.
    ("E", date(2026, 12, 25), 0, date(2026, 12, 25)),
]


@pytest.mark.parametrize(("nation", "received", "days", "expected"), REPLY_BY)
def test_add_counts_only_working_days(
    nation: str, received: date, days: int, expected: date
) -> None:
    assert working_days(nation).add(received, days) == expected


@pytest.mark.parametrize(
    ("nation", "day", "working"),
    [
        ("E", date(2026, 12, 25), False),
        ("E", date(2026, 12, 28), False),  # Boxing Day observed
        ("E", date(2026, 12, 29), True),
        ("S", date(2027, 1, 4), False),  # 2 January observed
        ("E", date(2027, 1, 4), True),
        ("S", date(2026, 11, 30), False),
        ("W", date(2026, 11, 30), True),
        ("E", date(2027, 3, 29), False),
        ("S", date(2027, 3, 29), True),
        ("E", date(2026, 11, 28), False),  # a Saturday
    ],
)
def test_is_working_day(nation: str, day: date, working: bool) -> None:
    assert working_days(nation).is_working_day(day) is working


def test_between_is_the_inverse_of_add() -> None:
    calendar = working_days("E")
    start = date(2026, 12, 18)
    for days in range(30):
        assert calendar.between(start, calendar.add(start, days)) == days


def test_reply_by_counts_from_the_london_date() -> None:
    calendar = working_days("E")
    # 23:30 on Friday 7 August 2026 in London is 22:30 UTC: the Friday is the day received.
    late_friday = datetime(2026, 8, 7, 22, 30, tzinfo=UTC)
    assert london_date(late_friday) == date(2026, 8, 7)
    assert calendar.reply_by(late_friday, 1) == date(2026, 8, 10)
    # 00:30 on Saturday 8 August in London (23:30 UTC on Friday) counts from the Saturday.
    just_after = datetime(2026, 8, 7, 23, 30, tzinfo=UTC)
    assert calendar.reply_by(just_after, 1) == date(2026, 8, 10)
    assert calendar.reply_by(just_after, 2) == date(2026, 8, 11)


def test_holidays_are_named() -> None:
    assert working_days("S").holiday_name(date(2026, 11, 30)) == "Saint Andrew's Day"
    assert working_days("E").holiday_name(date(2026, 11, 30)) is None


def test_an_unknown_nation_is_refused() -> None:
    with pytest.raises(ValueError, match="not a UK nation"):
        WorkingDays("X")
    with pytest.raises(ValueError, match="negative"):
        working_days("E").add(date(2026, 1, 1), -1)
