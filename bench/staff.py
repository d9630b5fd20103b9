"""The staff queue at scale: /queue and /export with 100,000 cases stored."""

from __future__ import annotations

import itertools
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from telegram import Update

from bench.driver import running
from bench.measure import percentile
from bench.offline import OfflineRequest, offline_builder
from bench.ours import LATER_ENV, create_schema, settings_for
from bot.channels.telegram.application import build_application
from bot.core.case import Case, CaseStatus, Consent, Urgency
from bot.core.references import make_reference
from bot.office import prepare

STAFF_ID = int(str(LATER_ENV["staff_user_ids"]).split(":")[0])
STAFF_CHAT = int(LATER_ENV["staff_chat_id"])
CATEGORIES = ("benefits", "immigration", "housing", "health", "council", "tax", "schools")
START = datetime(2024, 1, 1, tzinfo=UTC)


def _case(number: int) -> Case:
    created = START + timedelta(minutes=7 * number)
    return Case(
        reference=make_reference("SOT", number * 7919 % 30**6),
        user_id=20_000_000 + number,
        chat_id=20_000_000 + number,
        created_at=created,
        updated_at=created,
        flow_id="intake",
        flow_version=1,
        category=CATEGORIES[number % len(CATEGORIES)],
        constituency_code="E14001520",
        constituency_name="Stoke-on-Trent Central",
        answers={
            "full_name": f"Person {number} Example",
            "postcode": "ST4 1HH",
            "address": f"{number} Example Road, Stoke-on-Trent",
            "phone": "+447911123456",
            "email": f"person{number}@example.org",
            "organisation": "Stoke-on-Trent City Council",
            "what_happened": "The council has not repaired the damp in my flat since June.",
        },
        consent=Consent(version="2026-11-v1", answer="yes", recorded_at=created),
        urgency=Urgency(urgent=number % 20 == 0, reasons=("deadline",) if number % 20 == 0 else ()),
        assignee=STAFF_ID if number % 3 == 0 else None,
        summary="The council has not repaired the damp in my flat since June.",
    )


# The columns of ``cases`` every bench fills, in the order ``case_row`` gives them.
CASE_COLUMNS = (
    "reference, user_id, chat_id, status, category, urgent, created_at, updated_at, data,"
    " assignee, is_open, summary"
)


def case_row(case: Case) -> tuple[Any, ...]:
    """Return a case's values for ``CASE_COLUMNS``."""
    return (
        case.reference,
        case.user_id,
        case.chat_id,
        case.status.value,
        case.category,
        int(case.urgency.urgent),
        case.created_at.isoformat(),
        case.updated_at.isoformat(),
        case.model_dump_json(),
        case.assignee,
        int(case.is_open),
        case.summary,
    )


def populate_cases(database_path: Path, count: int) -> None:
    """Store ``count`` cases, a fifth of them closed, with plain sqlite3."""

    def rows() -> Iterator[tuple[Any, ...]]:
        for number in range(count):
            case = _case(number)
            status = CaseStatus.CLOSED if number % 5 == 0 else CaseStatus.NEW
            yield case_row(case.changed(case.updated_at, status=status))

    with closing(sqlite3.connect(database_path)) as db:
        db.executemany(
            f"INSERT INTO cases ({CASE_COLUMNS}) VALUES ({', '.join('?' * 12)})",
            rows(),
        )
        db.commit()


_ids = itertools.count(1)


def _command(bot: Any, text: str, *, private: bool = False) -> Update:
    """Return a staff command sent in the staff group (or in Sam's private chat)."""
    chat = (
        {"id": STAFF_ID, "type": "private", "first_name": "Sam"}
        if private
        else {"id": STAFF_CHAT, "type": "supergroup", "title": "Staff"}
    )
    message = {
        "message_id": next(_ids),
        "date": int(time.time()),
        "chat": chat,
        "from": {"id": STAFF_ID, "is_bot": False, "first_name": "Sam"},
        "text": text,
        "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}],
    }
    return Update.de_json({"update_id": next(_ids), "message": message}, bot)


async def queue_and_export(folder: Path, count: int, repeats: int) -> tuple[list[str], float]:
    """Time /queue (each filter) and /export csv|json through the Application.

    Returns the report lines and the slowest filter's p99 in seconds.
    """
    database_path = folder / "queue.sqlite3"
    await create_schema(database_path)
    started = time.perf_counter()
    populate_cases(database_path, count)
    lines = [f"{count:,} cases stored in {time.perf_counter() - started:.1f} s"]
    request = OfflineRequest()
    app = build_application(prepare(settings_for(database_path)), offline_builder(request))
    slowest = 0.0
    async with running(app):
        for text in (
            "/queue",
            "/queue urgent",
            "/queue mine",
            "/queue unassigned",
            "/queue housing",
        ):
            times = []
            for _ in range(repeats):
                update = _command(app.bot, text)
                begin = time.perf_counter()
                await app.process_update(update)
                times.append(time.perf_counter() - begin)
            slowest = max(slowest, percentile(times, 99))
            lines.append(
                f"{text:<20} p50 {percentile(times, 50) * 1e3:7.2f} ms"
                f"   p99 {percentile(times, 99) * 1e3:7.2f} ms   ({repeats} runs)"
            )
        for fmt in ("csv", "json"):
            update = _command(app.bot, f"/export {fmt}", private=True)
            before = request.uploaded
            begin = time.perf_counter()
            await app.process_update(update)
            took = time.perf_counter() - begin
            size = (request.uploaded - before) / 2**20
            lines.append(f"/export {fmt:<13} {took:7.2f} s for {count:,} cases ({size:.1f} MiB)")
        if request.failed:
            raise RuntimeError(f"refused Bot API calls: {request.failed}")
    return lines, slowest
