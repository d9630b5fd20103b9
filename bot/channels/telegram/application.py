"""Build the python-telegram-bot Application for one office: handlers, lifecycle, commands."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    Defaults,
    ExtBot,
    JobQueue,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import HTTPXRequest

from bot.channels.telegram import constituent, privacy, staff, staff_messages
from bot.channels.telegram.context import CONTEXT_TYPES, BotData, Context, Runtime
from bot.channels.telegram.inbox import DurableUpdates, replay
from bot.channels.telegram.ordering import ChatOrderedProcessor
from bot.channels.telegram.render import Renderer, plain
from bot.channels.telegram.staff_group import runs_topics, set_staff_menus
from bot.channels.telegram.staff_render import StaffRenderer
from bot.channels.telegram.transport import TelegramTransport
from bot.core.catalogue import Msg
from bot.core.staff import StaffDirectory
from bot.office import Office, random_reference_number, utc_now
from bot.settings import Settings
from bot.wiring import build_services, open_store

App = Application[ExtBot[None], Context, dict[Any, Any], dict[Any, Any], BotData, JobQueue[Context]]
Builder = ApplicationBuilder[Any, Any, Any, Any, Any, Any]
# HTML everywhere, and no link previews: a preview fetch would reveal what the bot sent.
DEFAULTS = Defaults(
    parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)
)
COMMANDS = ("start", "back", "cancel", "help", "privacy", "about")
STAFF_COMMANDS = (
    "queue",
    "case",
    "claim",
    "assign",
    "note",
    "close",
    "reply",
    "export",
    "audit",
    "block",
    "unblock",
    "erase",
    "search",
)


def default_builder(settings: Settings) -> Builder:
    """Return a builder that talks to Telegram, or to the Bot API server the settings name."""
    builder = Application.builder().token(settings.telegram_bot_token.get_secret_value())
    if settings.telegram_api_base_url and settings.file_base_url:
        builder = builder.base_url(settings.telegram_api_base_url)
        builder = builder.base_file_url(settings.file_base_url)
    return builder


def build_application(
    office: Office,
    builder: Builder | None = None,
    *,
    clock: Callable[[], datetime] = utc_now,
    random_number: Callable[[], int] = random_reference_number,
    delivery_backoff: float = 2.0,
) -> App:
    """Return the application, with the office's store and outbox opened on start-up."""

    async def open_services(application: App) -> None:
        # Each case gets its own topic if the staff group is a forum the bot may manage.
        topics = await runs_topics(application.bot, office.staff.staff_chat_id)
        store = await open_store(office.settings.database_path)
        running = replace(office, staff=office.staff.with_topics(topics))
        found = build_services(
            running, store, clock, random_number, delivery_backoff=delivery_backoff
        )
        staff_renderer = StaffRenderer(office.catalogue, office.flow, running.staff, clock)
        renderer = Renderer(office.catalogue)
        application.bot_data.running = Runtime(found, renderer, staff_renderer)
        if inbox is not None:
            inbox.guard = found.guard
        forgotten = await found.guard.adopt_bot(application.bot.id)
        if forgotten:
            constituent.log.warning(
                "the database held %s update ids of another bot; they were forgotten", forgotten
            )
        await replay(found.guard, application.update_queue, application.bot)
        found.outbox.start(TelegramTransport(application.bot, staff_renderer, renderer.text))
        # The first sweep runs now, not one interval after start-up: a bot restarted more
        # often than SWEEP_MINUTES would otherwise never expire or delete anything.
        await privacy.sweep(found.privacy, found.guard)
        if application.job_queue is not None:
            interval = office.settings.sweep_minutes * 60
            application.job_queue.run_repeating(privacy.on_sweep, interval=interval, first=interval)
        commands = [*COMMANDS, "status", "mydata", "delete", "withdraw"]
        menu = [
            BotCommand(n, office.catalogue.render(Msg(f"command.{n}"), plain)) for n in commands
        ]
        try:
            await application.bot.set_my_commands(menu)
        except TelegramError as exc:  # the menu is a convenience: start without it
            constituent.log.warning("could not set the command menu: %s", type(exc).__name__)
        await set_staff_menus(application.bot, office.catalogue, office.staff)

    async def close_services(application: App) -> None:
        running = application.bot_data.running
        if running is not None:
            await running.outbox.stop()
            await running.services.store.close()

    inbox: DurableUpdates | None = None
    if builder is None:
        inbox = DurableUpdates(HTTPXRequest(connection_pool_size=1))
        builder = default_builder(office.settings).get_updates_request(inbox)
    application = (
        builder.context_types(CONTEXT_TYPES)
        .defaults(DEFAULTS)
        .concurrent_updates(ChatOrderedProcessor())
        .post_init(open_services)
        .post_shutdown(close_services)
        .build()
    )
    add_handlers(application, office.staff)
    return application


def run(office: Office) -> int:
    """Poll Telegram until stopped, retrying start-up while it is unreachable; return the status."""
    application = build_application(office)
    try:
        application.run_polling(allowed_updates=["message", "callback_query"], bootstrap_retries=-1)
    except InvalidToken:
        print("Setting TELEGRAM_BOT_TOKEN is not valid: Telegram refuses it.", file=sys.stderr)
        return 2
    return 0


def add_handlers(application: App, staff_directory: StaffDirectory | None = None) -> None:
    """Register the handlers: the intake in private chats, and staff's commands and messages."""
    private = filters.ChatType.PRIVATE
    application.add_handler(TypeHandler(Update, constituent.on_guard), group=-1)
    application.add_handler(TypeHandler(Update, constituent.on_processed), group=1)
    application.add_handler(CommandHandler("start", constituent.on_start, private))
    application.add_handler(CommandHandler("back", constituent.on_back, private))
    application.add_handler(CommandHandler("cancel", constituent.on_cancel, private))
    application.add_handler(CommandHandler("help", staff.on_help))
    application.add_handler(CommandHandler("privacy", constituent.on_privacy))
    application.add_handler(CommandHandler("about", constituent.on_about))
    application.add_handler(CommandHandler("start", constituent.on_group_message, ~private))
    application.add_handler(CommandHandler("mydata", privacy.on_mydata, private))
    application.add_handler(CommandHandler("delete", privacy.on_delete, private))
    application.add_handler(CommandHandler("withdraw", privacy.on_withdraw, private))
    application.add_handler(CallbackQueryHandler(privacy.on_delete_button, pattern=r"^p1:"))
    for command in STAFF_COMMANDS:
        application.add_handler(CommandHandler(command, staff.on_staff_command))
    application.add_handler(CommandHandler("status", staff.on_status))
    application.add_handler(CallbackQueryHandler(staff.on_staff_button, pattern=r"^s1:"))
    application.add_handler(CallbackQueryHandler(constituent.on_button))
    if staff_directory is not None:
        add_staff_message_handlers(application, staff_directory)
    application.add_handler(
        MessageHandler(
            private & filters.UpdateType.MESSAGE & ~filters.COMMAND, constituent.on_message
        )
    )
    application.add_error_handler(on_error)


def add_staff_message_handlers(application: App, directory: StaffDirectory) -> None:
    """Register caseworkers' plain messages: in the staff group, and replies in their chats."""
    members = filters.User(user_id=[m.user_id for m in directory.members])
    plain_message = filters.UpdateType.MESSAGE & ~filters.COMMAND & members
    application.add_handler(
        MessageHandler(
            filters.Chat(chat_id=directory.staff_chat_id) & plain_message,
            staff_messages.on_staff_message,
        )
    )
    application.add_handler(
        MessageHandler(
            filters.ChatType.PRIVATE & filters.REPLY & plain_message,
            staff_messages.on_private_reply,
        )
    )


async def on_error(update: object, context: Context) -> None:
    """Log a failure without personal data, and tell the person their answers are safe."""
    error = context.error
    if not isinstance(update, Update):
        # Polling trouble (Telegram unreachable, 5xx, 429): PTB retries on its own.
        constituent.log.warning("Telegram request failed: %s", type(error).__name__)
        return
    if isinstance(error, NetworkError):
        constituent.log.warning(
            "update %s: reply not sent: %s", update.update_id, type(error).__name__
        )
    else:
        constituent.log.error(
            "update %s failed: %s", update.update_id, type(error).__name__, exc_info=error
        )
    chat = update.effective_chat
    if chat is None or chat.type != "private":
        return
    found = context.bot_data.runtime
    text = found.renderer.text(Msg("error.internal", found.params))
    try:
        await context.bot.send_message(chat.id, text)
    except TelegramError as exc:
        constituent.log.warning(
            "update %s: apology not sent: %s", update.update_id, type(exc).__name__
        )
