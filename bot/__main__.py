"""Run the bot: settings, then logging, then the application, then long polling."""

from __future__ import annotations

import logging
import os
import sys

from pydantic import ValidationError

from bot.channels.telegram.application import run
from bot.core.flow import FlowError
from bot.logs import configure_logging
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
    configure_logging(settings.log_level, [settings.telegram_bot_token.get_secret_value()])
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
