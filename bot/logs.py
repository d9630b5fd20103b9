"""Logging that never holds what constituents wrote, nor the bot's token, at any level."""

from __future__ import annotations

import logging
from collections.abc import Iterable

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Libraries whose debug output holds message bodies: aiosqlite logs every statement's
# parameters (names, phone numbers), python-telegram-bot every request's body, httpx every
# URL (which holds the token). They stay at these levels whatever LOG_LEVEL says.
FLOORS = {
    "aiosqlite": logging.INFO,
    "telegram": logging.INFO,
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "uvicorn.access": logging.WARNING,
}


class Redact(logging.Filter):
    """Replace secrets (the bot token) in a record's message and arguments."""

    def __init__(self, secrets: Iterable[str]) -> None:
        """Redact each of ``secrets`` wherever it appears."""
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep the record, with every secret in its text replaced."""
        message = record.getMessage()
        if any(secret in message for secret in self.secrets):
            for secret in self.secrets:
                message = message.replace(secret, "[redacted]")
            record.msg, record.args = message, None
        return True


def configure_logging(level: str, secrets: Iterable[str] = ()) -> None:
    """Log at ``level`` to stderr, with noisy libraries held back and secrets redacted."""
    logging.basicConfig(level=level, format=FORMAT)
    threshold = logging.getLevelName(level)
    numeric = threshold if isinstance(threshold, int) else logging.INFO
    for name, floor in FLOORS.items():
        logging.getLogger(name).setLevel(max(floor, numeric))
    redact = Redact(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redact)
