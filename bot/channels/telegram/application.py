"""Build the python-telegram-bot Application for one office: handlers, lifecycle, commands."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Coroutine
from dataclasses import replace
from datetime import datetime
from typing import Any

from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import InvalidToken, NetworkError, RetryAfter, TelegramError
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

from bot.channels.telegram import constituent, privacy, staff, staff_messages, team, workday
from bot.channels.telegram.context import CONTEXT_TYPES, BotData, Context, Runtime
from bot.channels.telegram.documents import TelegramDocuments
from bot.channels.telegram.inbox import DurableUpdates, replay
from bot.channels.telegram.ordering import ChatOrderedProcessor
from bot.channels.telegram.reach import Reachability, WatchedRequest, api_root
from bot.channels.telegram.render import Renderer, plain
from bot.channels.telegram.staff_group import runs_topics, set_staff_menus
from bot.channels.telegram.staff_render import StaffRenderer
from bot.channels.telegram.transport import TelegramTransport
from bot.channels.web.app import desk_app
from bot.channels.web.server import DeskServer
from bot.core.catalogue import Msg
from bot.core.display import LONDON
from bot.core.languages import ENGLISH, WELSH
from bot.core.staff import StaffDirectory
from bot.office import Office, random_reference_number, utc_now
from bot.settings import Settings
from bot.wiring import build_services, open_store, start_services

App = Application[ExtBot[None], Context, dict[Any, Any], dict[Any, Any], BotData, JobQueue[Context]]
Builder = ApplicationBuilder[Any, Any, Any, Any, Any, Any]
# HTML everywhere, and no link previews: a preview fetch would reveal what the bot sent.
DEFAULTS = Defaults(
    parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)
)
COMMANDS = ("start", "back", "cancel", "help", "privacy", "about")
# The command that switches language, as each language's menu names it (both always work).
LANGUAGE_COMMANDS = {WELSH: "iaith", ENGLISH: "language"}
STAFF_COMMANDS = (
    "followup",
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
    "templates",
)


def default_builder(settings: Settings) -> Builder:
    """Return a builder that talks to Telegram, or to the Bot API server the settings name."""
    builder = Application.builder().token(settings.telegram_bot_token.get_secret_value())
    if settings.telegram_api_base_url and settings.file_base_url:
        builder = builder.base_url(settings.telegram_api_base_url)
        builder = builder.base_file_url(settings.file_base_url)
    return builder


def live_builder(
    settings: Settings, reach: Reachability, *, webhook: bool = False
) -> tuple[Builder, DurableUpdates | None]:
    """Return a builder whose every request is watched, and (polling) the durable inbox."""
    read = settings.telegram_read_timeout
    builder = default_builder(settings).request(
        WatchedRequest(HTTPXRequest(connection_pool_size=256, read_timeout=read), reach)
    )
    if webhook:
        return builder.updater(None), None
    inbox = DurableUpdates(
        WatchedRequest(HTTPXRequest(connection_pool_size=1, read_timeout=read), reach)
    )
    return builder.get_updates_request(inbox), inbox


def build_application(
    office: Office,
    builder: Builder | None = None,
    *,
    clock: Callable[[], datetime] = utc_now,
    random_number: Callable[[], int] = random_reference_number,
    delivery_backoff: float = 2.0,
    inbox: DurableUpdates | None = None,
    desk_socket: socket.socket | None = None,
    desk_shared: bool = False,
) -> App:
    """Return the application, with the office's store, outbox and desk opened on start-up.

    With ``desk_socket`` (bound already), the staff desk is served on it in the same loop;
    with ``desk_shared``, the webhook's server serves it.
    """
    desk_url = office.settings.desk_url

    async def open_services(application: App) -> None:
        # Each case gets its own topic if the staff group is a forum the bot may manage.
        topics = await runs_topics(application.bot, office.staff.staff_chat_id)
        store = await open_store(office.settings.database_path)
        running = replace(office, staff=office.staff.with_topics(topics))
        found = build_services(
            running,
            store,
            clock,
            random_number,
            delivery_backoff=delivery_backoff,
            desk_url=desk_url,
        )
        await start_services(found)
        staff_renderer = StaffRenderer(office.catalogue, office.flow, found.staff.staff, clock)
        renderer = Renderer(office.catalogue, office.catalogues)
        application.bot_data.running = Runtime(found, renderer, staff_renderer)
        if inbox is not None:
            inbox.guard = found.guard
        forgotten = await found.guard.adopt_bot(application.bot.id)
        if forgotten:
            constituent.log.warning(
                "the database held %s update ids of another bot; they were forgotten", forgotten
            )
        await replay(found.guard, application.update_queue, application.bot)
        found.outbox.start(
            TelegramTransport(application.bot, staff_renderer, renderer.text, renderer.reply)
        )
        # The first sweep runs now, not one interval after start-up: a bot restarted more
        # often than SWEEP_MINUTES would otherwise never expire or delete anything.
        await privacy.sweep(found.privacy, found.guard)
        if application.job_queue is not None:
            interval = office.settings.sweep_minutes * 60
            application.job_queue.run_repeating(privacy.on_sweep, interval=interval, first=interval)
            digest_time = office.settings.digest_time
            if digest_time is not None:
                at = digest_time.replace(tzinfo=LONDON)
                application.job_queue.run_daily(workday.on_digest, at, name="digest")
        if desk_socket is not None or desk_shared:
            web = desk_app(
                found, TelegramDocuments(application.bot), secure=desk_url.startswith("https://")
            )
            application.bot_data.desk_app = web
            if desk_socket is not None:
                application.bot_data.desk = DeskServer(web, desk_socket)
                await application.bot_data.desk.start()
        await set_menus(application, office)
        await set_staff_menus(
            application.bot,
            office.catalogue,
            found.staff.staff,
            desk=desk_socket is not None or desk_shared,
        )

    async def close_services(application: App) -> None:
        application.bot_data.desk_app = None
        if application.bot_data.desk is not None:
            await application.bot_data.desk.stop()
            application.bot_data.desk = None
        running = application.bot_data.running
        if running is not None:
            await running.outbox.stop()
            await running.services.store.close()

    if builder is None:
        reach = Reachability(api_root(office.settings.telegram_api_base_url))
        builder, inbox = live_builder(office.settings, reach)
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


async def set_menus(application: App, office: Office) -> None:
    """Set the command menu in each language: Telegram shows the one of the person's app."""
    for language in office.languages:
        commands = [*COMMANDS, "status", "mydata", "delete", "withdraw"]
        if len(office.languages) > 1:
            commands.append(LANGUAGE_COMMANDS.get(language, "language"))
        texts = office.texts(language)
        menu = [BotCommand(n, texts.render(Msg(f"command.{n}"), plain)) for n in commands]
        code = None if language == ENGLISH else language
        try:
            await application.bot.set_my_commands(menu, language_code=code)
        except TelegramError as exc:  # the menu is a convenience: start without it
            constituent.log.warning("could not set the command menu: %s", type(exc).__name__)


def run(office: Office, desk_socket: socket.socket | None = None) -> int:
    """Poll Telegram (or serve the webhook) until stopped, retrying while it is unreachable.

    With ``desk_socket``, the staff desk is served on it too, in the same process and loop.
    """
    settings = office.settings
    reach = Reachability(api_root(settings.telegram_api_base_url))
    webhook = settings.webhook_url is not None
    builder, inbox = live_builder(settings, reach, webhook=webhook)
    application = build_application(
        office,
        builder,
        inbox=inbox,
        delivery_backoff=settings.outbox_retry_seconds,
        desk_socket=desk_socket,
        desk_shared=settings.desk_shares_webhook,
    )
    # A token revoked while running: stop, rather than run on answering no one.
    reach.on_refused = application.stop_running
    try:
        if webhook:
            _serve_webhook(application, settings)
        else:
            application.run_polling(
                allowed_updates=["message", "callback_query"],
                bootstrap_retries=-1,
                timeout=settings.telegram_poll_timeout,
            )
    except InvalidToken:
        reach.refused()
        return 2
    return 2 if reach.token_refused else 0


def _serve_webhook(application: App, settings: Settings) -> None:
    from bot.channels.telegram.webhook import serve_webhook

    assert settings.webhook_url is not None
    assert settings.webhook_secret is not None
    post_init, post_shutdown = application.post_init, application.post_shutdown
    assert post_init is not None
    assert post_shutdown is not None
    loop = asyncio.get_event_loop()
    try:
        loop.run_until_complete(
            serve_webhook(
                application,
                url=settings.webhook_url,
                path=settings.webhook_path,
                secret=settings.webhook_secret.get_secret_value(),
                listen=settings.webhook_listen,
                port=settings.webhook_port,
                post_init=post_init,
                post_shutdown=post_shutdown,
            )
        )
    finally:
        loop.close()


def add_handlers(application: App, staff_directory: StaffDirectory | None = None) -> None:
    """Register the handlers: the intake in private chats, and staff's commands and messages."""
    private = filters.ChatType.PRIVATE
    # A command in a new message: editing an old message into a command does nothing.
    new = filters.UpdateType.MESSAGE

    def command(
        names: str | tuple[str, ...],
        callback: Callable[[Update, Context], Coroutine[Any, Any, None]],
        only: filters.BaseFilter | None = None,
    ) -> CommandHandler[Context, None]:
        return CommandHandler(names, callback, new if only is None else new & only)

    application.add_handler(TypeHandler(Update, constituent.on_guard), group=-1)
    application.add_handler(TypeHandler(Update, constituent.on_processed), group=1)
    # Presses and plain messages first: nearly every update is one, and python-telegram-bot
    # tries each handler in turn. None of them takes a command (a command's message is
    # never a plain one), so the commands after them are not shadowed.
    application.add_handler(CallbackQueryHandler(privacy.on_delete_button, pattern=r"^p1:"))
    application.add_handler(CallbackQueryHandler(staff.on_staff_button, pattern=r"^s1:"))
    application.add_handler(CallbackQueryHandler(constituent.on_button))
    if staff_directory is not None:
        add_staff_message_handlers(application, staff_directory)
    application.add_handler(
        MessageHandler(
            private & filters.UpdateType.MESSAGE & ~filters.COMMAND, constituent.on_message
        )
    )
    application.add_handler(command("start", constituent.on_start, private))
    application.add_handler(command("back", constituent.on_back, private))
    application.add_handler(command("cancel", constituent.on_cancel, private))
    application.add_handler(command("help", staff.on_help))
    application.add_handler(command("privacy", constituent.on_privacy))
    application.add_handler(command("about", constituent.on_about))
    application.add_handler(command(("iaith", "language"), constituent.on_language, private))
    application.add_handler(command("start", constituent.on_group_message, ~private))
    application.add_handler(command("mydata", privacy.on_mydata, private))
    application.add_handler(command("delete", privacy.on_delete, private))
    application.add_handler(command("withdraw", privacy.on_withdraw, private))
    for name in STAFF_COMMANDS:
        application.add_handler(command(name, staff.on_staff_command))
    application.add_handler(command("desk", staff.on_desk))
    application.add_handler(command("status", staff.on_status))
    application.add_handler(command("staff", team.on_staff))
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
        # Polling trouble (Telegram unreachable, 5xx, 429): PTB retries on its own. An
        # unreachable Telegram or an unwritable store has said so once already.
        quiet = isinstance(error, NetworkError)
        log = constituent.log.debug if quiet else constituent.log.warning
        log("Telegram request failed: %s", type(error).__name__)
        return
    if isinstance(error, NetworkError | RetryAfter):
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
    try:
        language = await found.intake.language_of(chat.id)
    except Exception:  # the store may be what failed: apologise in the office language
        language = None
    text = found.renderer.text(Msg("error.internal", found.params), language)
    try:
        await context.bot.send_message(chat.id, text)
    except TelegramError as exc:
        constituent.log.warning(
            "update %s: apology not sent: %s", update.update_id, type(exc).__name__
        )
