"""Webhook mode: Telegram posts each update to a Starlette app that uvicorn serves.

The app runs in the same asyncio loop as the Application (python-telegram-bot's own
custom-webserver examples do the same). An update is answered 200 only once it is stored in the
inbox, exactly as polling stores each fetched batch before Telegram is told to forget it; on a
store that cannot be written the answer is 503 and Telegram posts it again later.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import signal
from collections.abc import Callable, Generator
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.types import Receive, Scope, Send
from telegram import Update
from telegram.error import InvalidToken, NetworkError

from bot.channels.telegram.context import BotData

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 -- a header name
ALLOWED_UPDATES = ["message", "callback_query"]
RETRY_EVERY = (1.0, 2.0, 5.0, 10.0, 30.0)


def webhook_app(application: Any, path: str, secret: str) -> Starlette:
    """Return the web app that takes Telegram's posts at ``path``, checking the secret header."""

    async def on_update(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            return PlainTextResponse("forbidden", status_code=403)
        try:
            data = await request.json()
        except ValueError:
            return PlainTextResponse("not JSON", status_code=400)
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            return PlainTextResponse("not an update", status_code=400)
        bot_data: BotData = application.bot_data
        if bot_data.running is None:
            return PlainTextResponse("starting", status_code=503)
        try:
            await bot_data.running.guard.keep([data])
        except Exception as exc:  # the store says why in its own WARNING; Telegram retries
            log.debug("update %s not stored: %s", data["update_id"], type(exc).__name__)
            return PlainTextResponse("cannot store it now", status_code=503)
        await application.update_queue.put(Update.de_json(data, application.bot))
        return Response(status_code=200)

    async def on_health(request: Request) -> Response:
        return PlainTextResponse("ok")

    async def desk(scope: Scope, receive: Receive, send: Send) -> None:
        # The staff desk, when it shares this server's port (opened once the office runs).
        bot_data: BotData = application.bot_data
        found = bot_data.desk_app or PlainTextResponse("not found", status_code=404)
        await found(scope, receive, send)

    return Starlette(
        routes=[
            Route(path, on_update, methods=["POST"]),
            Route("/healthz", on_health, methods=["GET"]),
            Mount("/", app=desk),
        ]
    )


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signals to the bot, which stops everything in order."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        """Install no signal handlers (uvicorn's would re-raise SIGTERM after serving)."""
        yield


async def serve_webhook(
    application: Any,
    *,
    url: str,
    path: str,
    secret: str,
    listen: str,
    port: int,
    post_init: Callable[[Any], Any],
    post_shutdown: Callable[[Any], Any],
) -> None:
    """Serve the webhook until SIGTERM or SIGINT, then stop in order; InvalidToken propagates."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    config = uvicorn.Config(
        webhook_app(application, path, secret),
        host=listen,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
    )
    server = _Server(config)
    initialized = opened = started = False
    serving: asyncio.Task[None] | None = None
    try:
        if not await _retry(application.initialize, stop):
            return
        initialized = True
        await post_init(application)
        opened = True
        await application.start()
        started = True
        serving = asyncio.create_task(server.serve(), name="webhook-server")
        while not server.started:
            if serving.done():
                serving.result()  # the port cannot be bound: say why
                return
            await asyncio.sleep(0.02)
        log.info("webhook server listening on %s:%s%s", listen, port, path)

        async def set_webhook() -> None:
            await application.bot.set_webhook(
                url, secret_token=secret, allowed_updates=ALLOWED_UPDATES
            )

        if await _retry(set_webhook, stop):
            await stop.wait()
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        if serving is not None:
            server.should_exit = True
            await asyncio.gather(serving, return_exceptions=True)
        if started:
            await application.stop()
        if opened:
            await post_shutdown(application)
        if initialized:
            await application.shutdown()


async def _retry(action: Callable[[], Any], stop: asyncio.Event) -> bool:
    """Run ``action`` until it works (True) or a stop signal arrives (False)."""
    attempt = 0
    while not stop.is_set():
        try:
            await action()
            return True
        except InvalidToken:
            raise
        except NetworkError as exc:  # unreachable, timed out, 5xx: the log already says so
            log.debug("webhook start-up: %s", type(exc).__name__)
        delay = RETRY_EVERY[min(attempt, len(RETRY_EVERY) - 1)]
        attempt += 1
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay):
                await stop.wait()
    return False
