"""Our bot: whole intakes through the real Application on a real SQLite file."""

from __future__ import annotations

import gc
import itertools
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.driver import TRANSCRIPT, App, Subject, running
from bench.measure import Run, peak_rss_mib, reset_peak_rss, rss_mib
from bench.offline import Call, OfflineRequest, offline_builder
from bot.channels.telegram.application import build_application
from bot.office import prepare
from bot.settings import Settings
from bot.storage.sqlite.database import SqliteStore

OFFICE_ENV: dict[str, Any] = {
    "telegram_bot_token": "123456:BENCH-offline",
    "constituency_code": "E14001520",  # Stoke-on-Trent Central; ST4 1HH is in it
    "mp_name": "Jo Example",
    "office_phone": "01782 232 000",
    "office_email": "office@example.org",
    "office_address": "1 Example Street, Stoke-on-Trent ST4 1AA",
    "reference_prefix": "SOT",
}
# Settings later versions added, given only where this version of Settings has them. The
# flood limit is raised so an intake's 21 updates in well under a second are not a flood,
# yet every update still goes through the check.
LATER_ENV: dict[str, Any] = {
    "staff_chat_id": -1001234567890,
    "staff_user_ids": "424242:Sam",
    "flood_messages": 1000,
}
CONFIRMATION = "Your enquiry has been sent"
# Other people's drafts (and their chats) get ids far from the measured people's ids.
OTHER_ID_BASE = 10_000_000
_NAMES = ("Grace Hopper", "Alan Turing", "Mary Somerville", "Tim Berners-Lee", "Ada Lovelace")


@dataclass(frozen=True, slots=True)
class Calibration:
    """What one real intake looks like: the stored draft after each answer, the bot's calls."""

    drafts: list[str]
    calls: list[list[Call]]


def settings_for(database_path: Path) -> Settings:
    """Return a Stoke-on-Trent Central office's settings, ignoring any .env file."""
    later = {k: v for k, v in LATER_ENV.items() if k in Settings.model_fields}
    return Settings(_env_file=None, **OFFICE_ENV, **later, database_path=database_path)


def _delivery(app: App) -> Any:
    """Return the running outbox delivery worker, in versions that have one."""
    data: Any = app.bot_data
    running = getattr(data, "running", None)
    if running is not None:
        return running.outbox
    return getattr(data.get("services") if isinstance(data, dict) else None, "delivery", None)


def lift_group_limit(app: App) -> bool:
    """Lift the delivery worker's 20-a-minute limit for the staff group, where there is one.

    The bench plays hours of intakes in seconds: with the limit, staff cards would pile up
    in the outbox instead of being delivered as each case is sent.
    """
    limit = getattr(_delivery(app), "group_limit", None)
    if limit is None or not hasattr(limit, "count"):
        return False
    limit.count = 10**9
    return True


async def drain(app: App) -> None:
    """Wait until the outbox is delivered, in versions that have one."""
    delivery = _delivery(app)
    if delivery is not None:
        await delivery.drain(seconds=30)


async def create_schema(database_path: Path) -> None:
    """Create the database with the bot's own migrations."""
    database = await SqliteStore.open(database_path)
    await database.close()


def populate_drafts(database_path: Path, count: int, templates: list[str]) -> int:
    """Store ``count`` other people's drafts, at every stage of the intake; return file bytes."""

    def rows() -> Iterator[tuple[int, int, str, str]]:
        stages = itertools.cycle(templates)
        names = itertools.cycle(_NAMES)
        touched = datetime.now(UTC).isoformat()
        for number in range(count):
            user_id = OTHER_ID_BASE + number
            state = next(stages).replace("Ada Lovelace", next(names))
            # Touched just now, as the calibration's drafts were: the retention sweep at
            # start-up leaves them alone instead of reminding every one of them.
            yield user_id, user_id, state, touched

    with closing(sqlite3.connect(database_path)) as db:
        db.executemany(
            "INSERT INTO drafts (user_id, chat_id, state, updated_at) VALUES (?, ?, ?, ?)", rows()
        )
        db.commit()
    return database_path.stat().st_size


def count_rows(database_path: Path, table: str) -> int:
    """Return how many rows ``table`` has."""
    with closing(sqlite3.connect(database_path)) as db:
        return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


async def calibrate(folder: Path) -> Calibration:
    """Run one intake; keep the stored draft after each answer and the calls of each update."""
    database_path = folder / "casework.sqlite3"
    request = OfflineRequest()
    app = build_application(prepare(settings_for(database_path)), offline_builder(request))
    subject = Subject(app, request, Run("calibration", 0))
    drafts: list[str] = []
    calls: list[list[Call]] = []

    async def snapshot(number: int) -> None:
        await drain(app)
        assert request.recording is not None
        calls.append(request.recording)
        request.recording = []
        with closing(sqlite3.connect(database_path)) as db:
            row = db.execute("SELECT state FROM drafts WHERE user_id = 1").fetchone()
        if row is not None:
            drafts.append(str(row[0]))

    async with running(app):
        lift_group_limit(app)
        request.recording = []
        await subject.intakes(1, timed=False, each=snapshot)
    sent = [call.text or "" for call in calls[-1]] if calls else []
    if subject.faults() or not any(CONFIRMATION in text for text in sent):
        raise RuntimeError(f"calibration intake failed: {subject.faults()} {calls[-1:]!r}")
    if len(drafts) != len(TRANSCRIPT) - 1:
        raise RuntimeError(f"calibration stored {len(drafts)} drafts, not {len(TRANSCRIPT) - 1}")
    return Calibration(drafts, calls)


@asynccontextmanager
async def ours(
    folder: Path,
    stored: int,
    calibration: Calibration,
    *,
    reset_peak: bool = False,
) -> AsyncIterator[Subject]:
    """Start the bot on a new database holding ``stored`` other drafts; check it on the way out.

    The folder must exist; the database is created there with the bot's own migrations.
    With ``reset_peak``, the peak RSS is reset once the drafts are stored, before start-up.
    """
    database_path = folder / "casework.sqlite3"
    await create_schema(database_path)
    started = time.perf_counter()
    size = populate_drafts(database_path, stored, calibration.drafts) / 2**20
    run = Run("ours", stored)
    run.notes.append(f"{stored:,} drafts stored in {time.perf_counter() - started:.1f} s")
    if reset_peak:
        gc.collect()
        run.rss_before = rss_mib()
        run.notes.append(f"RSS {run.rss_before:.0f} MiB before start-up")
        if not reset_peak_rss():
            run.notes.append("could not reset the peak: it is the process's")
    office = prepare(settings_for(database_path))
    request = OfflineRequest()
    app = build_application(office, offline_builder(request))
    expected = [len(step_calls) for step_calls in calibration.calls]

    async def settle() -> None:
        await drain(app)

    subject = Subject(app, request, run, expected_calls=expected, settle=settle)
    async with running(app):
        lift_group_limit(app)
        yield subject
        await drain(app)
        if reset_peak:
            run.peak_rss = peak_rss_mib()
    cases, drafts = count_rows(database_path, "cases"), count_rows(database_path, "drafts")
    size_after = database_path.stat().st_size / 2**20
    run.notes.append(f"DB {size:.0f} MiB before, {size_after:.0f} MiB after")
    faults = subject.faults()
    if cases != subject.completed:
        faults.append(f"{cases} cases stored for {subject.completed} intakes")
    if drafts != stored:
        faults.append(f"{drafts} drafts left, expected the {stored} others only")
    if faults:
        raise RuntimeError(f"ours at {stored:,}: {'; '.join(faults)}")
