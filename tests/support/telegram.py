"""Offline Bot API double and update factories for driving a real telegram.ext.Application."""

from __future__ import annotations

import asyncio
import copy
import enum
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, TypeAlias

from telegram import Bot, Update
from telegram.error import TimedOut
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
InlineRows: TypeAlias = list[list[tuple[str, str | None]]]
ReplyRows: TypeAlias = list[list[str]]

BOT_ID = 1000
BOT_USERNAME = "TestOfficeBot"
BOT_USER: JSON = {
    "id": BOT_ID,
    "is_bot": True,
    "first_name": "Office bot",
    "username": BOT_USERNAME,
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}

_TRUE_METHODS = frozenset(
    {
        "answerCallbackQuery",
        "setMyCommands",
        "deleteMyCommands",
        "deleteMessage",
        "setChatMenuButton",
        "sendChatAction",
        "deleteWebhook",
        "close",
        "logOut",
    }
)
_SEND_METHODS = frozenset({"sendMessage", "sendPhoto", "sendDocument"})
_TOPIC_METHODS = frozenset(
    {
        "createForumTopic",
        "editForumTopic",
        "closeForumTopic",
        "reopenForumTopic",
        "deleteForumTopic",
    }
)
# What Telegram answers about a topic that is gone, and a topic change that changes nothing.
THREAD_NOT_FOUND = "Bad Request: message thread not found"
TOPIC_DELETED = "Bad Request: TOPIC_DELETED"
_TOPIC_INVALID = "Bad Request: TOPIC_ID_INVALID"
_TOPIC_NOT_MODIFIED = "Bad Request: TOPIC_NOT_MODIFIED"
_EDIT_METHODS = frozenset({"editMessageText", "editMessageCaption", "editMessageReplyMarkup"})
_TEXT_METHODS = _SEND_METHODS | {"editMessageText", "editMessageCaption"}
_JSON_PARAMS = ("reply_markup", "reply_parameters", "entities", "caption_entities")
_DESCRIPTIONS = {
    400: "Bad Request: chat not found",
    403: "Forbidden: bot was blocked by the user",
    500: "Internal Server Error",
    502: "Bad Gateway",
}
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup"
    " are exactly the same as a current content and reply markup of the message"
)


class _ApiError(Exception):
    """A Telegram-shaped error answer raised inside the request double."""

    def __init__(self, status: int, description: str, *, unsupported: bool = False) -> None:
        super().__init__(description)
        self.status, self.description, self.unsupported = status, description, unsupported


@dataclass(frozen=True, slots=True)
class SentCall:
    """One Bot API call as the bot made it; ok is False when it was answered with an error."""

    method: str
    params: JSON
    ok: bool = True
    uploads: dict[str, bytes] = field(default_factory=dict)  # multipart name -> file bytes

    @property
    def chat_id(self) -> int | str | None:
        """Return the normalised target chat of this call, if any."""
        return _chat_key(self.params["chat_id"]) if "chat_id" in self.params else None

    @property
    def text(self) -> str | None:
        """Return the text or caption this call carried, if any."""
        value = self.params.get("text", self.params.get("caption"))
        return value if isinstance(value, str) else None


@dataclass(slots=True)
class Topic:
    """A forum topic as the double keeps it."""

    name: str
    icon_color: int
    closed: bool = False


@dataclass(slots=True)
class _Fault:
    """An injected failure waiting for its next matching calls."""

    method: str | None
    status: int | None  # None means "raise TimedOut"
    body: JSON
    remaining: int


def _chat_key(value: object) -> int | str:
    """Normalise a chat id the way Telegram does (numeric strings are ids)."""
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    if isinstance(value, int | str):
        return value
    raise TypeError(f"unexpected chat_id {value!r}")


def _chat(chat_id: int | str) -> JSON:
    """Build the Chat dict Telegram would return for a chat id."""
    is_private = isinstance(chat_id, int) and chat_id > 0
    chat: JSON = {"id": chat_id, "type": "private" if is_private else "supergroup"}
    if not is_private:
        chat["title"] = f"Chat {chat_id}"
    return chat


def _plain_params(request_data: RequestData | None) -> JSON:
    """Return the request's parameters as plain JSON values, decoding JSON-encoded markups."""
    params: JSON = json.loads(json.dumps(request_data.parameters)) if request_data else {}
    for key in _JSON_PARAMS:
        if isinstance(params.get(key), str):
            params[key] = json.loads(params[key])
    return params


def _uploads(request_data: RequestData | None) -> dict[str, bytes]:
    """Return the bytes of each file uploaded with a request, by multipart field name."""
    if request_data is None:
        return {}
    files = request_data.multipart_data.items()
    return {name: c if isinstance(c := up[1], bytes) else c.read() for name, up in files}


def _inline_rows(markup: object) -> InlineRows | None:
    """Return an inline keyboard as rows of (text, callback_data), or None if not inline."""
    if not isinstance(markup, dict) or "inline_keyboard" not in markup:
        return None
    return [[(b["text"], b.get("callback_data")) for b in row] for row in markup["inline_keyboard"]]


class RecordingRequest(BaseRequest):
    """Answer Bot API calls offline like Telegram would and record every call.

    All state changes happen without an await in between, so any number of coroutines may
    share one instance; each call then yields once (``latency``) like a real round trip.
    """

    def __init__(self, *, latency: float = 0.0, clock: Callable[[], float] = time.time) -> None:
        self.latency = latency
        self.clock = clock
        self.unsupported: list[SentCall] = []
        self._calls: list[SentCall] = []
        self._faults: list[_Fault] = []
        self._stubs: dict[str, Any] = {}
        self._last_ids: dict[int | str, int] = {}
        self._files = itertools.count(1)
        # Files getFile knows: file_id -> (file_path on the file server, size in bytes).
        self.files: dict[str, tuple[str, int]] = {}
        self._messages: dict[tuple[int | str, int], JSON] = {}
        # Messages deleted (by the bot, or with their topic): edits of them are refused.
        self._deleted: set[tuple[int | str, int]] = set()
        # Forum chats (-> whether the bot may manage topics), their topics, and deleted topics.
        self.forums: dict[int | str, bool] = {}
        self.topics: dict[tuple[int | str, int], Topic] = {}
        self.deleted_topics: set[tuple[int | str, int]] = set()
        # What a send into a deleted topic is answered with (Telegram has said both).
        self.deleted_topic_error = THREAD_NOT_FOUND

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
        """Answer one Bot API call with (HTTP status, JSON body) or raise an injected TimedOut."""
        api_method = url.rsplit("/", 1)[-1]
        params = _plain_params(request_data)
        status, body = self._answer(api_method, params, request_data)
        await asyncio.sleep(self.latency)
        if status is None:
            raise TimedOut(f"Timed out (injected) calling {api_method}")
        return status, json.dumps(body).encode()

    def _answer(
        self, api_method: str, params: JSON, request_data: RequestData | None
    ) -> tuple[int | None, JSON]:
        """Record the call and build its answer synchronously."""
        fault = self._take_fault(api_method)
        if fault is not None:
            self._calls.append(SentCall(api_method, params, ok=False))
            return fault.status, fault.body
        try:
            result = self._result(api_method, params, request_data)
        except _ApiError as error:
            call = SentCall(api_method, params, ok=False)
            self._calls.append(call)
            if error.unsupported:
                self.unsupported.append(call)
            body: JSON = {"ok": False, "error_code": error.status, "description": error.description}
            return error.status, body
        self._calls.append(SentCall(api_method, params, uploads=_uploads(request_data)))
        return HTTPStatus.OK, {"ok": True, "result": result}

    def _result(self, api_method: str, params: JSON, request_data: RequestData | None) -> Any:
        """Return the ``result`` Telegram would give for a successful call."""
        if api_method in self._stubs:
            return copy.deepcopy(self._stubs[api_method])
        if api_method == "getMe":
            return dict(BOT_USER)
        if api_method == "getUpdates":
            return []
        if api_method == "getChat":
            return self._full_chat(_chat_key(params["chat_id"]))
        if api_method == "getFile":
            return self._get_file(str(params["file_id"]))
        if api_method == "getChatMember":
            return self._member(_chat_key(params["chat_id"]), int(params["user_id"]))
        if api_method in _TOPIC_METHODS:
            return self._topic_call(api_method, params)
        if api_method == "deleteMessages":
            chat_id = _chat_key(params["chat_id"])
            for message_id in params["message_ids"]:
                self._forget((chat_id, int(message_id)))
            return True
        if api_method in _TRUE_METHODS:
            if api_method == "deleteMessage":
                self._forget((_chat_key(params["chat_id"]), params["message_id"]))
            return True
        if api_method in _SEND_METHODS:
            return self._send(api_method, params, request_data)
        if api_method in _EDIT_METHODS:
            return self._edit(api_method, params)
        description = "Bad Request: method not supported by RecordingRequest"
        raise _ApiError(400, description, unsupported=True)

    def _full_chat(self, chat_id: int | str) -> JSON:
        """Return the ChatFullInfo getChat gives: a forum if the test made it one."""
        chat = _chat(chat_id)
        if chat_id in self.forums:
            chat["is_forum"] = True
        return {**chat, "accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": {
            "unlimited_gifts": False, "limited_gifts": False, "unique_gifts": False,
            "premium_subscription": False, "gifts_from_channels": False,
        }}  # fmt: skip

    def _member(self, chat_id: int | str, user_id: int) -> JSON:
        """Return the ChatMember getChatMember gives: the bot is an admin of a forum it runs."""
        user: JSON = dict(BOT_USER) if user_id == BOT_ID else {"id": user_id, "is_bot": False}
        user.setdefault("first_name", "Member")
        if user_id != BOT_ID or chat_id not in self.forums:
            return {"status": "member", "user": user}
        rights = dict.fromkeys(
            (
                "can_be_edited", "is_anonymous", "can_manage_chat", "can_manage_video_chats",
                "can_restrict_members", "can_promote_members", "can_change_info",
                "can_invite_users", "can_post_stories", "can_edit_stories", "can_delete_stories",
            ),
            False,
        )  # fmt: skip
        return {
            "status": "administrator",
            "user": user,
            **rights,
            "can_delete_messages": True,
            "can_pin_messages": True,
            "can_manage_topics": self.forums[chat_id],
        }

    def make_forum(self, chat_id: int, *, can_manage_topics: bool = True) -> None:
        """Make a group a forum (topics on), the bot an admin who may or may not manage them."""
        key = _chat_key(chat_id)
        self.forums[key] = can_manage_topics
        # Message 1 of a forum starts its General topic: no other topic has that id.
        self._last_ids[key] = max(self._last_ids.get(key, 0), 1)

    def _topic_call(self, api_method: str, params: JSON) -> JSON | bool:
        """Create, rename, close, reopen or delete a forum topic as Telegram does."""
        chat_id = _chat_key(params["chat_id"])
        if chat_id not in self.forums:
            raise _ApiError(400, "Bad Request: the chat is not a forum")
        if not self.forums[chat_id]:
            raise _ApiError(400, "Bad Request: not enough rights to manage topics")
        if api_method == "createForumTopic":
            name = str(params.get("name", ""))
            if not 1 <= len(name) <= 128:
                raise _ApiError(400, "Bad Request: TOPIC_TITLE_EMPTY")
            color = int(params.get("icon_color", 0x6FB9F0))
            thread_id = self.next_message_id(chat_id)
            self.topics[(chat_id, thread_id)] = Topic(name, color)
            created = {"name": name, "icon_color": color}
            self._service(chat_id, thread_id, {"forum_topic_created": created}, thread_id)
            return {"message_thread_id": thread_id, "name": name, "icon_color": color}
        key = (chat_id, int(params["message_thread_id"]))
        topic = self.topics.get(key)
        if topic is None:
            raise _ApiError(400, _TOPIC_INVALID)
        if api_method == "deleteForumTopic":
            self.delete_topic(chat_id, key[1])
            return True
        if api_method == "editForumTopic":
            renamed = params.get("name")
            if renamed is None or renamed == topic.name:
                raise _ApiError(400, _TOPIC_NOT_MODIFIED)
            topic.name = str(renamed)
            self._service(chat_id, None, {"forum_topic_edited": {"name": topic.name}}, key[1])
            return True
        closing = api_method == "closeForumTopic"
        if topic.closed == closing:
            raise _ApiError(400, _TOPIC_NOT_MODIFIED)
        topic.closed = closing
        event = "forum_topic_closed" if closing else "forum_topic_reopened"
        self._service(chat_id, None, {event: {}}, key[1])
        return True

    def _service(
        self, chat_id: int | str, message_id: int | None, content: JSON, thread_id: int
    ) -> None:
        """Store the service message a topic change leaves in the topic."""
        message: JSON = {
            "message_id": message_id or self.next_message_id(chat_id),
            "date": int(self.clock()),
            "chat": {**_chat(chat_id), "is_forum": True},
            "from": dict(BOT_USER),
            "message_thread_id": thread_id,
            "is_topic_message": True,
            **content,
        }
        self.remember(message)

    def delete_topic(self, chat_id: int | str, thread_id: int) -> None:
        """Delete a topic and every message in it (as deleteForumTopic, or staff by hand)."""
        key = (_chat_key(chat_id), thread_id)
        self.topics.pop(key, None)
        self.deleted_topics.add(key)
        for stored in [k for k, m in self._messages.items() if k[0] == key[0]]:
            if self._messages[stored].get("message_thread_id") == thread_id:
                self._forget(stored)

    def _forget(self, key: tuple[int | str, int]) -> None:
        self._messages.pop(key, None)
        self._deleted.add(key)

    def topic_messages(self, chat_id: int | str, thread_id: int) -> list[JSON]:
        """Return the messages now in a topic, oldest first (its creation included)."""
        key = _chat_key(chat_id)
        found = [
            m
            for (chat, _), m in self._messages.items()
            if chat == key and m.get("message_thread_id") == thread_id
        ]
        return copy.deepcopy(sorted(found, key=lambda m: int(m["message_id"])))

    def _thread(self, chat_id: int | str, params: JSON) -> int | None:
        """Check a send's topic as Telegram does; return the thread id it goes into."""
        if "message_thread_id" not in params:
            return None
        thread_id = int(params["message_thread_id"])
        key = (chat_id, thread_id)
        if key in self.deleted_topics:
            raise _ApiError(400, self.deleted_topic_error)
        if chat_id not in self.forums or key not in self.topics:
            raise _ApiError(400, THREAD_NOT_FOUND)
        return thread_id

    def _send(self, api_method: str, params: JSON, request_data: RequestData | None) -> JSON:
        """Build, store and return the Message a send* call creates."""
        chat_id = _chat_key(params["chat_id"])
        thread_id = self._thread(chat_id, params)
        message: JSON = {"date": int(self.clock()), "chat": _chat(chat_id), "from": dict(BOT_USER)}
        if api_method == "sendMessage":
            text = params.get("text", "")
            if not text.strip():
                raise _ApiError(400, "Bad Request: message text is empty")
            if "parse_mode" not in params and len(text) > 4096:
                raise _ApiError(400, "Bad Request: message is too long")
            message["text"] = text
        else:
            kind = "photo" if api_method == "sendPhoto" else "document"
            message[kind] = self._file(kind, params, request_data)
            if "caption" in params:
                if "parse_mode" not in params and len(params["caption"]) > 1024:
                    raise _ApiError(400, "Bad Request: message caption is too long")
                message["caption"] = params["caption"]
        self._attach_markup(message, params)
        if thread_id is not None:
            message["chat"]["is_forum"] = True
            message["message_thread_id"] = thread_id
            message["is_topic_message"] = True
        reply_id = params.get("reply_to_message_id") or params.get("reply_parameters", {}).get(
            "message_id"
        )
        if reply_id is None and thread_id is not None:
            reply_id = thread_id  # in a topic, Telegram makes every message reply to its start
        replied = self._messages.get((chat_id, reply_id)) if reply_id else None
        if replied is not None:
            message["reply_to_message"] = {
                k: v for k, v in replied.items() if k != "reply_to_message"
            }
        message["message_id"] = self.next_message_id(chat_id)  # only once the send is valid
        self.remember(message)
        return copy.deepcopy(message)

    def _file(self, kind: str, params: JSON, request_data: RequestData | None) -> Any:
        """Describe the sent photo or document, inventing a file_id for uploads."""
        given = params.get(kind)
        file_id = given if isinstance(given, str) and not given.startswith("attach://") else None
        file_id = file_id or f"uploaded-{kind}-{next(self._files)}"
        unique = f"u-{file_id}"[:32]
        if kind == "photo":
            return [
                {"file_id": file_id, "file_unique_id": unique, "width": 90, "height": 90},
                {"file_id": file_id, "file_unique_id": unique, "width": 800, "height": 600},
            ]
        document: JSON = {"file_id": file_id, "file_unique_id": unique}
        upload = request_data.multipart_data.get(kind) if request_data else None
        if upload is not None and upload[0]:
            document["file_name"] = upload[0]
        return document

    def _edit(self, api_method: str, params: JSON) -> JSON | bool:
        """Apply an edit* call to the stored message and return the edited Message."""
        if "inline_message_id" in params:
            return True
        chat_id, message_id = _chat_key(params["chat_id"]), params["message_id"]
        if (chat_id, message_id) in self._deleted:
            raise _ApiError(400, "Bad Request: message to edit not found")
        current = self._messages.get((chat_id, message_id)) or {
            "message_id": message_id,
            "date": int(self.clock()),
            "chat": _chat(chat_id),
            "from": dict(BOT_USER),
            "text": "",
        }
        edited = copy.deepcopy(current)
        edited.pop("reply_markup", None)
        if api_method == "editMessageText":
            if not params.get("text", "").strip():
                raise _ApiError(400, "Bad Request: message text is empty")
            edited["text"] = params["text"]
        elif api_method == "editMessageCaption":
            edited["caption"] = params.get("caption", "")
        self._attach_markup(edited, params)
        if edited == current:
            raise _ApiError(400, _NOT_MODIFIED)
        edited["edit_date"] = int(self.clock())
        self.remember(edited)
        return copy.deepcopy(edited)

    @staticmethod
    def _attach_markup(message: JSON, params: JSON) -> None:
        """Echo an inline keyboard into the message, rejecting oversize callback data."""
        markup = params.get("reply_markup")
        rows = _inline_rows(markup)
        if rows is None:
            return  # Telegram never echoes reply keyboards, force_reply or remove_keyboard
        for row in rows:
            for _, data in row:
                if data is not None and not 1 <= len(data.encode()) <= 64:
                    raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        message["reply_markup"] = markup

    def _take_fault(self, api_method: str) -> _Fault | None:
        """Consume and return the first injected fault matching this method, if any."""
        for fault in self._faults:
            if fault.method in (None, api_method):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def fail_next(
        self,
        method: str | None,
        *,
        status: int,
        retry_after: int | None = None,
        times: int = 1,
        description: str | None = None,
        migrate_to_chat_id: int | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` (None: any) with a Telegram error."""
        if status == HTTPStatus.TOO_MANY_REQUESTS:
            retry_after = retry_after or 1
            description = description or f"Too Many Requests: retry after {retry_after}"
        if description is None:
            try:
                description = _DESCRIPTIONS.get(status, HTTPStatus(status).phrase)
            except ValueError:
                description = f"Error {status}"
        body: JSON = {"ok": False, "error_code": status, "description": description}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        if migrate_to_chat_id is not None:
            body["parameters"] = {"migrate_to_chat_id": migrate_to_chat_id}
        self._faults.append(_Fault(method, status, body, times))

    def timeout_next(self, method: str | None, times: int = 1) -> None:
        """Raise telegram.error.TimedOut for the next ``times`` calls of ``method``."""
        self._faults.append(_Fault(method, None, {}, times))

    def _get_file(self, file_id: str) -> JSON:
        """Describe a known file as getFile does; one never offered is gone, as on Telegram."""
        if file_id not in self.files:
            raise _ApiError(400, "Bad Request: invalid file_id")
        path, size = self.files[file_id]
        if size > 20 * 1024 * 1024:
            raise _ApiError(400, "Bad Request: file is too big")
        return {
            "file_id": file_id,
            "file_unique_id": f"u-{file_id}"[:32],
            "file_size": size,
            "file_path": path,
        }

    def offer_file(self, file_id: str, path: str, size: int) -> None:
        """Make getFile answer for ``file_id`` with ``path`` on the file server."""
        self.files[file_id] = (path, size)

    def stub(self, method: str, result: Any) -> None:
        """Answer every later call of ``method`` with ``result`` (a JSON value)."""
        self._stubs[method] = result

    def next_message_id(self, chat_id: int | str) -> int:
        """Allocate the next message id in a chat (shared by bot and user messages)."""
        key = _chat_key(chat_id)
        self._last_ids[key] = self._last_ids.get(key, 0) + 1
        return self._last_ids[key]

    def remember(self, message: JSON) -> None:
        """Store a message's current state so edits, replies and button presses can find it."""
        key = (_chat_key(message["chat"]["id"]), message["message_id"])
        self._messages[key] = copy.deepcopy(message)

    def message(self, chat_id: int | str, message_id: int) -> JSON | None:
        """Return the current state of a stored message, or None."""
        stored = self._messages.get((_chat_key(chat_id), message_id))
        return copy.deepcopy(stored) if stored is not None else None

    def messages(self, chat_id: int | str) -> list[JSON]:
        """Return the stored messages of a chat, newest first."""
        key = _chat_key(chat_id)
        found = [m for (chat, _), m in self._messages.items() if chat == key]
        return copy.deepcopy(sorted(found, key=lambda m: -int(m["message_id"])))

    def calls(self, method: str | None = None) -> list[SentCall]:
        """Return every recorded call (failed ones too), optionally of one method."""
        return [c for c in self._calls if method is None or c.method == method]

    def sent_texts(self, chat_id: int | str) -> list[str]:
        """Return texts and captions successfully sent or edited into a chat, in order."""
        key = _chat_key(chat_id)
        return [
            c.text
            for c in self._calls
            if c.ok and c.method in _TEXT_METHODS and c.chat_id == key and c.text is not None
        ]

    def last_message(self, chat_id: int | str) -> SentCall:
        """Return the last successful send* or edit* call to a chat."""
        key = _chat_key(chat_id)
        for call in reversed(self._calls):
            if call.ok and call.method in _SEND_METHODS | _EDIT_METHODS and call.chat_id == key:
                return call
        raise AssertionError(f"nothing was sent to chat {chat_id}; calls: {self._calls!r}")

    def last_keyboard(self, chat_id: int | str) -> InlineRows | ReplyRows:
        """Return the last message's keyboard: inline rows of (text, data), reply rows of text."""
        markup = self.last_message(chat_id).params.get("reply_markup")
        inline = _inline_rows(markup)
        if inline is not None:
            return inline
        if isinstance(markup, dict) and "keyboard" in markup:
            rows = markup["keyboard"]
            return [[b if isinstance(b, str) else b["text"] for b in row] for row in rows]
        return []

    def clear(self) -> None:
        """Forget recorded calls; stored messages, ids, stubs and pending faults are kept."""
        self._calls.clear()
        self.unsupported.clear()


def offline_builder(
    request: RecordingRequest, token: str = "123456:TEST-offline"
) -> OfflineBuilder:
    """Return an ApplicationBuilder whose bot talks only to ``request``."""
    return Application.builder().token(token).request(request).get_updates_request(request)


def record_errors(application: Application[Any, Any, Any, Any, Any, Any]) -> list[object]:
    """Collect errors raised by handlers (PTB only logs them) so a test can assert on them."""
    errors: list[object] = []

    async def on_error(update: object, context: Any) -> None:
        errors.append(context.error)

    application.add_error_handler(on_error)
    return errors


@dataclass(frozen=True, slots=True)
class FakeUser:
    """A Telegram user who sends updates to the bot."""

    user_id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str = "en"

    def to_dict(self) -> JSON:
        """Return the User dict Telegram sends for this person."""
        data: JSON = {"id": self.user_id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if (value := getattr(self, key)) is not None:
                data[key] = value
        return data


class _Same(enum.Enum):
    """Sentinel type meaning 'the sender's own id'."""

    SAME = enum.auto()


SAME = _Same.SAME


_UPDATE_IDS = itertools.count(1)


class UpdateFactory:
    """Build Updates exactly as Telegram would deliver them, with increasing ids.

    Given the RecordingRequest, message ids are shared with the bot's own messages and button
    presses and replies carry the real stored message (text, keyboard) they refer to.
    """

    def __init__(
        self,
        bot: Bot | None = None,
        request: RecordingRequest | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.bot, self.request, self.clock = bot, request, clock
        # Shared by every factory, as Telegram's update ids keep rising across bot restarts.
        self._update_ids = _UPDATE_IDS
        self._query_ids = itertools.count(1)
        self._last_ids: dict[int, int] = {}

    def _next_message_id(self, chat_id: int) -> int:
        """Allocate a message id in a chat, through the request when there is one."""
        if self.request is not None:
            return self.request.next_message_id(chat_id)
        self._last_ids[chat_id] = self._last_ids.get(chat_id, 0) + 1
        return self._last_ids[chat_id]

    def _update(self, **payload: JSON) -> Update:
        """Wrap a payload into a bot-bound Update with the next update_id."""
        return Update.de_json({"update_id": next(self._update_ids), **payload}, self.bot)

    @staticmethod
    def _chat(user: FakeUser, chat_id: int | None, chat_type: str, thread: int | None) -> JSON:
        """Return the Chat dict for a private chat with ``user`` or a group chat."""
        if chat_type == "private" and chat_id in (None, user.user_id):
            chat = {k: v for k, v in user.to_dict().items() if k not in ("is_bot", "language_code")}
            return {**chat, "type": "private"}
        if chat_id is None or chat_id >= 0 or chat_type not in ("group", "supergroup"):
            raise ValueError("group chats need a negative chat_id and type group or supergroup")
        chat = {"id": chat_id, "type": chat_type, "title": "Casework staff"}
        return {**chat, "is_forum": True} if thread is not None else chat

    def _message(
        self,
        user: FakeUser,
        *,
        chat_id: int | None = None,
        chat_type: str = "private",
        thread_id: int | None = None,
        reply_to_message_id: int | None = None,
        message_id: int | None = None,
        **content: Any,
    ) -> JSON:
        """Return a Message dict sent by ``user`` with the given content fields."""
        chat = self._chat(user, chat_id, chat_type, thread_id)
        message: JSON = {
            "message_id": message_id or self._next_message_id(chat["id"]),
            "date": int(self.clock()),
            "chat": chat,
            "from": user.to_dict(),
            **content,
        }
        if thread_id is not None:
            message |= {"message_thread_id": thread_id, "is_topic_message": True}
            # In a topic, Telegram makes every message reply to the topic's first message.
            reply_to_message_id = reply_to_message_id or thread_id
        if reply_to_message_id is not None:
            message["reply_to_message"] = self._bot_message(chat, reply_to_message_id)
        if self.request is not None:
            self.request.remember(message)
        return message

    def _bot_message(self, chat: JSON, message_id: int, text: str | None = None) -> JSON:
        """Return the stored message ``message_id`` in ``chat``, or a stand-in from the bot."""
        stored = self.request.message(chat["id"], message_id) if self.request else None
        if stored is not None:
            stored.pop("reply_to_message", None)
            return stored
        message: JSON = {"message_id": message_id, "date": int(self.clock()), "chat": chat}
        return {**message, "from": dict(BOT_USER), "text": text or ""}

    @staticmethod
    def _text_content(text: str) -> JSON:
        """Return text plus the bot_command entity Telegram adds to a leading /command."""
        content: JSON = {"text": text}
        if text.startswith("/") and len(text) > 1 and not text[1].isspace():
            length = len(text.split(maxsplit=1)[0].encode("utf-16-le")) // 2
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return content

    def text(
        self,
        user: FakeUser,
        text: str,
        *,
        chat_id: int | None = None,
        chat_type: str = "private",
        reply_to_message_id: int | None = None,
        thread_id: int | None = None,
    ) -> Update:
        """Return a text message update (a leading /command gets its entity, as in Telegram)."""
        message = self._message(
            user,
            chat_id=chat_id,
            chat_type=chat_type,
            thread_id=thread_id,
            reply_to_message_id=reply_to_message_id,
            **self._text_content(text),
        )
        return self._update(message=message)

    def command(
        self,
        user: FakeUser,
        command: str,
        *args: str,
        chat_id: int | None = None,
        chat_type: str = "private",
        thread_id: int | None = None,
    ) -> Update:
        """Return a /command update with arguments, e.g. command(user, "/start", "ref")."""
        text = " ".join(["/" + command.removeprefix("/"), *args])
        return self.text(user, text, chat_id=chat_id, chat_type=chat_type, thread_id=thread_id)

    def group_text(
        self,
        user: FakeUser,
        chat_id: int,
        text: str,
        *,
        chat_type: str = "supergroup",
        reply_to_message_id: int | None = None,
        thread_id: int | None = None,
    ) -> Update:
        """Return a text message posted in a group chat (negative chat_id)."""
        return self.text(
            user,
            text,
            chat_id=chat_id,
            chat_type=chat_type,
            reply_to_message_id=reply_to_message_id,
            thread_id=thread_id,
        )

    def group_command(
        self,
        user: FakeUser,
        chat_id: int,
        command: str,
        *args: str,
        chat_type: str = "supergroup",
        mention_bot: bool = False,
        thread_id: int | None = None,
    ) -> Update:
        """Return a /command posted in a group, optionally addressed as /cmd@TestOfficeBot."""
        name = command.removeprefix("/") + (f"@{BOT_USERNAME}" if mention_bot else "")
        return self.command(
            user, name, *args, chat_id=chat_id, chat_type=chat_type, thread_id=thread_id
        )

    def edited_text(
        self,
        user: FakeUser,
        text: str,
        *,
        message_id: int | None = None,
        chat_id: int | None = None,
    ) -> Update:
        """Return an edited_message update (a fresh message id unless one is given)."""
        content = self._text_content(text)
        message = self._message(user, chat_id=chat_id, message_id=message_id, **content)
        message["edit_date"] = message["date"]
        return self._update(edited_message=message)

    def callback(
        self,
        user: FakeUser,
        data: str,
        *,
        message_id: int,
        chat_id: int | None = None,
        text: str | None = None,
    ) -> Update:
        """Return a button press on the bot's message ``message_id`` carrying ``data``."""
        chat_type = "private" if chat_id is None or chat_id > 0 else "supergroup"
        chat = self._chat(user, chat_id, chat_type, None)
        query: JSON = {
            "id": f"query-{next(self._query_ids)}",
            "from": user.to_dict(),
            "chat_instance": f"instance{chat['id']}",
            "data": data,
            "message": self._bot_message(chat, message_id, text),
        }
        return self._update(callback_query=query)

    def press(self, user: FakeUser, button_text: str, *, chat_id: int | None = None) -> Update:
        """Return a press of the newest stored inline button labelled ``button_text``."""
        if self.request is None:
            raise RuntimeError("press() needs the RecordingRequest passed to UpdateFactory")
        target = user.user_id if chat_id is None else chat_id
        for message in self.request.messages(target):
            for row in _inline_rows(message.get("reply_markup")) or []:
                for label, data in row:
                    if label == button_text and data is not None:
                        return self.callback(
                            user, data, message_id=message["message_id"], chat_id=chat_id
                        )
        raise AssertionError(f"no inline button {button_text!r} in chat {target}")

    def contact(
        self,
        user: FakeUser,
        phone_number: str,
        *,
        user_id: int | _Same | None = SAME,
        first_name: str | None = None,
    ) -> Update:
        """Return a shared contact; by default the sender's own (user_id = sender's id)."""
        contact: JSON = {"phone_number": phone_number, "first_name": first_name or user.first_name}
        owner = user.user_id if user_id is SAME else user_id
        if owner is not None:
            contact["user_id"] = owner
        return self._update(message=self._message(user, contact=contact))

    def photo(self, user: FakeUser, file_id: str, *, caption: str | None = None) -> Update:
        """Return a photo message (two sizes, as Telegram sends) with an optional caption."""
        unique = f"u-{file_id}"[:32]
        sizes = [
            {"file_id": f"{file_id}-s", "file_unique_id": f"{unique}-s", "width": 90, "height": 90},
            {"file_id": file_id, "file_unique_id": unique, "width": 1280, "height": 960},
        ]
        extra: JSON = {"caption": caption} if caption is not None else {}
        return self._update(message=self._message(user, photo=sizes, **extra))

    def document(
        self,
        user: FakeUser,
        file_id: str,
        file_name: str,
        mime_type: str,
        *,
        caption: str | None = None,
        file_size: int = 12_345,
    ) -> Update:
        """Return a document message."""
        document: JSON = {
            "file_id": file_id,
            "file_unique_id": f"u-{file_id}"[:32],
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": file_size,
        }
        extra: JSON = {"caption": caption} if caption is not None else {}
        return self._update(message=self._message(user, document=document, **extra))

    def sticker(self, user: FakeUser) -> Update:
        """Return a sticker message."""
        sticker: JSON = {
            "file_id": "sticker-file",
            "file_unique_id": "sticker-unique",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
        }
        return self._update(message=self._message(user, sticker=sticker))

    def voice(self, user: FakeUser, *, duration: int = 3) -> Update:
        """Return a voice note message."""
        voice: JSON = {
            "file_id": "voice-file",
            "file_unique_id": "voice-unique",
            "duration": duration,
            "mime_type": "audio/ogg",
        }
        return self._update(message=self._message(user, voice=voice))
