"""The local Bot API server in webhook mode: it posts each update to the bot, as Telegram does.

Once the bot calls ``setWebhook``, updates pushed by people are POSTed one at a time, in order,
to the URL it gave, with the ``X-Telegram-Bot-Api-Secret-Token`` header it chose. An update is
forgotten only when the bot answers 2xx; anything else (or no answer) is retried, so an update
the bot did not take is never lost. While a webhook is set, getUpdates is refused with 409,
like Telegram.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from dataclasses import dataclass
from typing import Any

import httpx

from support.botapi import JSON, BotApiServer, Call, _ApiError

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete"
    " the webhook first"
)


@dataclass(slots=True)
class Post:
    """One delivery attempt: which update, and how the bot answered (None: no answer)."""

    update_id: int
    status: int | None
    error: str = ""


class WebhookBotApi(BotApiServer):
    """A Bot API server that delivers updates by POSTing them to the bot's webhook."""

    def __init__(self, *args: Any, retry_every: float = 0.2, **kwargs: Any) -> None:
        """Prepare the server; nothing is posted until the bot sets a webhook."""
        super().__init__(*args, **kwargs)
        self.webhook: JSON | None = None
        self.posts: list[Post] = []
        self.retry_every = retry_every
        self._poster: asyncio.Task[None] | None = None
        self._methods["setWebhook"] = self._set_webhook
        self._methods["deleteWebhook"] = self._delete_webhook
        self._methods["getWebhookInfo"] = self._webhook_info

    async def start(self) -> None:
        """Listen, and start posting updates whenever a webhook is set."""
        await super().start()
        self._poster = asyncio.create_task(self._post_updates(), name="webhook-poster")

    async def close(self) -> None:
        """Stop posting and close the server."""
        if self._poster is not None:
            self._poster.cancel()
            await asyncio.gather(self._poster, return_exceptions=True)
            self._poster = None
        await super().close()

    def _set_webhook(self, call: Call) -> bool:
        url = call.params.get("url")
        if not isinstance(url, str) or not url:
            raise _ApiError(400, "Bad Request: bad webhook: URL must be provided")
        self.webhook = dict(call.params)
        allowed = call.params.get("allowed_updates")
        if isinstance(allowed, list):
            self.allowed_updates = frozenset(allowed) or self.allowed_updates
        self._notify()
        return True

    def _delete_webhook(self, call: Call) -> bool:
        self.webhook = None
        return True

    def _webhook_info(self, call: Call) -> JSON:
        return {
            "url": (self.webhook or {}).get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    async def _get_updates(self, call: Call, reader: Any, *, long_poll: bool) -> list[JSON] | None:
        if self.webhook is not None:
            raise _ApiError(409, _WEBHOOK_CONFLICT)
        return await super()._get_updates(call, reader, long_poll=long_poll)

    async def _post_updates(self) -> None:
        async with httpx.AsyncClient(timeout=10.0) as client:
            while True:
                ready = self._deliverable(1) if self.webhook is not None else []
                if not ready:
                    await self._wait_changed(0.1)
                    continue
                update = ready[0]
                if await self._post(client, update):
                    self._updates = [
                        u for u in self._updates if u["update_id"] != update["update_id"]
                    ]
                    self._notify()
                else:
                    await asyncio.sleep(self.retry_every)

    async def _post(self, client: httpx.AsyncClient, update: JSON) -> bool:
        assert self.webhook is not None
        headers = {"Content-Type": "application/json"}
        secret = self.webhook.get("secret_token")
        if secret:
            headers[SECRET_HEADER] = str(secret)
        try:
            answer = await client.post(str(self.webhook["url"]), json=update, headers=headers)
        except httpx.HTTPError as exc:
            self.posts.append(Post(update["update_id"], None, type(exc).__name__))
            return False
        self.posts.append(Post(update["update_id"], answer.status_code))
        self._notify()
        return 200 <= answer.status_code < 300

    async def wait_webhook(self, timeout: float = 30.0) -> JSON:  # noqa: ASYNC109
        """Wait until the bot has set its webhook; return the setWebhook parameters."""
        await self.wait_until(lambda: self.webhook is not None, timeout=timeout, what="setWebhook")
        assert self.webhook is not None
        return self.webhook


def free_port() -> int:
    """Return a loopback port nothing listens on now."""
    with contextlib.closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
