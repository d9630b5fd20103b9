"""The statistics page at scale: ``python -m bench.stats [--cases N] [--repeats N]``.

Stores N cases (default 100,000) spread over two years, a third of them replied to and most
of those closed, with plain sqlite3 into a database made by the bot's own migrations, then
times ``StatsService.statistics`` (every query of the page, its charts and its audit line)
for three periods. Offline: no network at all. Target: p99 < 200 ms for each period.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.measure import percentile
from bench.ours import create_schema, settings_for
from bench.staff import CASE_COLUMNS, case_row
from bot.core.case import Case, CaseStatus, Consent, Urgency
from bot.core.references import make_reference
from bot.core.workdays import london_date, working_days
from bot.office import prepare
from bot.service.staff import Caseworker
from bot.service.stats import Period
from bot.storage.sqlite.cases import _kept, _minutes
from bot.wiring import build_services, open_store, start_services

CATEGORIES = ("benefits", "immigration", "housing", "health", "council", "tax", "schools")
STAFF = (9001, 9002, 9003, 9004)
TODAY = date(2026, 12, 1)
TARGET = 0.200


def _case(number: int, count: int) -> Case:
    """Return case ``number`` of ``count``, received evenly over the two years before TODAY."""
    span = timedelta(days=730).total_seconds()
    start = datetime(TODAY.year - 2, TODAY.month, TODAY.day, 8, tzinfo=UTC)
    created = start + timedelta(seconds=span * number / count)
    replied = created + timedelta(hours=6 + number % 400) if number % 3 else None
    closed = replied + timedelta(days=3 + number % 40) if replied and number % 4 else None
    status = CaseStatus.CLOSED if closed else (CaseStatus.OPEN, CaseStatus.WAITING)[number % 2]
    return Case(
        reference=make_reference("SOT", number * 7919 % 30**6),
        user_id=30_000_000 + number,
        chat_id=30_000_000 + number,
        created_at=created,
        updated_at=closed or replied or created,
        status=status if replied else CaseStatus.NEW,
        flow_id="intake",
        flow_version=1,
        category=CATEGORIES[number % len(CATEGORIES)],
        constituency_code="E14001520",
        constituency_name="Stoke-on-Trent Central",
        answers={"full_name": f"Person {number}", "postcode": "ST4 1HH"},
        consent=Consent(version="v1", answer="yes", recorded_at=created),
        urgency=Urgency(urgent=number % 20 == 0),
        assignee=STAFF[number % len(STAFF)] if number % 5 else None,
        reply_by=working_days("E").reply_by(created, 10),
        first_reply_at=replied,
        closed_at=closed,
    )


def populate(database_path: Path, count: int) -> None:
    """Store ``count`` cases and two years of intake counts, with plain sqlite3."""

    def rows() -> Iterator[tuple[Any, ...]]:
        for number in range(count):
            case = _case(number, count)
            due = case.due_on
            yield (
                *case_row(case),
                london_date(case.created_at).isoformat(),
                case.reply_by.isoformat() if case.reply_by else None,
                due.isoformat() if due else None,
                case.first_reply_at.isoformat() if case.first_reply_at else None,
                london_date(case.first_reply_at).isoformat() if case.first_reply_at else None,
                case.closed_at.isoformat() if case.closed_at else None,
                _minutes(case.created_at, case.first_reply_at),
                _minutes(case.created_at, case.closed_at),
                _kept(case),
            )

    days = [(TODAY - timedelta(days=n)).isoformat() for n in range(730)]
    with closing(sqlite3.connect(database_path)) as db:
        db.executemany(
            f"INSERT INTO cases ({CASE_COLUMNS}, received_on, reply_by, due_on, first_reply_at,"
            " first_reply_on, closed_at, reply_minutes, close_minutes, reply_kept)"
            f" VALUES ({', '.join('?' * 21)})",
            rows(),
        )
        db.executemany(
            "INSERT INTO intake_counts (day, outcome, count) VALUES (?, ?, ?)",
            [(day, o, n) for day in days for o, n in (("started", 60), ("sent", 40))],
        )
        db.commit()


async def measure(folder: Path, count: int, repeats: int) -> list[tuple[str, float, float]]:
    """Return (period, p50, p99) seconds of the statistics for three periods."""
    path = folder / "stats.sqlite3"
    await create_schema(path)
    started = time.perf_counter()
    populate(path, count)
    print(f"{count:,} cases stored in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    office = prepare(settings_for(path))
    store = await open_store(path)
    try:
        services = build_services(office, store, lambda: datetime(2026, 12, 1, 12, tzinfo=UTC))
        await start_services(services)
        who = Caseworker(STAFF[0], STAFF[0], manager=True)
        periods = {
            "last 12 weeks": Period.last_weeks(TODAY),
            "last year": Period(TODAY - timedelta(days=364), TODAY),
            "two years": Period(TODAY - timedelta(days=729), TODAY),
        }
        results = []
        for name, period in periods.items():
            await services.stats.statistics(who, period)  # warm the page cache
            times = []
            for _ in range(repeats):
                begin = time.perf_counter()
                await services.stats.statistics(who, period)
                times.append(time.perf_counter() - begin)
            results.append((name, percentile(times, 50), percentile(times, 99)))
        return results
    finally:
        await store.close()


def main(argv: list[str] | None = None) -> int:
    """Run the statistics benchmark and print its table."""
    parser = argparse.ArgumentParser(prog="python -m bench.stats")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-stats-") as folder:
        results = asyncio.run(measure(Path(folder), args.cases, args.repeats))
    print(f"== Statistics page, {args.cases:,} cases over two years ({args.repeats} runs) ==")
    for name, p50, p99 in results:
        print(f"{name:<15} p50 {p50 * 1e3:7.2f} ms   p99 {p99 * 1e3:7.2f} ms")
    slowest = max(p99 for _, _, p99 in results)
    verdict = "PASS" if slowest < TARGET else "MISS"
    print(f"{verdict}  statistics p99 < 200 ms: {slowest * 1e3:.1f} ms (slowest period)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
