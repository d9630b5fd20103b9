"""An offline Bot API for the bench, trimmed to the methods the intake uses, and updates for it.

Each call is encoded as python-telegram-bot would encode it for HTTP, answered with the JSON
Telegram would send, and yields to the event loop once like a round trip. Nothing is kept
except the inline keyboards still on screen, so a long run stays small.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, TypeAlias

from telegram import Bot, Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, ExtBot, JobQueue
from telegram.request import BaseRequest, RequestData

JSON: TypeAlias = dict[str, Any]
OfflineBuilder: TypeAlias = ApplicationBuilder[
    ExtBot[None],
    ContextTypes.DEFAULT_TYPE,
    dict[Any, Any],
    dict[Any, Any],
    dict[Any, Any],
    JobQueue[ContextTypes.DEFAULT_TYPE],
]
TOKEN = "123456:BENCH-offline"
BOT_USER: JSON = {
    "id": 1000,
    "is_bot": True,
    "first_name": "Office bot",
    "username": "BenchOfficeBot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
REACH_SECONDS = 10.0
_TRUE_METHODS = frozenset({"setMyCommands", "answerCallbackQuery"})


@dataclass(frozen=True, slots=True)
class Call:
    """One Bot API call: its method, text and reply markup (as Telegram receives them)."""

    method: str
    chat_id: int | None = None
    text: str | None = None
    markup: JSON | None = None


class OfflineRequest(BaseRequest):
    """Answer getMe, getChat, setMyCommands, answerCallbackQuery, sendMessage and a few more."""

    def __init__(self) -> None:
        """Start with no chats; ``recording`` collects calls while it is a list."""
        self.calls = 0
        self.uploaded = 0
        self.failed: list[str] = []
        self.recording: list[Call] | None = None
        self._last_ids: dict[int, int] = {}
        self._keyboards: dict[int, dict[int, JSON]] = {}
        self._target = 0
        self._reached: asyncio.Event | None = None

    @property
    def read_timeout(self) -> float | None:
        """Return the nominal read timeout (never waited for)."""
        return 5.0

    async def initialize(self) -> None:
        """Do nothing: there is no connection to open."""

    async def shutdown(self) -> None:
        """Do nothing: there is no connection to close."""

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
        """Answer one call with (HTTP status, JSON body)."""
        api_method = url.rsplit("/", 1)[-1]
        params: JSON = {}
        if request_data is not None:
            # The form body HTTPXRequest would send: PTB's request building, paid here too.
            request_data.json_parameters  # noqa: B018
            params = request_data.parameters
            if request_data.contains_files:
                files = request_data.multipart_data.values()
                self.uploaded += sum(len(f[1]) for f in files if isinstance(f[1], bytes))
        if self.recording is not None:
            markup = params.get("reply_markup")
            chat_id = int(params["chat_id"]) if "chat_id" in params else None
            text = params.get("text")
            self.recording.append(
                Call(api_method, chat_id, text, markup if isinstance(markup, dict) else None)
            )
        await asyncio.sleep(0)
        result = self._result(api_method, params)
        self.calls += 1
        if self._reached is not None and self.calls >= self._target:
            self._reached.set()
        if result is None:
            self.failed.append(api_method)
            body: JSON = {"ok": False, "error_code": 400, "description": "Bad Request: bench"}
            return HTTPStatus.BAD_REQUEST, json.dumps(body).encode()
        return HTTPStatus.OK, json.dumps({"ok": True, "result": result}).encode()

    async def reach(self, count: int) -> None:
        """Wait until ``count`` calls have been answered (background senders included)."""
        if self.calls >= count:
            return
        self._target, self._reached = count, asyncio.Event()
        try:
            async with asyncio.timeout(REACH_SECONDS):
                await self._reached.wait()
        except TimeoutError:
            message = f"{self.calls} Bot API calls after {REACH_SECONDS} s, expected {count}"
            raise RuntimeError(message) from None
        finally:
            self._reached = None

    def _result(self, api_method: str, params: JSON) -> Any:
        if api_method == "getMe":
            return BOT_USER
        if api_method in _TRUE_METHODS:
            return True
        if api_method == "getChat":  # the staff group, without topics: the bot runs it flat
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
        if api_method == "sendMessage":
            chat_id = int(params["chat_id"])
            message = _bot_message(chat_id, self.next_message_id(chat_id), params.get("text", ""))
            return self._keep_keyboard(message, params.get("reply_markup"))
        if api_method == "sendDocument":
            chat_id = int(params["chat_id"])
            message = _bot_message(chat_id, self.next_message_id(chat_id), "")
            return message | {"document": {"file_id": "export", "file_unique_id": "export"}}
        if api_method == "editMessageReplyMarkup":
            chat_id, message_id = int(params["chat_id"]), int(params["message_id"])
            shown = self._keyboards.get(chat_id, {}).pop(message_id, None)
            text = shown["text"] if shown else ""
            edited = _bot_message(chat_id, message_id, text) | {"edit_date": int(time.time())}
            return self._keep_keyboard(edited, params.get("reply_markup"))
        return None

    def _keep_keyboard(self, message: JSON, markup: object) -> JSON:
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
            self._keyboards.setdefault(message["chat"]["id"], {})[message["message_id"]] = message
        return message

    def next_message_id(self, chat_id: int) -> int:
        """Allocate the next message id in a chat (shared by the bot's and the person's)."""
        self._last_ids[chat_id] = self._last_ids.get(chat_id, 0) + 1
        return self._last_ids[chat_id]

    def button(self, chat_id: int, label: str) -> tuple[JSON, str]:
        """Return the newest message with an inline button ``label``, and its callback data."""
        for message in reversed(self._keyboards.get(chat_id, {}).values()):
            for row in message["reply_markup"]["inline_keyboard"]:
                for button in row:
                    if button["text"] == label and "callback_data" in button:
                        return message, str(button["callback_data"])
        raise LookupError(f"no inline button {label!r} in chat {chat_id}")

    def forget(self, chat_id: int) -> None:
        """Drop what is kept for a chat whose intake is over."""
        self._last_ids.pop(chat_id, None)
        self._keyboards.pop(chat_id, None)


def _bot_message(chat_id: int, message_id: int, text: str) -> JSON:
    return {
        "message_id": message_id,
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
        "from": BOT_USER,
        "text": text,
    }


def offline_builder(request: OfflineRequest) -> OfflineBuilder:
    """Return an ApplicationBuilder whose bot talks only to ``request``."""
    return Application.builder().token(TOKEN).request(request).get_updates_request(request)


@dataclass(frozen=True, slots=True)
class Person:
    """A constituent in a private chat with the bot (chat id = user id)."""

    user_id: int
    first_name: str = "Ada"
    last_name: str = "Lovelace"

    def user(self) -> JSON:
        """Return the User dict Telegram sends."""
        return {
            "id": self.user_id,
            "is_bot": False,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "language_code": "en",
        }

    def chat(self) -> JSON:
        """Return the private Chat dict Telegram sends."""
        name = {"first_name": self.first_name, "last_name": self.last_name}
        return {"id": self.user_id, "type": "private", **name}


class Updates:
    """Build updates as Telegram delivers them, with increasing ids, for one bot."""

    def __init__(self, bot: Bot, request: OfflineRequest) -> None:
        """Bind updates to ``bot``; message ids and buttons come from ``request``."""
        self.bot = bot
        self.request = request
        self._update_id = 0
        self._query_id = 0

    def build(self, person: Person, kind: str, value: str) -> Update:
        """Return the update for one action: text, command, tap, contact or photo."""
        if kind == "tap":
            return self._press(person, value)
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
            "message_id": self.request.next_message_id(person.user_id),
            "date": int(time.time()),
            "chat": person.chat(),
            "from": person.user(),
            **content,
        }
        return self._update({"message": message})

    def _press(self, person: Person, label: str) -> Update:
        message, data = self.request.button(person.user_id, label)
        self._query_id += 1
        query = {
            "id": f"query-{self._query_id}",
            "from": person.user(),
            "chat_instance": f"instance{person.user_id}",
            "data": data,
            "message": dict(message),
        }
        return self._update({"callback_query": query})

    def _update(self, payload: JSON) -> Update:
        self._update_id += 1
        return Update.de_json({"update_id": self._update_id, **payload}, self.bot)
