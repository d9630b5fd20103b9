"""Logging for the bot's processes: one format, no personal data and never the bot token.

Libraries whose debug output holds message bodies are held back whatever LOG_LEVEL says:
aiosqlite logs every statement's parameters (names, phone numbers), python-telegram-bot every
request's body, httpx every URL (which holds the token).
"""

from __future__ import annotations

import logging

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
FLOORS = {
    "aiosqlite": logging.INFO,
    "telegram": logging.INFO,
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "uvicorn.access": logging.WARNING,
}


class Redacting(logging.Formatter):
    """A formatter that blanks out a secret wherever it would appear (a URL, a traceback)."""

    def __init__(self, fmt: str, secrets: tuple[str, ...]) -> None:
        """Format with ``fmt``, replacing each of ``secrets`` in the result."""
        super().__init__(fmt)
        self.secrets = tuple(s for s in secrets if s)

    def format(self, record: logging.LogRecord) -> str:
        """Return the record formatted, with every secret replaced."""
        text = super().format(record)
        for secret in self.secrets:
            text = text.replace(secret, "[token]")
        return text


def configure(level: str, secrets: tuple[str, ...] = ()) -> None:
    """Log to stderr at ``level``, with timestamps, noisy libraries held back, no ``secrets``."""
    handler = logging.StreamHandler()
    handler.setFormatter(Redacting(FORMAT, secrets))
    # Like basicConfig: a process that already logs somewhere (a test run) keeps its handlers.
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(handler)
        root.setLevel(level)
    threshold = logging.getLevelName(level)
    numeric = threshold if isinstance(threshold, int) else logging.INFO
    for name, floor in FLOORS.items():
        logging.getLogger(name).setLevel(max(floor, numeric))
    # PTB logs its own retries with tracebacks (one holds the token); the bot's reach module
    # says the same in one line.
    ptb = logging.getLogger("telegram.ext")
    if not any(isinstance(f, QuietRetries) for f in ptb.filters):
        ptb.addFilter(QuietRetries())


class QuietRetries(logging.Filter):
    """Drop python-telegram-bot's retry-loop records."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep every record but those of PTB's network retry loop."""
        return not record.getMessage().startswith("Network Retry Loop")
