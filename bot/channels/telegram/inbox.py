"""Keep every fetched update in SQLite before python-telegram-bot confirms it to Telegram.

The next getUpdates call tells Telegram to forget what the last one returned, and PTB makes
it while earlier updates may still wait in memory; a crash then would lose them. Wrapping the
getUpdates request, the bot stores each batch before PTB even sees it, and on start-up puts
back whatever was kept but never processed.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from telegram import Update
from telegram.request import BaseRequest, RequestData

from bot.channels.telegram.wrapped import WrappedRequest
from bot.service.guard import Guard

log = logging.getLogger(__name__)


class DurableUpdates(WrappedRequest):
    """A getUpdates request that stores each fetched batch before handing it to PTB."""

    def __init__(self, inner: BaseRequest) -> None:
        """Wrap the request that actually talks to Telegram."""
        super().__init__(inner)
        self.guard: Guard | None = None

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
        """Make the request; store the updates of a successful getUpdates before returning."""
        status, body = await self.inner.do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )
        if status == 200 and url.endswith("/getUpdates") and self.guard is not None:
            updates = json.loads(body).get("result") or []
            if updates:
                await self.guard.keep(updates)
        return status, body


async def replay(guard: Guard, queue: Any, bot: Any) -> int:
    """Put back on the update queue what was fetched but never processed; return how many."""
    kept = await guard.unprocessed()
    for data in kept:
        await queue.put(Update.de_json(data, bot))
    if kept:
        log.info("replaying %s updates fetched before a stop", len(kept))
    return len(kept)
