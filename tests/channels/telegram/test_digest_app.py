"""The daily digest through the real Application: a JobQueue job at DIGEST_TIME, London time."""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path

import pytest
from channels.telegram.test_staff_app import command, generous, send_case
from pydantic import ValidationError
from support.intake import PRIYA, SAM, STAFF_CHAT, Clock, Harness, make_settings, new_user

from bot.office import prepare
from bot.settings import describe_errors


def staff_group_texts(harness: Harness) -> list[str]:
    return [
        call.text
        for call in harness.request.calls()
        if call.ok and call.method == "sendMessage" and call.chat_id == STAFF_CHAT and call.text
    ]


async def test_the_digest_job_lists_due_and_overdue_cases_by_assignee(harness: Harness) -> None:
    generous(harness)
    harness.clock.now = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)  # Monday
    late = await send_case(harness, new_user("Ada", "Lovelace"))
    harness.clock.now = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
    today = await send_case(harness, new_user("Grace", "Hopper"))
    harness.clock.now = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
    later = await send_case(harness, new_user("Mary", "Somerville"))
    await command(harness, SAM, "/claim", late)
    await command(harness, PRIYA, "/claim", today)
    # 8 December, 09:00 London: the first case's promise (7 December) has passed, the
    # second's falls due today, the third's tomorrow.
    harness.clock.now = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
    jobs = harness.app.job_queue.get_jobs_by_name("digest") if harness.app.job_queue else ()
    assert len(jobs) == 1
    before = len(staff_group_texts(harness))
    await jobs[0].run(harness.app)
    await harness.settle()
    sent = staff_group_texts(harness)[before:]
    assert len(sent) == 1
    assert sent[0].splitlines() == [
        "<b>Today, 8 December 2026</b>: 1 due, 1 overdue",
        "<b>Sam</b>",
        f"· ⏰ {late} · Housing · due 7 December 2026 (reply)",
        "<b>Priya</b>",
        f"· {today} · Housing · due today (reply)",
    ]
    assert later not in sent[0]
    # Run again the same day (a restart, a second trigger): nothing more is posted.
    await jobs[0].run(harness.app)
    await harness.settle()
    assert staff_group_texts(harness)[before:] == sent


async def test_the_digest_is_scheduled_at_the_time_set_in_london(
    tmp_path: Path, clock: Clock
) -> None:
    office = prepare(make_settings(tmp_path / "db.sqlite3", digest_time="08:15"))
    async with Harness.running(office, clock) as harness:
        assert harness.app.job_queue is not None
        (job,) = harness.app.job_queue.get_jobs_by_name("digest")
        trigger = job.job.trigger
        assert str(trigger.timezone) == "Europe/London"
        assert (str(trigger.fields[5]), str(trigger.fields[6])) == ("8", "15")


async def test_an_empty_digest_time_turns_it_off(tmp_path: Path, clock: Clock) -> None:
    office = prepare(make_settings(tmp_path / "db.sqlite3", digest_time=""))
    assert office.settings.digest_time is None
    async with Harness.running(office, clock) as harness:
        assert harness.app.job_queue is not None
        assert harness.app.job_queue.get_jobs_by_name("digest") == ()


def test_a_bad_digest_time_is_one_plain_line(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as caught:
        make_settings(tmp_path / "db.sqlite3", digest_time="9am")
    assert describe_errors(caught.value) == [
        "Setting DIGEST_TIME is not valid: expected a time of day in London as HH:MM, like"
        " 09:00, or nothing to turn it off."
    ]
    assert make_settings(tmp_path / "db.sqlite3", digest_time="7:05").digest_time == time(7, 5)
