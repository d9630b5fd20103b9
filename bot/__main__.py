"""casework-bot (or python -m bot): run the bot, or demo, check, back up, restore or migrate it."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from bot import logs, operations
from bot.core.flow import FlowError
from bot.loading import FLOWS_DIR
from bot.office import Office, SetupError, prepare
from bot.settings import (
    ENV_FILE_VARIABLE,
    SettingsFileError,
    describe_errors,
    load_settings,
)
from bot.storage.lock import exclusive
from bot.storage.store import StoreError
from bot.wiring import build_services, open_store, start_services

log = logging.getLogger("bot")

COMMANDS = {
    "run": "run the bot (long polling, or a webhook server when WEBHOOK_URL is set); the default",
    "demo": "try the bot in this terminal: no token, no network, a built-in office",
    "check": "check the settings, flow, texts and database path, then exit (no network)",
    "backup": "copy the database to PATH (a new file, or a folder), safely while the bot runs",
    "restore": "replace the database with the backup PATH (stop the bot first)",
    "migrate": "bring the database's schema up to date, then exit",
    "translations": "export a language's texts to a .po file for translators, or import one",
}


def parser() -> argparse.ArgumentParser:
    """Return the command line's parser."""
    found = argparse.ArgumentParser(
        prog="casework-bot", description="Casework intake for a UK MP's constituency office."
    )
    found.add_argument(
        "--env-file",
        type=Path,
        help=f"the office's settings file (default: ${ENV_FILE_VARIABLE}, else .env here);"
        " relative paths in it are taken from its folder",
    )
    commands = found.add_subparsers(dest="command", metavar="command")
    for name, summary in COMMANDS.items():
        command = commands.add_parser(name, help=summary, description=summary)
        if name in ("backup", "restore"):
            command.add_argument("path", type=Path, metavar="PATH")
        if name == "translations":
            command.add_argument("action", choices=("export", "import"))
            command.add_argument("language", metavar="LANGUAGE", help="a code such as cy")
            command.add_argument("path", type=Path, metavar="FILE.po")
            command.add_argument(
                "--flows",
                type=Path,
                default=FLOWS_DIR,
                help="the flows folder whose locales/ to use (default: the shipped flows)",
            )
    return found


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command of the command line; return the exit status."""
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    args = parser().parse_args(argv)
    command = args.command or "run"
    if command == "demo":
        from bot.channels.console.demo import run_demo

        return run_demo()
    try:
        if command == "translations":
            return operations.translations(args.action, args.language, args.path, args.flows)
        return _run(command, args)
    except (SettingsFileError, FlowError, SetupError, StoreError) as exc:
        print(exc, file=sys.stderr)
        return 2
    except ValidationError as exc:
        for line in describe_errors(exc):
            print(line, file=sys.stderr)
        return 2


def _run(command: str, args: argparse.Namespace) -> int:
    settings = load_settings(args.env_file)
    logs.configure(settings.log_level, (settings.telegram_bot_token.get_secret_value(),))
    if command == "backup":
        return operations.backup(settings, args.path)
    if command == "restore":
        return operations.restore(settings, args.path)
    if command == "migrate":
        return operations.migrate(settings)
    office = prepare(settings)
    if command == "check":
        return operations.check(office)
    log.info("starting for %s (%s)", office.constituency.name, office.constituency.code)
    return run(office)


def run(office: Office) -> int:
    """Run the bot for ``office`` until stopped, holding its database for itself."""
    settings = office.settings
    path = settings.database_path
    with exclusive(path):
        # Open the store once before connecting anywhere: a database that cannot work
        # stops start-up with one line, before any update is fetched.
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        loop.run_until_complete(_try_store(office))
        desk = None
        if settings.desk_enabled and not settings.desk_shares_webhook:
            from bot.channels.web.server import DeskAddressError, bind_desk

            try:
                desk = bind_desk(settings.desk_host, settings.desk_port)
            except DeskAddressError as exc:
                print(exc, file=sys.stderr)
                return 2
        from bot.channels.telegram.application import run as run_telegram

        try:
            return run_telegram(office, desk)
        finally:
            if desk is not None:
                desk.close()


async def _try_store(office: Office) -> None:
    store = await open_store(office.settings.database_path)
    try:
        await start_services(build_services(office, store))
    finally:
        await store.close()


if __name__ == "__main__":
    sys.exit(main())
