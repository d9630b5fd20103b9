"""Run the bot: settings, then logging, then the application, then long polling."""

from __future__ import annotations

import logging
import os
import sys

from pydantic import ValidationError

from bot.channels.telegram.application import run
from bot.core.flow import FlowError
from bot.office import SetupError, prepare
from bot.settings import Settings, describe_errors


def main() -> int:
    """Start the bot and poll Telegram until stopped; return the exit status."""
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    try:
        settings = Settings()
    except ValidationError as exc:
        for line in describe_errors(exc):
            print(line, file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # httpx logs every request URL, and the URL holds the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        office = prepare(settings)
    except (FlowError, SetupError) as exc:
        print(exc, file=sys.stderr)
        return 2
    logging.getLogger("bot").info(
        "starting for %s (%s)", office.constituency.name, office.constituency.code
    )
    return run(office)


if __name__ == "__main__":
    sys.exit(main())
