"""A Bot API server on 127.0.0.1 for the surge bench, trimmed to what an intake calls.

HTTP/1.1 with keep-alive, ``/bot<token>/<method>`` answered as Telegram answers it, long
polling for ``getUpdates``. People are simulated in the same event loop: each action becomes
an update in the queue, and every call the bot makes to a person's chat (messages, edited
buttons, answered presses) is counted for that person, so a step is done when its calls have
come. It keeps the messages with inline buttons still on screen, nothing else, and hears on
127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from bench.offline import BOT_USER, JSON, Person

LOOPBACK = "127.0.0.1"
# Parameters PTB sends as JSON inside the form (numbers, objects).
_NUMBERS = frozenset({"chat_id", "message_id", "offset", "limit", "timeout"})


def _form(body: bytes) -> JSON:
    params: JSON = {}
    for key, value in parse_qsl(body.decode("utf-8"), keep_blank_values=True):
        if key in _NUMBERS:
            params[key] = float(value) if key == "timeout" else int(value)
        elif key in ("reply_markup", "allowed_updates", "commands", "scope"):
            params[key] = json.loads(value)
        else:
            params[key] = value
    return params


class BotApiServer:
    """Answer one bot's Bot API calls on a loopback port; queue the people's updates."""

    def __init__(self, token: str) -> None:
        """Serve ``token``'s bot once ``start()`` is awaited."""
        self.token = token
        self.port = 0
        self.unexpected: list[str] = []
        self._server: asyncio.Server | None = None
        self._updates: list[JSON] = []
        self._update_id = 0
        self._queued = asyncio.Event()
        self.polled = asyncio.Event()  # set at the bot's first getUpdates
        self._stopping = False
        self._writers: set[asyncio.StreamWriter] = set()
        self._message_ids: dict[int, int] = {}
        self._keyboards: dict[int, dict[int, JSON]] = {}
        self._queries: dict[str, int] = {}
        self._query_id = 0
        # Called with the chat id of every call that reaches a person's chat.
        self.on_call: Callable[[int, str, JSON], None] = lambda chat, method, params: None

    @property
    def base_url(self) -> str:
        """Return the TELEGRAM_API_BASE_URL the bot is given."""
        return f"http://{LOOPBACK}:{self.port}/bot"

    async def start(self) -> None:
        """Listen on a free loopback port."""
        self._server = await asyncio.start_server(self._serve, LOOPBACK, 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Answer the long polls still open, stop listening and close every connection."""
        self._stopping = True
        self._queued.set()
        await asyncio.sleep(0.05)  # the polls' answers go out
        for writer in list(self._writers):
            writer.close()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
            self._server = None

    # People's side

    def act(self, person: Person, kind: str, value: str) -> None:
        """Queue the update for one action: text, command, tap, contact or photo."""
        if kind == "tap":
            message, data = self._button(person.user_id, value)
            self._query_id += 1
            query_id = f"q{self._query_id}"
            self._queries[query_id] = person.user_id
            self._queue(
                {
                    "callback_query": {
                        "id": query_id,
                        "from": person.user(),
                        "chat_instance": f"instance{person.user_id}",
                        "data": data,
                        "message": message,
                    }
                }
            )
            return
        content: JSON
        if kind in ("text", "command"):
            content = {"text": value}
            if kind == "command":
                length = len(value.split(maxsplit=1)[0])
                content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        elif kind == "contact":
            content = {
                "contact": {
                    "phone_number": value,
                    "first_name": person.first_name,
                    "user_id": person.user_id,
                }
            }
        elif kind == "photo":
            content = {
                "photo": [
                    {"file_id": f"{value}-s", "file_unique_id": "u-s", "width": 90, "height": 90},
                    {"file_id": value, "file_unique_id": "u-l", "width": 1280, "height": 960},
                ]
            }
        else:
            raise ValueError(f"unknown action {kind!r}")
        message = {
            "message_id": self._next_id(person.user_id),
            "date": int(time.time()),
            "chat": person.chat(),
            "from": person.user(),
            **content,
        }
        self._queue({"message": message})

    def _queue(self, payload: JSON) -> None:
        self._update_id += 1
        self._updates.append({"update_id": self._update_id, **payload})
        self._queued.set()

    def _button(self, chat_id: int, label: str) -> tuple[JSON, str]:
        for message in reversed(self._keyboards.get(chat_id, {}).values()):
            for row in message["reply_markup"]["inline_keyboard"]:
                for button in row:
                    if button["text"] == label and "callback_data" in button:
                        return dict(message), str(button["callback_data"])
        raise LookupError(f"no inline button {label!r} in chat {chat_id}")

    def _next_id(self, chat_id: int) -> int:
        self._message_ids[chat_id] = self._message_ids.get(chat_id, 0) + 1
        return self._message_ids[chat_id]

    def forget(self, chat_id: int) -> None:
        """Drop what is kept for a chat whose intake is over."""
        self._keyboards.pop(chat_id, None)

    # The bot's side

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                _, path, _ = lines[0].split(" ", 2)
                headers = {
                    k.strip().lower(): v.strip()
                    for k, _, v in (line.partition(":") for line in lines[1:] if line)
                }
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                status, answer = await self._answer(path, body)
                data = json.dumps(answer).encode()
                writer.write(
                    f"HTTP/1.1 {status.value} {status.phrase}\r\n"
                    "Content-Type: application/json\r\n"
                    f"Content-Length: {len(data)}\r\n\r\n".encode("latin-1")
                    + data
                )
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _answer(self, path: str, body: bytes) -> tuple[HTTPStatus, JSON]:
        prefix = f"/bot{self.token}/"
        if not path.startswith(prefix):
            return HTTPStatus.UNAUTHORIZED, {
                "ok": False,
                "error_code": 401,
                "description": "Unauthorized",
            }
        method = path[len(prefix) :]
        params = _form(body)
        if method == "getUpdates":
            return HTTPStatus.OK, {"ok": True, "result": await self._get_updates(params)}
        result = self._result(method, params)
        if result is None:
            self.unexpected.append(method)
            return HTTPStatus.NOT_FOUND, {
                "ok": False,
                "error_code": 404,
                "description": "Not Found",
            }
        return HTTPStatus.OK, {"ok": True, "result": result}

    async def _get_updates(self, params: JSON) -> list[JSON]:
        self.polled.set()
        offset = int(params.get("offset", 0))
        limit = int(params.get("limit", 100))
        # Updates before the offset are confirmed: Telegram forgets them.
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if not self._updates and not self._stopping:
            self._queued.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(float(params.get("timeout", 0))):
                    await self._queued.wait()
        return self._updates[:limit]

    def _result(self, method: str, params: JSON) -> Any:
        if method == "getMe":
            return BOT_USER
        if method in ("deleteWebhook", "setMyCommands", "deleteMyCommands"):
            return True
        if method == "getChat":
            # The staff group, without topics: the bot runs it as one flat chat.
            chat_id = int(params["chat_id"])
            gifts = dict.fromkeys(
                ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription"), False
            )
            return {
                "id": chat_id,
                "type": "supergroup" if chat_id < 0 else "private",
                "accent_color_id": 0,
                "max_reaction_count": 11,
                "accepted_gift_types": {**gifts, "gifts_from_channels": False},
            }
        if method == "answerCallbackQuery":
            user = self._queries.pop(str(params.get("callback_query_id")), None)
            if user is not None:
                self.on_call(user, method, params)
            return True
        if method == "sendMessage":
            chat_id = int(params["chat_id"])
            message = self._message(chat_id, self._next_id(chat_id), params)
            self.on_call(chat_id, method, params)
            return message
        if method == "editMessageReplyMarkup":
            chat_id, message_id = int(params["chat_id"]), int(params["message_id"])
            shown = self._keyboards.get(chat_id, {}).pop(message_id, None)
            edited = self._message(chat_id, message_id, {"text": shown["text"] if shown else ""})
            self.on_call(chat_id, method, params)
            return edited | {"edit_date": int(time.time())}
        return None

    def _message(self, chat_id: int, message_id: int, params: JSON) -> JSON:
        message: JSON = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
            "from": BOT_USER,
            "text": params.get("text", ""),
        }
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup and chat_id > 0:
            message["reply_markup"] = markup
            self._keyboards.setdefault(chat_id, {})[message_id] = message
        return message
