"""casework-bot's commands: check, backup, restore and migrate, and one line for each fault."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from bot.__main__ import main
from bot.loading import FLOWS_DIR
from bot.settings import ENV_FILE_VARIABLE, Settings
from bot.storage.lock import exclusive
from bot.storage.sqlite.database import migrations

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def office(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Return an office folder holding a copy of .env.example, as the README says to make."""
    for name in list(os.environ):
        if name.lower() in Settings.model_fields or name == ENV_FILE_VARIABLE:
            monkeypatch.delenv(name)
    folder = tmp_path / "office"
    folder.mkdir()
    shutil.copy(ROOT / ".env.example", folder / ".env")
    monkeypatch.chdir(tmp_path)  # not the office folder: the .env is found by its path
    return folder


def run(office: Path, *args: str) -> int:
    """Run one command against the office's .env."""
    return main(["--env-file", str(office / ".env"), *args])


def set_value(office: Path, name: str, value: str) -> None:
    """Change (or add) one setting in the office's .env."""
    lines = [
        line
        for line in (office / ".env").read_text("utf-8").splitlines()
        if not line.startswith(f"{name}=")
    ]
    (office / ".env").write_text("\n".join([*lines, f"{name}={value}"]) + "\n", "utf-8")


def values(**changes: str) -> Callable[[Path], None]:
    """Return a change of some settings in the office's .env."""

    def change(office: Path) -> None:
        for name, value in changes.items():
            set_value(office, name, value)

    return change


def one_line(capsys: pytest.CaptureFixture[str]) -> str:
    """Return the single line a failed command wrote to stderr (and check it is one line)."""
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err
    return lines[0]


def test_the_example_settings_pass_check_as_copied(
    office: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(office, "check") == 0
    out = capsys.readouterr().out
    assert out.startswith("OK: Stoke-on-Trent Central (E14001520); flow 'intake' v1")
    # DATABASE_PATH=data/... is taken from the .env's folder, not from the current one.
    assert f"database {office / 'data' / 'casework.sqlite3'} (not created yet)" in out
    assert not (office / "data").exists()  # check creates nothing


def test_the_settings_file_can_be_named_by_the_environment(
    office: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(ENV_FILE_VARIABLE, str(office / ".env"))
    assert main(["check"]) == 0
    assert str(office / "data" / "casework.sqlite3") in capsys.readouterr().out
    monkeypatch.setenv(ENV_FILE_VARIABLE, str(office / "missing.env"))
    assert main(["check"]) == 2
    assert one_line(capsys) == (
        f"Settings file {office / 'missing.env'} does not exist or is not a file."
    )


def not_utf8(office: Path) -> None:
    """Save one locale file in Latin-1, as an old editor might."""
    flows = office / "flows"
    shutil.copytree(FLOWS_DIR, flows)
    path = flows / "locales" / "en" / "bot.yaml"
    path.write_bytes(path.read_text("utf-8").replace("« Back", "Go back").encode("utf-8") + b"\xa3")
    set_value(office, "FLOWS_DIR", "flows")


def edited_text(key: str, value: str) -> Callable[[Path], None]:
    """Return a change to the office's own copy of the texts."""

    def change(office: Path) -> None:
        flows = office / "flows"
        shutil.copytree(FLOWS_DIR, flows)
        for path in (flows / "locales" / "en").glob("*.yaml"):
            data = yaml.safe_load(path.read_text("utf-8"))
            if key in data:
                data[key] = value
                path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
        set_value(office, "FLOWS_DIR", "flows")

    return change


def database_at(make: Callable[[Path], object]) -> Callable[[Path], None]:
    """Return a change that makes DATABASE_PATH something that is not the bot's database."""

    def change(office: Path) -> None:
        (office / "data").mkdir()
        make(office / "data" / "casework.sqlite3")

    return change


def photos_database(path: Path) -> None:
    """Make ``path`` some other program's SQLite file."""
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE photos (id INTEGER)")
    db.close()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (values(STAFF_CHAT_ID="123456789"), "Setting STAFF_CHAT_ID is not"),
        (
            values(DRAFT_REMINDER_HOURS="720", DRAFT_EXPIRY_DAYS="1"),
            "Setting DRAFT_REMINDER_HOURS is not valid: the reminder after 720 hours must come"
            " before the deletion after DRAFT_EXPIRY_DAYS=1 (24 hours).",
        ),
        (values(WEBHOOK_URL="https://bot.example.org/hook"), "Setting WEBHOOK_SECRET is missing"),
        (
            values(WEBHOOK_URL="http://bot.example.org/hook", WEBHOOK_SECRET="abc"),
            "Setting WEBHOOK_URL is not valid: expected an https:// URL",
        ),
        (values(WEBHOOK_SECRET="has spaces in it"), "Setting WEBHOOK_SECRET is not valid"),
        (lambda o: (o / ".env").write_bytes(b"MP_NAME=Jo \xe9\n"), "Settings file "),
        (not_utf8, "bot.yaml: is not UTF-8 text (byte "),
        (edited_text("help", "Ask {mp_nmae}"), "text 'help' has an unknown placeholder {mp_nmae}"),
        (edited_text("help", "<b>Help"), "text 'help': opens <b> and never closes it"),
        (edited_text("help", "<font>Help</font>"), "text 'help': uses <font>"),
        (edited_text("button.send", "Send " * 20), "text 'button.send' makes a button of 100"),
        (database_at(lambda p: p.mkdir()), "is a folder; expected a file in it"),
        (database_at(lambda p: p.write_text("hello " * 9)), "is not a SQLite database"),
        (database_at(photos_database), "is another program's SQLite database"),
    ],
    ids=[
        "staff-chat-is-a-person",
        "reminder-after-expiry",
        "webhook-without-secret",
        "webhook-plain-http",
        "bad-webhook-secret",
        "env-not-utf8",
        "flow-file-not-utf8",
        "unknown-placeholder",
        "unbalanced-html",
        "unsupported-html",
        "long-button",
        "database-is-a-folder",
        "database-not-sqlite",
        "database-of-another-program",
    ],
)
def test_each_fault_is_one_line_and_a_non_zero_exit(
    office: Path,
    capsys: pytest.CaptureFixture[str],
    change: Callable[[Path], None],
    expected: str,
) -> None:
    change(office)
    assert run(office, "check") == 2
    line = one_line(capsys)
    assert line.startswith(expected) or expected in line, line
    assert "replace-with-your-token" not in line


def test_a_staff_chat_id_that_is_a_person_says_so(
    office: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    set_value(office, "STAFF_CHAT_ID", "123456789")
    assert run(office, "check") == 2
    assert one_line(capsys) == (
        "Setting STAFF_CHAT_ID is not valid: expected the staff group's chat id, like"
        " -1001234567890 (123456789 is a person's id; group ids are negative)."
    )


def test_run_refuses_a_database_another_bot_holds(
    office: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = office / "data" / "casework.sqlite3"
    with exclusive(database):
        assert run(office, "run") == 2
    assert one_line(capsys).startswith(
        f"DATABASE_PATH {database} is in use by another casework-bot (process {os.getpid()})"
    )


def test_migrate_backup_and_restore(office: Path, capsys: pytest.CaptureFixture[str]) -> None:
    database = office / "data" / "casework.sqlite3"
    assert run(office, "migrate") == 0
    applied = ", ".join(str(number) for number, _, _ in migrations())
    assert capsys.readouterr().out == f"Database {database}: migrations applied: {applied}.\n"
    assert run(office, "migrate") == 0
    assert "none, it is up to date" in capsys.readouterr().out

    target = office / "backup.sqlite3"
    assert run(office, "backup", str(target)) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Backed up {database} to {target}: 0 cases, 0 unsent drafts")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert run(office, "backup", str(target)) == 2
    assert one_line(capsys) == f"Backup {target} exists already; give a new file name."

    assert run(office, "restore", str(target)) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Restored {target} to {database}: 0 cases; the database it replaced")
    with exclusive(database):
        assert run(office, "restore", str(target)) == 2
    assert "is in use by another casework-bot" in one_line(capsys)
