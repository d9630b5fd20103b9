"""Say when Telegram cannot be reached, when it can again, and when it refuses the token.

PTB retries quietly (at DEBUG) while the Bot API is unreachable; an operator reading the log
at INFO would see nothing. Every request goes through ``WatchedRequest``, which logs one
WARNING when requests start failing, one when they succeed again, and an ERROR (never the
token itself) when Telegram answers 401 Unauthorized.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from telegram.error import NetworkError
from telegram.request import BaseRequest, RequestData

from bot.channels.telegram.wrapped import WrappedRequest

log = logging.getLogger(__name__)

TELEGRAM = "https://api.telegram.org"


def api_root(base_url: str | None) -> str:
    """Return where the Bot API is, as a log may show it: scheme, host and port only."""
    parts = urlsplit(base_url or TELEGRAM)
    return f"{parts.scheme}://{parts.netloc}"


class Reachability:
    """Whether the Bot API answers, told to the log only when that changes."""

    def __init__(self, root: str, clock: Callable[[], float] = time.monotonic) -> None:
        """Watch the Bot API at ``root`` (no token in it)."""
        self.root, self.clock = root, clock
        self.down_since: float | None = None
        self.token_refused = False
        self.on_refused: Callable[[], None] | None = None

    def failed(self, why: str) -> None:
        """Record a request that did not get an answer."""
        if self.down_since is None:
            self.down_since = self.clock()
            log.warning(
                "Telegram cannot be reached at %s (%s); retrying until it can. Nothing is lost:"
                " messages wait in the outbox, updates wait at Telegram.",
                self.root,
                why,
            )

    def answered(self, status: int) -> None:
        """Record a request that got an answer with HTTP ``status``."""
        if status == 401:
            self.refused()
            return
        if status >= 500:
            self.failed(f"HTTP {status}")
            return
        if self.down_since is not None:
            seconds = self.clock() - self.down_since
            self.down_since = None
            log.warning("Telegram can be reached again at %s, after %.0f s.", self.root, seconds)

    def refused(self) -> None:
        """Record that Telegram refuses the bot token."""
        if not self.token_refused:
            self.token_refused = True
            log.error(
                "Telegram refuses the bot token (401 Unauthorized): check TELEGRAM_BOT_TOKEN"
                " with @BotFather (the token is not shown here)."
            )
        if self.on_refused is not None:
            self.on_refused()


class WatchedRequest(WrappedRequest):
    """A request that tells a ``Reachability`` how each call went."""

    def __init__(self, inner: BaseRequest, reach: Reachability) -> None:
        """Wrap the request that talks to Telegram."""
        super().__init__(inner)
        self.reach = reach

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Make the request, noting whether Telegram answered."""
        try:
            status, body = await self.inner.do_request(
                url,
                method,
                request_data,
                read_timeout,
                write_timeout,
                connect_timeout,
                pool_timeout,
            )
        except NetworkError as exc:  # includes TimedOut: no answer at all
            self.reach.failed(type(exc).__name__)
            raise
        self.reach.answered(status)
        return status, body
