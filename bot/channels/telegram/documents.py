"""Constituents' documents fetched through the bot (getFile), streamed, never stored."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from telegram import Bot
from telegram.error import BadRequest, TelegramError

from bot.service.desk import DocumentError, Download


class TelegramDocuments:
    """Fetch a file by its Telegram file id, as the desk's Documents."""

    def __init__(self, bot: Bot, timeout: float = 30.0) -> None:
        """Fetch through ``bot`` (its files come from Telegram's file server)."""
        self.bot = bot
        self.timeout = timeout

    async def fetch(self, file_id: str, limit: int) -> Download:
        """Start fetching a document; raise DocumentError if it is too large or cannot be had."""
        try:
            found = await self.bot.get_file(file_id)
        except BadRequest as exc:
            if "too big" in exc.message.lower():
                raise DocumentError(_too_big(limit)) from exc
            raise DocumentError("Telegram no longer has this file.") from exc
        except TelegramError as exc:
            raise DocumentError(f"Telegram could not be reached ({type(exc).__name__}).") from exc
        if found.file_size is not None and found.file_size > limit:
            raise DocumentError(_too_big(limit))
        if not found.file_path:
            raise DocumentError("Telegram no longer has this file.")
        client = httpx.AsyncClient(timeout=self.timeout)
        try:
            response = await client.send(client.build_request("GET", found.file_path), stream=True)
        except httpx.HTTPError as exc:
            await client.aclose()
            # The file's address holds the bot's token: never say it.
            raise DocumentError(f"Telegram could not be reached ({type(exc).__name__}).") from exc
        if response.status_code != 200:
            await response.aclose()
            await client.aclose()
            raise DocumentError(f"Telegram answered {response.status_code} for this file.")
        return Download(found.file_size, _chunks(client, response, limit))


async def _chunks(
    client: httpx.AsyncClient, response: httpx.Response, limit: int
) -> AsyncIterator[bytes]:
    try:
        sent = 0
        async for chunk in response.aiter_bytes():
            sent += len(chunk)
            if sent > limit:
                break
            yield chunk
    finally:
        await response.aclose()
        await client.aclose()


def _too_big(limit: int) -> str:
    return (
        f"This file is larger than the {limit // (1024 * 1024)} MB Telegram lets bots fetch;"
        " ask the constituent to send it another way."
    )
