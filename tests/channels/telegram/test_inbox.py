"""Fetched updates are kept until processed, and replayed after a stop."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from support.intake import Harness, new_user, services_of
from telegram.request import BaseRequest, RequestData

from bot.channels.telegram.inbox import DurableUpdates, replay


class CannedUpdates(BaseRequest):
    """A Bot API that answers getUpdates with fixed updates."""

    def __init__(self, updates: list[dict[str, Any]]) -> None:
        self.updates = updates

    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

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
        result = self.updates if url.endswith("/getUpdates") else True
        return 200, json.dumps({"ok": True, "result": result}).encode()


def start_update(harness: Harness, user_id: int) -> dict[str, Any]:
    """Return the raw JSON of a /start command, as getUpdates returns it."""
    user = new_user()
    update = harness.updates.command(type(user)(user_id, "Kept"), "/start")
    data = update.to_dict()
    assert isinstance(data, dict)
    return data


async def test_fetched_updates_are_kept_before_ptb_sees_them(harness: Harness) -> None:
    guard = services_of(harness.app).guard
    kept = [start_update(harness, 8101), start_update(harness, 8102)]
    request = DurableUpdates(CannedUpdates(kept))
    request.guard = guard
    status, _ = await request.do_request("http://127.0.0.1/bot123:abc/getUpdates", "POST")
    assert status == 200
    assert [u["update_id"] for u in await guard.unprocessed()] == [u["update_id"] for u in kept]


async def test_updates_kept_but_never_processed_are_replayed(harness: Harness) -> None:
    guard = services_of(harness.app).guard
    await guard.keep([start_update(harness, 8201)])
    queue: asyncio.Queue[object] = asyncio.Queue()
    assert await replay(guard, queue, harness.app.bot) == 1
    update = queue.get_nowait()
    texts = await harness.send(update)  # type: ignore[arg-type]
    assert any("If anyone is in danger now, call 999" in text for text in texts)
    assert await guard.unprocessed() == []
    assert await replay(guard, queue, harness.app.bot) == 0


async def test_the_sweep_forgets_processed_updates(harness: Harness) -> None:
    guard = services_of(harness.app).guard
    data = start_update(harness, 8301)
    await guard.keep([data])
    await harness.send(harness.updates.command(new_user(), "/help"))
    harness.clock.advance(days=3)
    await guard.sweep()
    assert await guard.unprocessed() == []
