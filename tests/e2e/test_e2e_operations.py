"""Operator mistakes and operations, with the bot as a process: each is one line, nothing lost."""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.botapi import BotApiServer, BotProcess
from support.e2e import play, query, reference_in
from support.intake import intake_to_review

pytestmark = pytest.mark.e2e


def command(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m bot ARGS`` with the bot's environment; return how it ended."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def a_case(api: BotApiServer, first_name: str) -> str:
    """Play a whole intake for a new person; return the case's reference."""
    person = api.user(first_name, "Example")
    await play(person, intake_to_review(f"{first_name} Example"))
    person.press("Send to the office")
    return reference_in(await person.wait_for_text("Your enquiry has been sent"))


async def test_a_second_bot_on_the_same_database_is_refused(
    api: BotApiServer, bot: BotProcess, bot_env: dict[str, str], tmp_path: Path, database: Path
) -> None:
    done = await asyncio.to_thread(command, bot_env, tmp_path, "run")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines[-1].startswith(f"DATABASE_PATH {database} is in use by another casework-bot")
    assert "Traceback" not in done.stderr
    assert bot.running


async def test_backup_while_running_then_restore(
    api: BotApiServer, bot: BotProcess, bot_env: dict[str, str], tmp_path: Path, database: Path
) -> None:
    first = await a_case(api, "Ada")
    target = tmp_path / "backup.sqlite3"
    done = await asyncio.to_thread(command, bot_env, tmp_path, "backup", str(target))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"Backed up {database} to {target}: 1 cases")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    await a_case(api, "Bo")  # after the backup: not in it
    assert await bot.stop() == 0
    done = await asyncio.to_thread(command, bot_env, tmp_path, "restore", str(target))
    assert done.returncode == 0, done.stderr
    assert query(database, "SELECT reference FROM cases") == [(first,)]
    assert query(database, "PRAGMA integrity_check") == [("ok",)]
    await bot.start()


async def test_a_database_deleted_while_running_is_there_after_a_restart(
    api: BotApiServer, bot: BotProcess, database: Path
) -> None:
    references = [await a_case(api, name) for name in ("Ada", "Bo")]
    await asyncio.to_thread(database.unlink)
    await a_case(api, "Cy")
    assert await bot.stop() == 0  # stopping writes the open database back
    assert "was deleted while the bot was running" in bot.stderr()
    await bot.start()
    stored = [row[0] for row in query(database, "SELECT reference FROM cases ORDER BY id")]
    assert stored[:2] == references
    assert len(stored) == 3


async def test_an_unreachable_telegram_is_said_at_info_and_sigterm_still_stops_it(
    api: BotApiServer, bot_env: dict[str, str], tmp_path: Path
) -> None:
    env = {**bot_env, "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9/bot", "LOG_LEVEL": "INFO"}
    process = BotProcess(api, tmp_path, env)
    try:
        process.launch()
        deadline = time.monotonic() + 20
        while "Telegram cannot be reached" not in process.stderr():
            assert time.monotonic() < deadline, process.logs()
            await asyncio.sleep(0.1)
        started = time.monotonic()
        assert await process.stop(timeout=10) == 0
        assert time.monotonic() - started < 5
    finally:
        process.close()
    [line] = [ln for ln in process.stderr().splitlines() if "cannot be reached" in ln]
    assert " WARNING " in line
    assert "http://127.0.0.1:9 " in line


async def test_a_refused_token_is_an_error_that_does_not_show_it(
    bot_env: dict[str, str], tmp_path: Path
) -> None:
    token = "123456789:AAE-not-the-right-one"
    # A server of its own: the shared fixture counts every 401 as a call it did not expect.
    async with BotApiServer() as server:
        env = {**bot_env, "TELEGRAM_API_BASE_URL": server.base_url, "TELEGRAM_BOT_TOKEN": token}
        process = BotProcess(server, tmp_path, env)
        try:
            process.launch()
            code = await process.wait_exit(timeout=30)
        finally:
            process.close()
    output = process.stdout() + process.stderr()
    assert code == 2, process.logs()
    assert token not in output
    assert token.split(":")[1] not in output
    errors = [line for line in output.splitlines() if " ERROR " in line]
    assert errors, output
    assert errors[0].endswith(
        "Telegram refuses the bot token (401 Unauthorized): check TELEGRAM_BOT_TOKEN with"
        " @BotFather (the token is not shown here)."
    )
    assert "Traceback" not in output


async def test_a_read_only_database_stops_start_up_with_one_line(
    api: BotApiServer, bot_env: dict[str, str], tmp_path: Path, database: Path
) -> None:
    done = await asyncio.to_thread(command, bot_env, tmp_path, "migrate")
    assert done.returncode == 0, done.stderr
    chattr = ["chattr", "+i", str(database)]
    locked = await asyncio.to_thread(subprocess.run, chattr, capture_output=True, check=False)
    if locked.returncode != 0:
        pytest.skip("chattr +i is not possible here")
    try:
        done = await asyncio.to_thread(command, bot_env, tmp_path, "run")
    finally:
        await asyncio.to_thread(subprocess.run, ["chattr", "-i", str(database)], check=False)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        f"DATABASE_PATH {database} is read-only; the bot must be able to write it."
    )
    assert "Traceback" not in done.stderr
    assert api.calls() == []  # it never got as far as Telegram


def full_disk_run(env: dict[str, str], tmp_path: Path, database: Path) -> str:
    """Run the bot with its database on a tmpfs that is full; return stderr (or skip)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    shutil.copy(database, disk / "casework.sqlite3")
    script = (
        f"mount -t tmpfs -o size=256k tmpfs {disk}"
        f" && cp {database} {disk}/casework.sqlite3"
        f" && (dd if=/dev/zero of={disk}/filler bs=4k 2>/dev/null; true)"
        f" && exec {sys.executable} -m bot run"
    )
    env = {**env, "DATABASE_PATH": str(disk / "casework.sqlite3")}
    try:
        done = subprocess.run(
            ["unshare", "-rm", "sh", "-c", script],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except FileNotFoundError:
        pytest.skip("no unshare here")
    if "mount" in done.stderr and "permission denied" in done.stderr.lower():
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    assert done.returncode == 2, done.stderr
    return done.stderr


async def test_a_full_disk_at_start_up_is_one_line(
    api: BotApiServer, bot_env: dict[str, str], tmp_path: Path, database: Path
) -> None:
    if os.geteuid() != 0 and shutil.which("unshare") is None:
        pytest.skip("needs unshare to mount a small disk")
    done = await asyncio.to_thread(command, bot_env, tmp_path, "migrate")
    assert done.returncode == 0, done.stderr
    stderr = await asyncio.to_thread(full_disk_run, bot_env, tmp_path, database)
    disk = tmp_path / "disk" / "casework.sqlite3"
    assert stderr.strip().splitlines()[-1] == (
        f"The disk holding DATABASE_PATH {disk} is full; free some space."
    )
    assert "Traceback" not in stderr
