"""Settings come from the environment, and a bad one stops start-up with one plain line."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError
from support.intake import OFFICE_ENV

from bot.loading import FLOWS_DIR
from bot.settings import Settings, describe_errors, load_settings, settings_from

# A Bot API that nothing listens on: should start-up ever get as far as a request, it fails here.
DEAD_API = "http://127.0.0.1:9/bot"


def office_environment() -> dict[str, str]:
    """Return a valid office's settings as environment variables."""
    environment = {}
    for key, value in OFFICE_ENV.items():
        assert isinstance(value, str | int | Path), f"{key} cannot be written as a variable"
        environment[key.upper()] = str(value)
    return environment


@pytest.fixture
def environ(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """Set a valid office's environment, with no other setting leaking in from outside."""
    fields = set(Settings.model_fields)
    for name in list(os.environ):
        if name.lower() in fields:
            monkeypatch.delenv(name)
    environment = {**office_environment(), "DATABASE_PATH": str(tmp_path / "db.sqlite3")}
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    return environment


def errors_for(**environment: str | None) -> list[str]:
    """Return describe_errors' lines for the settings read with these variables changed."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environment.items():
            if value is None:
                patch.delenv(name, raising=False)
            else:
                patch.setenv(name, value)
        with pytest.raises(ValidationError) as caught:
            Settings(_env_file=None)
    return describe_errors(caught.value)


def test_settings_are_read_from_the_environment(
    environ: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RESPONSE_DAYS", "5")
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("REFERENCE_PREFIX", "SOT")
    settings = Settings(_env_file=None)
    assert settings.telegram_bot_token.get_secret_value() == environ["TELEGRAM_BOT_TOKEN"]
    assert settings.constituency_code == environ["CONSTITUENCY_CODE"]
    assert settings.mp_name == environ["MP_NAME"]
    assert settings.database_path == tmp_path / "db.sqlite3"
    assert (settings.response_days, settings.log_level, settings.reference_prefix) == (
        5,
        "DEBUG",
        "SOT",
    )
    assert settings.telegram_api_base_url is None
    assert settings.flows_dir == FLOWS_DIR


def test_the_token_is_not_shown_when_settings_are_printed(environ: dict[str, str]) -> None:
    settings = Settings(_env_file=None)
    token = environ["TELEGRAM_BOT_TOKEN"]
    assert token not in repr(settings)
    assert token not in str(settings.model_dump())


def test_a_dotenv_file_is_read_and_the_environment_wins(
    environ: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("OFFICE_PHONE")
    (tmp_path / ".env").write_text("OFFICE_PHONE=01782 999 999\nMP_NAME=From File\n", "utf-8")
    settings = Settings(_env_file=tmp_path / ".env")
    assert settings.office_phone == "01782 999 999"
    assert settings.mp_name == environ["MP_NAME"]


@pytest.mark.usefixtures("environ")
def test_a_missing_token_is_one_plain_line() -> None:
    assert errors_for(TELEGRAM_BOT_TOKEN=None) == [
        "Setting TELEGRAM_BOT_TOKEN is missing: expected the token from @BotFather,"
        " like 123456789:AAE...."
    ]


@pytest.mark.usefixtures("environ")
@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TELEGRAM_BOT_TOKEN", "not-a-token"),
        ("TELEGRAM_BOT_TOKEN", "123456:"),
        ("CONSTITUENCY_CODE", "E1400152"),
        ("CONSTITUENCY_CODE", "e14001520"),
        ("CONSTITUENCY_CODE", "Stoke-on-Trent Central"),
        ("TELEGRAM_API_BASE_URL", "127.0.0.1:8081/bot"),
        ("REFERENCE_PREFIX", "mp"),
        ("LOG_LEVEL", "TRACE"),
        ("RESPONSE_DAYS", "ten"),
        ("RETENTION_YEARS", "0"),
        ("MP_NAME", "J"),
        ("DESK_ENABLED", "perhaps"),
        ("DESK_PORT", "80800"),
        ("DESK_PORT", "eighty"),
        ("DESK_HOST", "127.0.0.1 8080"),
        ("DESK_PUBLIC_URL", "desk.example.org"),
    ],
)
def test_a_malformed_setting_is_one_plain_line_naming_it(name: str, value: str) -> None:
    [line] = errors_for(**{name: value})
    assert line.startswith(f"Setting {name} is not valid: expected ")
    assert line.endswith(".")
    assert "\n" not in line
    if name == "TELEGRAM_BOT_TOKEN":
        assert value not in line  # a mistyped token is still a secret
    assert "pydantic" not in line


@pytest.mark.usefixtures("environ")
def test_a_malformed_constituency_code_says_what_is_expected() -> None:
    assert errors_for(CONSTITUENCY_CODE="E1400152") == [
        "Setting CONSTITUENCY_CODE is not valid: expected a 2024 constituency GSS code,"
        " like E14001520."
    ]


@pytest.mark.usefixtures("environ")
def test_each_problem_gets_its_own_line() -> None:
    lines = errors_for(TELEGRAM_BOT_TOKEN=None, CONSTITUENCY_CODE="x", LOG_LEVEL="loud")
    assert [line.split(" ")[1] for line in lines] == [
        "TELEGRAM_BOT_TOKEN",
        "CONSTITUENCY_CODE",
        "LOG_LEVEL",
    ]


@pytest.mark.parametrize(
    ("base_url", "file_url"),
    [
        (None, None),
        ("http://127.0.0.1:8081/bot", "http://127.0.0.1:8081/file/bot"),
        ("http://127.0.0.1:8081/bot/", "http://127.0.0.1:8081/file/bot"),
        ("https://api.telegram.org/bot", "https://api.telegram.org/file/bot"),
        ("https://example.org/telegram/bot", "https://example.org/telegram/file/bot"),
    ],
)
def test_the_file_url_is_derived_from_the_api_url(
    environ: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    base_url: str | None,
    file_url: str | None,
) -> None:
    if base_url is not None:
        monkeypatch.setenv("TELEGRAM_API_BASE_URL", base_url)
    assert Settings(_env_file=None).file_base_url == file_url


@pytest.mark.parametrize(
    ("value", "keywords"),
    [
        ("eviction", ("eviction",)),
        ("eviction, bailiff ,,homeless", ("eviction", "bailiff", "homeless")),
        ("removal directions,domestic abuse", ("removal directions", "domestic abuse")),
        ("", ()),
    ],
)
def test_urgent_keywords_are_split_on_commas(
    environ: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    value: str,
    keywords: tuple[str, ...],
) -> None:
    monkeypatch.setenv("URGENT_KEYWORDS", value)
    assert Settings(_env_file=None).urgent_keywords == keywords


@pytest.mark.usefixtures("environ")
def test_urgent_keywords_have_a_default() -> None:
    assert {"eviction", "deportation", "homeless"} <= set(Settings(_env_file=None).urgent_keywords)


# --- start-up, as a separate process ---------------------------------------------------


def run_bot(cwd: Path, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``python -m bot`` with only the given environment, and return how it ended."""
    minimal = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(cwd)}
    return subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=cwd,
        env={**minimal, "TELEGRAM_API_BASE_URL": DEAD_API, **environment},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_start_up_without_settings_stops_with_one_line_per_problem(tmp_path: Path) -> None:
    done = run_bot(tmp_path, {})
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stdout == ""
    required = [name for name, field in Settings.model_fields.items() if field.is_required()]
    lines = done.stderr.splitlines()
    assert all(re.fullmatch(r"Setting [A-Z_]+ is missing: expected .+\.", line) for line in lines)
    assert sorted(line.split(" ")[1] for line in lines) == sorted(n.upper() for n in required)
    assert "TELEGRAM_BOT_TOKEN" in {line.split(" ")[1] for line in lines}
    assert list(tmp_path.iterdir()) == []  # no database, no folder


def test_start_up_with_an_unknown_constituency_stops_with_one_line(tmp_path: Path) -> None:
    environment = {
        **office_environment(),
        "CONSTITUENCY_CODE": "E14009999",
        "DATABASE_PATH": str(tmp_path / "data" / "casework.sqlite3"),
    }
    done = run_bot(tmp_path, environment)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [
        "Setting CONSTITUENCY_CODE is not valid: E14009999 is not a 2024 Westminster"
        " constituency code."
    ]
    assert not (tmp_path / "data").exists()


def test_start_up_with_a_broken_flow_stops_naming_the_fault(tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    shutil.copytree(FLOWS_DIR, flows)
    data = yaml.safe_load((flows / "intake.yaml").read_text("utf-8"))
    next(step for step in data["steps"] if step["id"] == "full_name")["validator"] = "fullname"
    (flows / "intake.yaml").write_text(yaml.safe_dump(data, sort_keys=False), "utf-8")
    environment = {
        **office_environment(),
        "FLOWS_DIR": str(flows),
        "DATABASE_PATH": str(tmp_path / "data" / "casework.sqlite3"),
    }
    done = run_bot(tmp_path, environment)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [
        "intake.yaml: flow 'intake', step 'full_name': unknown validator 'fullname'"
    ]


def _rename_category(steps: list[dict[str, Any]]) -> None:
    for found in steps:
        if found["id"] == "category":
            found["id"] = "topic"
        if found.get("when", {}).get("step") == "category":
            found["when"]["step"] = "topic"


def _remove_consent(steps: list[dict[str, Any]]) -> None:
    steps[:] = [found for found in steps if found["id"] != "consent"]


@pytest.mark.parametrize(
    ("breaks", "line"),
    [
        (
            _rename_category,
            "intake.yaml: flow 'intake': the code needs a choice step 'category'"
            " (cases are routed and queued by it); none is in the flow",
        ),
        (
            _remove_consent,
            "intake.yaml: flow 'intake': the code needs a consent step 'consent'"
            " (every case records the person's consent from it); none is in the flow",
        ),
    ],
    ids=["category-renamed", "consent-removed"],
)
def test_start_up_without_a_step_the_code_needs_stops_with_one_line(
    tmp_path: Path, breaks: Callable[[list[dict[str, Any]]], None], line: str
) -> None:
    flows = tmp_path / "flows"
    shutil.copytree(FLOWS_DIR, flows)
    data = yaml.safe_load((flows / "intake.yaml").read_text("utf-8"))
    breaks(data["steps"])
    (flows / "intake.yaml").write_text(yaml.safe_dump(data, sort_keys=False), "utf-8")
    environment = {
        **office_environment(),
        "FLOWS_DIR": str(flows),
        "DATABASE_PATH": str(tmp_path / "data" / "casework.sqlite3"),
    }
    done = run_bot(tmp_path, environment)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stdout == ""
    assert done.stderr.splitlines() == [line]
    assert not (tmp_path / "data").exists()


# --- blank values, webhooks, settings built in code ------------------------------------


@pytest.mark.usefixtures("environ")
def test_a_blank_optional_setting_means_it_is_not_set(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TELEGRAM_API_BASE_URL", "WEBHOOK_URL", "WEBHOOK_SECRET"):
        monkeypatch.setenv(name, "")
    settings = Settings(_env_file=None)
    assert (settings.telegram_api_base_url, settings.webhook_url) == (None, None)
    assert settings.webhook_secret is None


@pytest.mark.usefixtures("environ")
@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("https://bot.example.org/telegram/updates", "/telegram/updates"),
        ("https://bot.example.org", "/"),
        ("https://bot.example.org:8443/", "/"),
    ],
)
def test_the_webhook_is_served_at_its_urls_path(
    monkeypatch: pytest.MonkeyPatch, url: str, path: str
) -> None:
    monkeypatch.setenv("WEBHOOK_URL", url)
    monkeypatch.setenv("WEBHOOK_SECRET", "s3cret_-token")
    assert Settings(_env_file=None).webhook_path == path


@pytest.mark.usefixtures("environ")
def test_a_webhook_secret_is_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBHOOK_URL", "https://bot.example.org/hook")
    monkeypatch.setenv("WEBHOOK_SECRET", "the-real-secret")
    settings = Settings(_env_file=None)
    assert "the-real-secret" not in repr(settings)
    [line] = errors_for(WEBHOOK_SECRET="the real secret")
    assert "the real secret" not in line


def test_settings_built_in_code_read_no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOOD_MESSAGES", "7")
    monkeypatch.setenv("MP_NAME", "From The Environment")
    built = settings_from({**OFFICE_ENV, "database_path": Path("x.sqlite3")})
    assert (built.flood_messages, built.mp_name) == (1000, "Jo Example")


def test_relative_paths_are_taken_from_the_settings_files_folder(
    environ: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("DATABASE_PATH")
    office = tmp_path / "office"
    office.mkdir()
    (office / ".env").write_text("DATABASE_PATH=data/db.sqlite3\nFLOWS_DIR=my-flows\n", "utf-8")
    settings = load_settings(office / ".env")
    assert settings.database_path == office.resolve() / "data" / "db.sqlite3"
    assert settings.flows_dir == office.resolve() / "my-flows"


@pytest.mark.usefixtures("environ")
def test_the_desk_listens_on_loopback_by_default_and_links_use_its_address(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = Settings(_env_file=None)
    assert (settings.desk_enabled, settings.desk_host, settings.desk_port) == (
        True,
        "127.0.0.1",
        8080,
    )
    assert settings.desk_url == "http://127.0.0.1:8080"
    monkeypatch.setenv("DESK_PUBLIC_URL", "https://desk.example.org/")
    monkeypatch.setenv("DESK_PORT", "8090")
    assert Settings(_env_file=None).desk_url == "https://desk.example.org"
    monkeypatch.setenv("DESK_PUBLIC_URL", "")
    monkeypatch.setenv("DESK_HOST", "::1")
    assert Settings(_env_file=None).desk_url == "http://[::1]:8090"


@pytest.mark.usefixtures("environ")
def test_the_webhooks_server_serves_the_desk_on_the_same_port(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WEBHOOK_URL", "https://bot.example.org/hook")
    monkeypatch.setenv("WEBHOOK_SECRET", "s3cret")
    monkeypatch.setenv("WEBHOOK_LISTEN", "0.0.0.0")
    shared = Settings(_env_file=None)
    assert shared.desk_shares_webhook
    assert shared.desk_url == "http://0.0.0.0:8080"
    monkeypatch.setenv("DESK_PORT", "8081")
    assert not Settings(_env_file=None).desk_shares_webhook
    monkeypatch.setenv("DESK_PORT", "8080")
    monkeypatch.setenv("DESK_ENABLED", "false")
    assert not Settings(_env_file=None).desk_shares_webhook
