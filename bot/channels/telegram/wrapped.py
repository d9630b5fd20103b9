"""A Bot API request that wraps another: the base of the bot's watching and storing requests."""

from __future__ import annotations

from telegram.request import BaseRequest


class WrappedRequest(BaseRequest):
    """Delegate opening, closing and timeouts to the request that talks to Telegram."""

    def __init__(self, inner: BaseRequest) -> None:
        """Wrap ``inner``; subclasses say what ``do_request`` adds around it."""
        self.inner = inner

    @property
    def read_timeout(self) -> float | None:
        """Return the wrapped request's read timeout."""
        return self.inner.read_timeout

    async def initialize(self) -> None:
        """Open the wrapped request."""
        await self.inner.initialize()

    async def shutdown(self) -> None:
        """Close the wrapped request."""
        await self.inner.shutdown()
