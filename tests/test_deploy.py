"""The deployment recipes in deploy/ call commands that exist, the way the README says."""

from __future__ import annotations

import configparser
import json
import re
import shlex
from pathlib import Path

import pytest

from bot.__main__ import parser

ROOT = Path(__file__).resolve().parents[1]
UNITS = ("casework-bot.service", "casework-bot-backup.service")


def unit(name: str) -> configparser.ConfigParser:
    """Read a systemd unit file."""
    found = configparser.ConfigParser(strict=False, interpolation=None)
    found.optionxform = str  # type: ignore[assignment,method-assign]
    found.read(ROOT / "deploy" / name, encoding="utf-8")
    return found


def casework_bot_args(line: str) -> list[str]:
    """Return the arguments given to casework-bot on an Exec line."""
    words = shlex.split(line)
    assert Path(words[0]).name == "casework-bot", line
    return words[1:]


@pytest.mark.parametrize("name", UNITS)
def test_the_units_run_commands_casework_bot_has(name: str) -> None:
    service = unit(name)["Service"]
    lines = [service[key] for key in ("ExecStartPre", "ExecStart") if key in service]
    for line in lines:
        parser().parse_args(casework_bot_args(line))  # exits the test on an unknown command
    assert service["User"] == "casework"
    assert service["UMask"] == "0077"
    assert "CASEWORK_ENV_FILE=/etc/casework-bot/casework.env" in service["Environment"]


def test_the_bot_unit_stops_with_sigterm_and_does_not_restart_on_a_fault() -> None:
    service = unit("casework-bot.service")["Service"]
    assert casework_bot_args(service["ExecStart"]) == ["run"]
    assert casework_bot_args(service["ExecStartPre"]) == ["check"]
    assert service["KillSignal"] == "SIGTERM"
    assert service["RestartPreventExitStatus"] == "2"


def test_the_backup_timer_runs_the_backup_unit() -> None:
    timer = unit("casework-bot-backup.timer")
    assert "OnCalendar" in timer["Timer"]
    backup = casework_bot_args(unit("casework-bot-backup.service")["Service"]["ExecStart"])
    assert backup[0] == "backup"


def test_the_dockerfile_runs_casework_bot_and_installs_what_it_needs() -> None:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text("utf-8")
    entry = json.loads(re.search(r"^ENTRYPOINT (.+)$", dockerfile, re.M).group(1))  # type: ignore[union-attr]
    command = json.loads(re.search(r"^CMD (.+)$", dockerfile, re.M).group(1))  # type: ignore[union-attr]
    assert entry == ["casework-bot"]
    parser().parse_args(command)
    copied = {
        source
        for line in re.findall(r"^COPY (.+)$", dockerfile, re.M)
        for source in line.split()[:-1]
    }
    assert {"pyproject.toml", "README.md", "bot", "flows"} <= copied
    assert re.search(r"^USER casework$", dockerfile, re.M)
    assert "STOPSIGNAL SIGTERM" in dockerfile
