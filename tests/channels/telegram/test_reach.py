"""An operator reading the log at INFO learns when Telegram is unreachable, back, or refusing."""

from __future__ import annotations

import logging

import pytest

from bot.channels.telegram.reach import Reachability, api_root


class Ticks:
    """A clock moved by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def warnings_and_errors(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    """Return the (level, message) of each WARNING or ERROR logged."""
    return [(r.levelname, r.getMessage()) for r in caplog.records if r.levelno >= logging.WARNING]


def test_one_line_when_it_goes_and_one_when_it_is_back(caplog: pytest.LogCaptureFixture) -> None:
    ticks = Ticks()
    reach = Reachability("https://api.telegram.org", ticks)
    reach.answered(200)
    reach.failed("ConnectError")
    ticks.now += 42
    reach.failed("TimedOut")
    reach.answered(502)
    reach.answered(200)
    reach.answered(200)
    assert warnings_and_errors(caplog) == [
        (
            "WARNING",
            "Telegram cannot be reached at https://api.telegram.org (ConnectError); retrying"
            " until it can. Nothing is lost: messages wait in the outbox, updates wait at"
            " Telegram.",
        ),
        ("WARNING", "Telegram can be reached again at https://api.telegram.org, after 42 s."),
    ]


def test_a_refused_token_is_one_error_and_stops_the_bot(caplog: pytest.LogCaptureFixture) -> None:
    stopped: list[bool] = []
    reach = Reachability("https://api.telegram.org")
    reach.on_refused = lambda: stopped.append(True)
    reach.answered(401)
    reach.answered(401)
    assert reach.token_refused
    assert stopped == [True, True]
    [(level, message)] = warnings_and_errors(caplog)
    assert level == "ERROR"
    assert message.startswith("Telegram refuses the bot token (401 Unauthorized)")


@pytest.mark.parametrize(
    ("base_url", "root"),
    [
        (None, "https://api.telegram.org"),
        ("http://127.0.0.1:8081/bot", "http://127.0.0.1:8081"),
        ("https://example.org/telegram/bot", "https://example.org"),
    ],
)
def test_the_log_names_the_server_never_the_token_path(base_url: str | None, root: str) -> None:
    assert api_root(base_url) == root
