"""A Telegram Bot API server on 127.0.0.1, and the bot run against it as a separate process.

The server speaks HTTP/1.1 on a loopback port chosen by the system and answers
``/bot<token>/<method>`` like Telegram does: JSON bodies ``{"ok": true, "result": ...}`` or
``{"ok": false, "error_code": ..., "description": ...}`` with the same HTTP status. It runs in
the test's own event loop, so it only makes progress while the test awaits.

People are simulated: ``server.user(...)`` is someone with a private chat with the bot (chat id =
user id) and ``server.group(...)`` a group chat (negative id) whose members post in it. What they
do becomes updates the bot fetches with ``getUpdates``::

    ada = server.user("Ada", "Lovelace")
    ada.command("/start")
    await ada.wait_for_text("If anyone is in danger")
    ada.press("Start")

    staff = server.group("Casework staff", members=[sam, priya])
    sam.command("/queue", chat=staff)
    card = await staff.wait_for_text("SOT-")
    sam.press("Claim", chat=staff, message=card)

Every call is recorded (``calls()``); faults are injected per method (``fail``, ``hang``); a
method the server does not implement is answered 404 and kept in ``unexpected``, and a call the
real Telegram would refuse (bad HTML, unknown chat, stale query...) is answered like Telegram
and kept in ``rejected``.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from html.parser import HTMLParser
from http import HTTPStatus
from pathlib import Path
from typing import IO, Any, TypeAlias
from urllib.parse import parse_qsl, urlsplit

JSON: TypeAlias = dict[str, Any]
Rows: TypeAlias = list[list[tuple[str, str | None]]]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


LOOPBACK = "127.0.0.1"
TOKEN = "123456789:AAE-e2e-test-token"
CONSTITUENCY_CODE = "E14001520"

# Updates Telegram sends when allowed_updates is empty or was never given.
DEFAULT_ALLOWED = _words(
    "message edited_message channel_post edited_channel_post business_connection "
    "business_message edited_business_message deleted_business_messages inline_query "
    "chosen_inline_result callback_query shipping_query pre_checkout_query "
    "purchased_paid_media poll poll_answer my_chat_member chat_join_request chat_boost "
    "removed_chat_boost"
)
# Form fields that are free text: never JSON-decoded, even when they look like numbers.
_STRING_FIELDS = _words(
    "text caption parse_mode callback_query_id inline_message_id url photo document "
    "sticker title description short_description name first_name last_name phone_number "
    "language_code emoji business_connection_id message_effect_id custom_title"
)
_HTML_TAGS = _words(
    "b strong i em u ins s strike del span tg-spoiler a tg-emoji code pre blockquote"
)
_CONFLICT = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance"
    " is running"
)
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup"
    " are exactly the same as a current content and reply markup of the message"
)
_QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"
_ERROR_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
}
_POLL_SLICE = 0.1  # how often a waiting request checks that its client is still there
_RECHECK = 0.05  # how often a test's wait re-checks a condition nothing here announces
# The longest a hang without ``seconds`` waits for its client to give up.
_HANG_LIMIT = 120.0


class _ApiError(Exception):
    """A Telegram error answer: HTTP status = error_code."""

    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.body: JSON = {"ok": False, "error_code": status, "description": description}
        if parameters:
            self.body["parameters"] = parameters


class _BadHttpError(Exception):
    """The request is not HTTP we understand; answer 400 and close the connection."""


@dataclass(frozen=True, slots=True)
class Upload:
    """A file part of a multipart request."""

    filename: str | None
    content_type: str
    data: bytes


@dataclass(slots=True)
class Call:
    """One Bot API request as the server received it, and how it was answered."""

    method: str
    params: JSON
    time: float  # time.monotonic() when the request arrived
    http_method: str = "POST"
    content_type: str = ""
    files: dict[str, Upload] = field(default_factory=dict)
    status: int | None = None  # HTTP status answered; None while pending or never answered
    answer: JSON | None = None
    answered_at: float | None = None
    fault: str | None = None  # "fail" or "hang" when an injected fault shaped the answer
    abandoned: bool = False  # the client hung up before it was answered

    @property
    def ok(self) -> bool:
        """Tell whether the call was answered with success."""
        return self.status == HTTPStatus.OK

    @property
    def result(self) -> Any:
        """Return the ``result`` of a successful answer (None otherwise)."""
        return self.answer.get("result") if self.answer else None

    @property
    def chat_id(self) -> int | None:
        """Return the chat this call targets, if it names one by number."""
        value = self.params.get("chat_id")
        return value if isinstance(value, int) else None

    @property
    def text(self) -> str | None:
        """Return the text or caption the call carried, as sent."""
        value = self.params.get("text", self.params.get("caption"))
        return value if isinstance(value, str) else None

    def __str__(self) -> str:
        """Summarise the call on one line."""
        status = "pending" if self.status is None else str(self.status)
        if self.abandoned:
            status += " (client gone)"
        if self.fault:
            status += f" [{self.fault}]"
        shown = {k: v for k, v in self.params.items() if k != "reply_markup"}
        detail = json.dumps(shown, ensure_ascii=False)
        if len(detail) > 160:
            detail = detail[:159] + "…"
        return f"{self.method} -> {status} {detail}"


@dataclass(slots=True)
class Message:
    """A message in a chat, as Telegram holds it now (after edits)."""

    data: JSON  # the Message object Telegram would return
    from_bot: bool
    html: str | None = None  # the text or caption as the bot sent it, before parsing
    markup: JSON | None = None  # reply_markup as sent (reply keyboards too, never echoed)
    sent_at: float = 0.0
    edits: int = 0
    deleted: bool = False

    @property
    def chat_id(self) -> int:
        """Return the chat the message is in."""
        return int(self.data["chat"]["id"])

    @property
    def message_id(self) -> int:
        """Return the message's id in its chat."""
        return int(self.data["message_id"])

    @property
    def text(self) -> str:
        """Return the text or caption as the person sees it (HTML already parsed)."""
        value = self.data.get("text", self.data.get("caption", ""))
        return value if isinstance(value, str) else ""

    @property
    def buttons(self) -> Rows:
        """Return the inline keyboard as rows of (label, callback_data)."""
        return _inline_rows(self.data.get("reply_markup")) or []

    @property
    def keyboard(self) -> list[list[str]]:
        """Return the reply keyboard (the buttons under the text field) sent with it."""
        markup = self.markup or {}
        rows = markup.get("keyboard", [])
        return [[b if isinstance(b, str) else str(b.get("text")) for b in row] for row in rows]

    def __str__(self) -> str:
        """Summarise the message on one line."""
        who = "bot" if self.from_bot else f"user {self.data.get('from', {}).get('id')}"
        text = self.text.replace("\n", " ⏎ ")
        if len(text) > 120:
            text = text[:119] + "…"
        labels = [label for row in self.buttons for label, _ in row]
        extra = f" {labels}" if labels else ""
        return f"#{self.message_id} {who}: {text or '<' + _content_kind(self.data) + '>'}{extra}"


@dataclass(slots=True)
class _Fault:
    method: str
    kind: str  # "fail" or "hang"
    remaining: int
    chat_id: int | None = None  # only calls to this chat
    body: JSON = field(default_factory=dict)
    seconds: float | None = 0.0  # None: until the client hangs up
    deliver: bool = True


@dataclass(slots=True)
class _Poll:
    call: Call
    terminated: bool = False


@dataclass(slots=True)
class _Request:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes

    @property
    def closes(self) -> bool:
        return self.headers.get("connection", "").lower() == "close"


class User:
    """A person on Telegram; their private chat with the bot has their user id as chat id."""

    def __init__(
        self,
        server: BotApiServer,
        user_id: int,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str = "en",
    ) -> None:
        """Create a person (use ``BotApiServer.user``)."""
        self.server = server
        self.user_id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code
        self.started = False  # has written to the bot, so the bot may write to them
        self.blocked = False

    @property
    def chat_id(self) -> int:
        """Return the id of their private chat with the bot."""
        return self.user_id

    def to_dict(self) -> JSON:
        """Return the User object Telegram sends for this person."""
        data: JSON = {"id": self.user_id, "is_bot": False, "first_name": self.first_name}
        if self.last_name is not None:
            data["last_name"] = self.last_name
        if self.username is not None:
            data["username"] = self.username
        data["language_code"] = self.language_code
        return data

    def chat_dict(self) -> JSON:
        """Return the Chat object of their private chat."""
        chat: JSON = {"id": self.user_id, "type": "private", "first_name": self.first_name}
        if self.last_name is not None:
            chat["last_name"] = self.last_name
        if self.username is not None:
            chat["username"] = self.username
        return chat

    def send_text(
        self,
        text: str,
        *,
        chat: Group | None = None,
        reply_to: Message | int | None = None,
        thread_id: int | None = None,
    ) -> JSON:
        """Send a text message (a leading /command gets its entity); return the update.

        ``reply_to`` (a Message or a message id in that chat) makes it a reply, as staff do
        when they answer a case card in the group.
        """
        content: JSON = {"text": text}
        if text.startswith("/") and len(text) > 1 and not text[1].isspace():
            length = len(text.split(maxsplit=1)[0].encode("utf-16-le")) // 2
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return self._send(content, chat=chat, reply_to=reply_to, thread_id=thread_id)

    def command(
        self,
        command: str,
        *args: str,
        chat: Group | None = None,
        mention: bool = False,
        thread_id: int | None = None,
    ) -> JSON:
        """Send ``/command args`` (``/command@bot`` with ``mention``); return the update."""
        name = "/" + command.removeprefix("/")
        if mention:
            name += "@" + self.server.username
        return self.send_text(" ".join([name, *args]), chat=chat, thread_id=thread_id)

    def press(
        self, label: str, *, chat: Group | None = None, message: Message | None = None
    ) -> JSON:
        """Press the newest inline button labelled ``label`` (in ``message`` if given)."""
        target = chat if chat is not None else self
        if message is not None:
            candidates = [message]
        else:
            candidates = [m for m in reversed(self.server.messages(target)) if not m.deleted]
        for candidate in candidates:
            for row in candidate.buttons:
                for text, data in row:
                    if text == label and data is not None:
                        return self.server.press(self, candidate, data)
        shown = [[t for t, _ in row] for m in candidates[:3] for row in m.buttons]
        raise AssertionError(
            f"no inline button {label!r} in chat {target.chat_id}; newest buttons: {shown}"
            f"\n\n{self.server.describe()}"
        )

    def share_contact(self, phone_number: str, *, own: bool = True) -> JSON:
        """Share a phone number with the contact button (``own``: their own number)."""
        contact: JSON = {"phone_number": phone_number, "first_name": self.first_name}
        if self.last_name is not None:
            contact["last_name"] = self.last_name
        if own:
            contact["user_id"] = self.user_id
        return self._send({"contact": contact})

    def send_photo(
        self, file_id: str, *, caption: str | None = None, chat: Group | None = None
    ) -> JSON:
        """Send a photo (two sizes, the larger one ``file_id``), as Telegram delivers it."""
        unique = f"u-{file_id}"[:32]
        sizes = [
            {"file_id": f"{file_id}-s", "file_unique_id": f"{unique}-s", "width": 90, "height": 90},
            {"file_id": file_id, "file_unique_id": unique, "width": 1280, "height": 960},
        ]
        content: JSON = {"photo": sizes}
        if caption is not None:
            content["caption"] = caption
        return self._send(content, chat=chat)

    def send_document(
        self,
        file_id: str,
        file_name: str = "letter.pdf",
        mime_type: str = "application/pdf",
        *,
        caption: str | None = None,
        chat: Group | None = None,
    ) -> JSON:
        """Send a document."""
        document: JSON = {
            "file_id": file_id,
            "file_unique_id": f"u-{file_id}"[:32],
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": 12_345,
        }
        content: JSON = {"document": document}
        if caption is not None:
            content["caption"] = caption
        return self._send(content, chat=chat)

    def send_sticker(self, *, chat: Group | None = None) -> JSON:
        """Send a sticker."""
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
        return self._send({"sticker": sticker}, chat=chat)

    def block(self) -> None:
        """Block the bot: sending to this person now fails with 403."""
        self.blocked = True

    def messages(self) -> list[Message]:
        """Return the bot's messages in the private chat, oldest first."""
        return self.server.messages(self)

    async def wait_for_text(self, substring: str, timeout: float = 10.0) -> Message:  # noqa: ASYNC109
        """Wait for the bot's next message in the private chat that contains ``substring``."""
        return await self.server.wait_for_text(self, substring, timeout=timeout)

    def _send(
        self,
        content: JSON,
        *,
        chat: Group | None = None,
        reply_to: Message | int | None = None,
        thread_id: int | None = None,
    ) -> JSON:
        if chat is None:
            self.started = True
            chat_json = self.chat_dict()
        else:
            chat_json = chat.to_dict()
        message = self.server.user_message(self, chat_json, content, reply_to, thread_id)
        return self.server.push("message", message)


class Group:
    """A group chat (negative id) the bot is in, such as the office's staff group."""

    def __init__(
        self,
        server: BotApiServer,
        chat_id: int,
        title: str,
        *,
        chat_type: str = "supergroup",
        forum: bool = False,
    ) -> None:
        """Create a group (use ``BotApiServer.group``)."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        self.server = server
        self.chat_id = chat_id
        self.title = title
        self.chat_type = chat_type
        self.forum = forum
        self.members: dict[int, User] = {}
        self.bot_is_member = True

    def to_dict(self) -> JSON:
        """Return the Chat object of the group."""
        chat: JSON = {"id": self.chat_id, "type": self.chat_type, "title": self.title}
        if self.forum:
            chat["is_forum"] = True
        return chat

    def add(self, *users: User) -> None:
        """Make ``users`` members of the group."""
        for user in users:
            self.members[user.user_id] = user

    def messages(self) -> list[Message]:
        """Return the bot's messages in the group, oldest first."""
        return self.server.messages(self)

    async def wait_for_text(self, substring: str, timeout: float = 10.0) -> Message:  # noqa: ASYNC109
        """Wait for the bot's next message in the group that contains ``substring``."""
        return await self.server.wait_for_text(self, substring, timeout=timeout)


ChatRef: TypeAlias = int | User | Group


def _chat_id_of(chat: ChatRef) -> int:
    return chat if isinstance(chat, int) else chat.chat_id


class BotApiServer:
    """A Bot API server on 127.0.0.1 for one bot token (see the module docstring)."""

    def __init__(
        self, token: str = TOKEN, *, username: str = "OfficeTestBot", name: str = "Office bot"
    ) -> None:
        """Prepare the server; ``start()`` (or ``async with``) binds the port."""
        self.token = token
        self.username = username
        self.bot_user: JSON = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": name,
            "username": username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.port = 0
        self.allowed_updates: frozenset[str] = DEFAULT_ALLOWED
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.unexpected: list[Call] = []  # methods or paths the server does not implement
        self.rejected: list[Call] = []  # calls answered with a (non-injected) Telegram error
        self.conflicts: list[Call] = []  # getUpdates ended by a newer one from a live client
        self.dropped: list[JSON] = []  # updates not delivered because of allowed_updates
        self.diagnostics: list[Callable[[], str]] = []  # more context for timeout messages
        self.abort_checks: list[Callable[[], str | None]] = []  # reasons to stop waiting
        self._calls: list[Call] = []
        self._updates: list[JSON] = []  # pushed, not yet confirmed by an offset
        self._update_ids = itertools.count(700_000_001)
        self._user_ids = itertools.count(5_000_001)
        self._group_ids = itertools.count(1)
        self._query_ids = itertools.count(4_100_000_000_000_000_001)
        self._file_ids = itertools.count(1)
        self._queries: dict[str, JSON] = {}
        self._chats: dict[int, User | Group] = {}
        self._messages: dict[int, dict[int, Message]] = {}
        self._last_message_id: dict[int, int] = {}
        self._cursors: dict[int, int] = {}
        self._faults: list[_Fault] = []
        self._polls: list[_Poll] = []
        self._changed = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None
        self._methods: dict[str, Callable[[Call], Any]] = {
            "getMe": lambda call: copy.deepcopy(self.bot_user),
            "deleteWebhook": lambda call: True,
            "close": lambda call: True,
            "logOut": lambda call: True,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "editMessageText": self._edit_text,
            "editMessageCaption": self._edit_caption,
            "editMessageReplyMarkup": self._edit_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_query,
            "setMyCommands": self._set_commands,
            "deleteMyCommands": self._delete_commands,
            "sendChatAction": self._chat_action,
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
        }

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on an ephemeral port of 127.0.0.1."""
        self._server = await asyncio.start_server(self._on_connection, LOOPBACK, 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        """Stop listening and drop every connection (waiting requests are abandoned)."""
        if self._server is None:
            return
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None

    async def __aenter__(self) -> BotApiServer:
        """Start the server."""
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Close the server."""
        await self.close()

    @property
    def base_url(self) -> str:
        """Return the URL to give the bot as TELEGRAM_API_BASE_URL."""
        return f"http://{LOOPBACK}:{self.port}/bot"

    # -- people and chats ----------------------------------------------------------------------

    def user(
        self,
        first_name: str = "Ada",
        last_name: str | None = "Lovelace",
        *,
        user_id: int | None = None,
        username: str | None = None,
    ) -> User:
        """Return a new person with a private chat with the bot."""
        person = User(self, user_id or next(self._user_ids), first_name, last_name, username)
        if person.user_id in self._chats:
            raise ValueError(f"chat {person.user_id} exists already")
        self._chats[person.user_id] = person
        return person

    def group(
        self,
        title: str = "Casework staff",
        *,
        chat_id: int | None = None,
        members: Iterable[User] = (),
        forum: bool = False,
    ) -> Group:
        """Return a new supergroup with the bot in it and ``members``."""
        chat_id = chat_id or -1_001_000_000_000 - next(self._group_ids)
        if chat_id in self._chats:
            raise ValueError(f"chat {chat_id} exists already")
        made = Group(self, chat_id, title, forum=forum)
        made.add(*members)
        self._chats[chat_id] = made
        return made

    def user_message(
        self,
        sender: User,
        chat: JSON,
        content: JSON,
        reply_to: Message | int | None = None,
        thread_id: int | None = None,
    ) -> JSON:
        """Store and return a message ``sender`` writes in ``chat``."""
        chat_id = int(chat["id"])
        data: JSON = {
            "message_id": self._next_message_id(chat_id),
            "from": sender.to_dict(),
            "chat": copy.deepcopy(chat),
            "date": int(time.time()),
            **copy.deepcopy(content),
        }
        if thread_id is not None:
            data["message_thread_id"] = thread_id
            data["is_topic_message"] = True
        if isinstance(reply_to, int):
            found = self._message(chat_id, reply_to)
            if found is None:
                raise ValueError(f"no message {reply_to} in chat {chat_id} to reply to")
            reply_to = found
        if reply_to is not None:
            data["reply_to_message"] = _without_reply(reply_to.data)
        self._store(Message(data, from_bot=False, sent_at=time.monotonic()))
        return copy.deepcopy(data)

    def press(self, sender: User, message: Message, data: str) -> JSON:
        """Push the callback query of ``sender`` pressing a button with ``data`` on ``message``."""
        query_id = str(next(self._query_ids))
        self._queries[query_id] = {"from": sender.user_id, "data": data, "answered": None}
        query: JSON = {
            "id": query_id,
            "from": sender.to_dict(),
            "message": copy.deepcopy(message.data),
            "chat_instance": str(abs(message.chat_id) * 7 + 3),
            "data": data,
        }
        return self.push("callback_query", query)

    def push(self, kind: str, payload: JSON) -> JSON:
        """Queue an update of ``kind`` (message, callback_query, ...) for getUpdates."""
        update: JSON = {"update_id": next(self._update_ids), kind: copy.deepcopy(payload)}
        self._updates.append(update)
        self._notify()
        return copy.deepcopy(update)

    @property
    def pending_updates(self) -> list[JSON]:
        """Return the updates not yet confirmed by a getUpdates offset."""
        return copy.deepcopy(self._updates)

    @property
    def polling(self) -> bool:
        """Tell whether a getUpdates long poll is waiting for updates right now."""
        return any(not poll.call.abandoned for poll in self._polls)

    def unanswered_queries(self) -> list[str]:
        """Return the ids of button presses the bot has not answered."""
        return [qid for qid, query in self._queries.items() if query["answered"] is None]

    # -- what the bot did ----------------------------------------------------------------------

    def calls(self, method: str | None = None, *, since: int = 0) -> list[Call]:
        """Return the recorded calls (from index ``since``), optionally of one method."""
        return [c for c in self._calls[since:] if method is None or c.method == method]

    def mark(self) -> int:
        """Return a position in the call record, for ``calls(since=...)``."""
        return len(self._calls)

    def messages(self, chat: ChatRef, *, from_bot: bool = True) -> list[Message]:
        """Return the messages in a chat, oldest first: the bot's (default) or everyone's."""
        found = self._messages.get(_chat_id_of(chat), {}).values()
        return [m for m in found if m.from_bot or not from_bot]

    def texts(self, chat: ChatRef) -> list[str]:
        """Return the texts of the bot's messages in a chat as now shown, oldest first."""
        return [m.text for m in self.messages(chat) if not m.deleted]

    def describe(self, limit: int = 25) -> str:
        """Return the last calls, pending updates and diagnostics, for failure messages."""
        lines = [f"last {limit} Bot API calls (of {len(self._calls)}):"]
        lines += [f"  {call}" for call in self._calls[-limit:]]
        lines.append(f"updates not confirmed: {[u['update_id'] for u in self._updates]}")
        for extra in self.diagnostics:
            lines.append(extra())
        return "\n".join(lines)

    # -- waiting -------------------------------------------------------------------------------

    async def wait_until(
        self,
        predicate: Callable[[], bool],
        *,
        timeout: float = 10.0,  # noqa: ASYNC109
        what: str = "a condition",
    ) -> None:
        """Wait until ``predicate()`` holds, re-checking after every call and update."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            for check in self.abort_checks:
                reason = check()
                if reason is not None:
                    raise AssertionError(f"{reason} while waiting for {what}\n\n{self.describe()}")
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(
                    f"timed out after {timeout:g} s waiting for {what}\n\n{self.describe()}"
                )
            # Calls and updates wake this at once; the re-check is for conditions that change
            # elsewhere (the bot's database) and would otherwise be seen up to a slice late.
            await self._wait_changed(min(remaining, _RECHECK))

    async def wait_for_text(self, chat: ChatRef, substring: str, timeout: float = 10.0) -> Message:  # noqa: ASYNC109
        """Wait for the bot's next message in ``chat`` that contains ``substring``.

        Messages are taken in order: each chat has a cursor after the last message returned,
        and messages before the match that do not contain ``substring`` are passed over.
        """
        chat_id = _chat_id_of(chat)
        found: list[Message] = []

        def arrived() -> bool:
            sent = self.messages(chat_id)
            for index in range(self._cursors.get(chat_id, 0), len(sent)):
                if substring in sent[index].text:
                    self._cursors[chat_id] = index + 1
                    found.append(sent[index])
                    return True
            return False

        try:
            await self.wait_until(arrived, timeout=timeout, what=f"{substring!r} in {chat_id}")
        except AssertionError as error:
            unread = self.messages(chat_id)[self._cursors.get(chat_id, 0) :]
            shown = "\n".join(f"  {m}" for m in unread) or "  (none)"
            raise AssertionError(
                f"{error}\n\nbot messages since the last match:\n{shown}"
            ) from None
        return found[0]

    async def wait_for_call(
        self,
        method: str,
        *,
        since: int = 0,
        answered: bool = True,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> Call:
        """Wait for a call of ``method`` recorded from ``since`` (answered, by default)."""
        found: list[Call] = []

        def arrived() -> bool:
            for call in self.calls(method, since=since):
                if call.status is not None or call.abandoned or not answered:
                    found.append(call)
                    return True
            return False

        await self.wait_until(arrived, timeout=timeout, what=f"a {method} call")
        return found[0]

    async def wait_confirmed(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until the bot has confirmed (by offset) every update pushed so far."""
        await self.wait_until(
            lambda: not self._updates, timeout=timeout, what="every update to be confirmed"
        )

    # -- faults --------------------------------------------------------------------------------

    def fail(
        self,
        method: str,
        status: int = 500,
        *,
        times: int = 1,
        retry_after: int | None = None,
        description: str | None = None,
        chat: ChatRef | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` (to ``chat``) with a Telegram error.

        ``status`` 429 says "Too Many Requests: retry after N" with ``retry_after`` (default 1)
        in ``parameters``, as Telegram does. Faults for a method are used in the order given.
        """
        parameters: JSON = {}
        if status == HTTPStatus.TOO_MANY_REQUESTS:
            retry_after = retry_after or 1
            description = description or f"Too Many Requests: retry after {retry_after}"
        if retry_after is not None:
            parameters["retry_after"] = retry_after
        if description is None:
            description = _ERROR_DESCRIPTIONS.get(status) or HTTPStatus(status).phrase
        body = _ApiError(status, description, parameters).body
        chat_id = None if chat is None else _chat_id_of(chat)
        self._faults.append(_Fault(method, "fail", times, chat_id, body=body))

    def hang(
        self,
        method: str,
        seconds: float | None = None,
        *,
        times: int = 1,
        deliver: bool = True,
        chat: ChatRef | None = None,
    ) -> None:
        """Hold the next ``times`` calls of ``method`` (to ``chat``) before answering.

        Without ``seconds`` a call is held until its client gives up and hangs up: a request
        that timed out, whatever timeouts the bot runs with, and no longer than they take.
        With ``seconds`` it is held that long (past the client's timeout, or a slow answer).
        With ``deliver`` the call then takes effect (a message sent late is in the chat), as
        when Telegram did the work but the answer never reached the bot; a held getUpdates
        whose client has gone does nothing (it never confirms updates).
        """
        chat_id = None if chat is None else _chat_id_of(chat)
        fault = _Fault(method, "hang", times, chat_id, seconds=seconds, deliver=deliver)
        self._faults.append(fault)

    def clear_faults(self, method: str | None = None) -> int:
        """Drop the unused injected faults (of ``method``, if given): Telegram has recovered.

        Return how many calls they would still have shaped. A call already being held by a
        hang is not affected.
        """
        kept = [f for f in self._faults if method is not None and f.method != method]
        dropped = sum(f.remaining for f in self._faults) - sum(f.remaining for f in kept)
        self._faults = kept
        return dropped

    @property
    def faults_pending(self) -> int:
        """Return how many injected faults are still waiting for their calls."""
        return sum(fault.remaining for fault in self._faults)

    def _take_fault(self, call: Call) -> _Fault | None:
        for fault in self._faults:
            if fault.method == call.method and fault.chat_id in (None, call.chat_id):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    # -- HTTP ----------------------------------------------------------------------------------

    async def _on_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            while True:
                try:
                    request = await _read_request(reader)
                except _BadHttpError as error:
                    writer.write(_http(400, {"ok": False, "description": str(error)}, close=True))
                    await writer.drain()
                    return
                if request is None:
                    return
                answer = await self._handle(request, reader)
                if answer is None:
                    return
                status, body = answer
                writer.write(_http(status, body, close=request.closes))
                await writer.drain()
                if request.closes:
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        except asyncio.CancelledError:
            # Only close() cancels these tasks. Ending quietly rather than as cancelled spares
            # asyncio's stream callback (Python 3.11) from logging a CancelledError.
            return
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _handle(
        self, request: _Request, reader: asyncio.StreamReader
    ) -> tuple[int, JSON] | None:
        url = urlsplit(request.target)
        matched = re.fullmatch(r"/bot([^/]+)/([A-Za-z]+)", url.path)
        problem: str | None = None
        try:
            params, files = _parse_params(request, url.query)
        except ValueError as error:
            params, files, problem = {}, {}, str(error)
        call = Call(
            method=matched.group(2) if matched else url.path,
            params=params,
            time=time.monotonic(),
            http_method=request.method,
            content_type=request.headers.get("content-type", ""),
            files=files,
        )
        self._calls.append(call)
        self._notify()
        if problem is not None:
            self.rejected.append(call)
            answer: tuple[int, JSON] | None = (400, _ApiError(400, f"Bad Request: {problem}").body)
        else:
            answer = await self._answer(call, matched, reader)
        if answer is not None:
            call.status, call.answer = answer
            call.answered_at = time.monotonic()
        if answer is None or self._gone(call, reader):
            call.abandoned = True
            answer = None
        self._notify()
        return answer

    async def _answer(
        self, call: Call, matched: re.Match[str] | None, reader: asyncio.StreamReader
    ) -> tuple[int, JSON] | None:
        if matched is None:
            self.unexpected.append(call)
            return 404, _ApiError(404, "Not Found").body
        if matched.group(1) != self.token:
            self.unexpected.append(call)
            return 401, _ApiError(401, "Unauthorized").body
        fault = self._take_fault(call)
        if fault is not None and fault.kind == "fail":
            call.fault = "fail"
            return int(fault.body["error_code"]), copy.deepcopy(fault.body)
        long_poll = True
        if fault is not None:
            call.fault = "hang"
            if fault.seconds is None:
                gone = await self._hold(call, reader, _HANG_LIMIT, until_gone=True)
            else:
                gone = await self._hold(call, reader, fault.seconds)
            if gone and (call.method == "getUpdates" or not fault.deliver):
                return None
            long_poll = False
        return await self._perform(call, reader, long_poll=long_poll)

    async def _hold(
        self, call: Call, reader: asyncio.StreamReader, seconds: float, *, until_gone: bool = False
    ) -> bool:
        """Wait ``seconds`` (or until the client hangs up); return whether it hung up."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while (remaining := deadline - loop.time()) > 0:
            if self._gone(call, reader) and until_gone:
                return True
            await asyncio.sleep(min(remaining, _POLL_SLICE))
        return self._gone(call, reader)

    def _gone(self, call: Call, reader: asyncio.StreamReader) -> bool:
        """Tell whether the client of ``call`` has hung up, recording it on the call."""
        if reader.at_eof() and not call.abandoned:
            call.abandoned = True
            self._notify()
        return call.abandoned

    async def _perform(
        self, call: Call, reader: asyncio.StreamReader, *, long_poll: bool
    ) -> tuple[int, JSON] | None:
        try:
            if call.method == "getUpdates":
                updates = await self._get_updates(call, reader, long_poll=long_poll)
                if updates is None:
                    return None
                return 200, {"ok": True, "result": updates}
            handler = self._methods.get(call.method)
            if handler is None:
                self.unexpected.append(call)
                return 404, _ApiError(404, "Not Found: method not implemented").body
            return 200, {"ok": True, "result": handler(call)}
        except _ApiError as error:
            if error.status == HTTPStatus.CONFLICT:
                self.conflicts.append(call)
            else:
                self.rejected.append(call)
            return error.status, error.body
        except (KeyError, TypeError, ValueError) as error:
            self.rejected.append(call)
            return 400, _ApiError(400, f"Bad Request: {type(error).__name__}: {error}").body

    # -- getUpdates ----------------------------------------------------------------------------

    async def _get_updates(
        self, call: Call, reader: asyncio.StreamReader, *, long_poll: bool
    ) -> list[JSON] | None:
        params = call.params
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = float(params.get("timeout") or 0) if long_poll else 0.0
        allowed = params.get("allowed_updates")
        if allowed is not None:
            if not isinstance(allowed, list):
                raise _ApiError(400, "Bad Request: can't parse allowed updates")
            self.allowed_updates = frozenset(allowed) or DEFAULT_ALLOWED
        self._confirm(offset)
        for other in self._polls:
            other.terminated = True
        poll = _Poll(call)
        self._polls.append(poll)
        self._notify()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            while True:
                if self._gone(call, reader):
                    return None
                if poll.terminated:
                    # A client that hung up (cancelled poll, killed process) is no conflict;
                    # give its end of the connection a moment to arrive.
                    if await self._hold(call, reader, 0.5, until_gone=True):
                        return None
                    raise _ApiError(409, _CONFLICT)
                ready = self._deliverable(limit)
                remaining = deadline - loop.time()
                if ready or remaining <= 0:
                    return ready
                await self._wait_changed(min(remaining, _POLL_SLICE))
        finally:
            self._polls.remove(poll)

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]

    def _deliverable(self, limit: int) -> list[JSON]:
        ready: list[JSON] = []
        for update in list(self._updates):
            if _update_kind(update) not in self.allowed_updates:
                self._updates.remove(update)
                self.dropped.append(update)
                continue
            ready.append(copy.deepcopy(update))
            if len(ready) >= limit:
                break
        return ready

    # -- methods -------------------------------------------------------------------------------

    def _send_message(self, call: Call) -> JSON:
        chat = self._writable_chat(call.params)
        text = call.params.get("text")
        shown = _parse_text(text, call.params.get("parse_mode"), 4096, "message text")
        return self._new_bot_message(chat, call, {"text": shown}, text)

    def _send_photo(self, call: Call) -> JSON:
        chat = self._writable_chat(call.params)
        file_id, _ = self._file_param(call, "photo")
        unique = f"u-{file_id}"[:32]
        sizes = [
            {"file_id": f"{file_id}-s", "file_unique_id": f"{unique}-s", "width": 90, "height": 90},
            {"file_id": file_id, "file_unique_id": unique, "width": 800, "height": 600},
        ]
        return self._new_bot_message(chat, call, {"photo": sizes, **self._caption(call)})

    def _send_document(self, call: Call) -> JSON:
        chat = self._writable_chat(call.params)
        file_id, upload = self._file_param(call, "document")
        document: JSON = {"file_id": file_id, "file_unique_id": f"u-{file_id}"[:32]}
        if upload is not None:
            document["file_size"] = len(upload.data)
            if upload.filename:
                document["file_name"] = upload.filename
            if upload.content_type:
                document["mime_type"] = upload.content_type
        return self._new_bot_message(chat, call, {"document": document, **self._caption(call)})

    def _caption(self, call: Call) -> JSON:
        caption = call.params.get("caption")
        if caption is None or caption == "":
            return {}
        shown = _parse_text(caption, call.params.get("parse_mode"), 1024, "message caption")
        return {"caption": shown}

    def _file_param(self, call: Call, kind: str) -> tuple[str, Upload | None]:
        value = call.params.get(kind)
        upload = call.files.get(kind)
        if isinstance(value, str) and value.startswith("attach://"):
            upload = call.files.get(value.removeprefix("attach://"))
        if upload is not None:
            return f"uploaded-{kind}-{next(self._file_ids)}", upload
        if isinstance(value, str) and value:
            return value, None
        raise _ApiError(400, f"Bad Request: there is no {kind} in the request")

    def _new_bot_message(
        self, chat: User | Group, call: Call, content: JSON, html: str | None = None
    ) -> JSON:
        params = call.params
        markup = params.get("reply_markup")
        _check_markup(markup)
        data: JSON = {
            "message_id": 0,
            "from": copy.deepcopy(self.bot_user),
            "chat": chat.to_dict() if isinstance(chat, Group) else chat.chat_dict(),
            "date": int(time.time()),
            **content,
        }
        thread_id = params.get("message_thread_id")
        if thread_id is not None:
            data["message_thread_id"] = thread_id
            data["is_topic_message"] = True
        reply = params.get("reply_parameters")
        reply = reply if isinstance(reply, dict) else {}
        reply_id = reply.get("message_id") or params.get("reply_to_message_id")
        if reply_id is not None:
            replied = self._message(chat.chat_id, int(reply_id))
            if replied is not None and not replied.deleted:
                data["reply_to_message"] = _without_reply(replied.data)
            elif not reply.get("allow_sending_without_reply"):
                raise _ApiError(400, "Bad Request: message to be replied not found")
        if _inline_rows(markup):
            data["reply_markup"] = markup
        data["message_id"] = self._next_message_id(chat.chat_id)  # only once the call is valid
        sent = Message(
            data,
            from_bot=True,
            html=html,
            markup=markup if isinstance(markup, dict) else None,
            sent_at=time.monotonic(),
        )
        self._store(sent)
        return copy.deepcopy(data)

    def _edit_text(self, call: Call) -> JSON | bool:
        message = self._editable(call.params)
        text = call.params.get("text")
        shown = _parse_text(text, call.params.get("parse_mode"), 4096, "message text")
        return self._apply_edit(message, call, {"text": shown}, text)

    def _edit_caption(self, call: Call) -> JSON | bool:
        message = self._editable(call.params)
        caption = call.params.get("caption") or ""
        content = self._caption(call) if caption else {"caption": ""}
        return self._apply_edit(message, call, content, caption)

    def _edit_markup(self, call: Call) -> JSON | bool:
        message = self._editable(call.params)
        return self._apply_edit(message, call, {}, message.html)

    def _apply_edit(self, message: Message, call: Call, content: JSON, html: str | None) -> JSON:
        markup = call.params.get("reply_markup")
        _check_markup(markup)
        if markup is not None and _inline_rows(markup) is None:
            raise _ApiError(400, "Bad Request: inline keyboard expected")
        edited = copy.deepcopy(message.data)
        edited.pop("reply_markup", None)
        edited.pop("edit_date", None)
        edited.update(content)
        if _inline_rows(markup):
            edited["reply_markup"] = markup
        before = {k: v for k, v in message.data.items() if k != "edit_date"}
        if edited == before:
            raise _ApiError(400, _NOT_MODIFIED)
        edited["edit_date"] = int(time.time())
        message.data = edited
        message.html = html
        message.markup = markup if isinstance(markup, dict) else None
        message.edits += 1
        return copy.deepcopy(edited)

    def _editable(self, params: JSON) -> Message:
        if "inline_message_id" in params:
            raise _ApiError(400, "Bad Request: MESSAGE_ID_INVALID")
        chat = self._known_chat(params)
        message = self._message(chat.chat_id, int(params["message_id"]))
        if message is None or message.deleted:
            raise _ApiError(400, "Bad Request: message to edit not found")
        if not message.from_bot:
            raise _ApiError(400, "Bad Request: message can't be edited")
        return message

    def _delete_message(self, call: Call) -> bool:
        chat = self._known_chat(call.params)
        message = self._message(chat.chat_id, int(call.params["message_id"]))
        if message is None or message.deleted:
            raise _ApiError(400, "Bad Request: message to delete not found")
        if not message.from_bot and isinstance(chat, User):
            raise _ApiError(400, "Bad Request: message can't be deleted")
        message.deleted = True
        return True

    def _answer_query(self, call: Call) -> bool:
        query = self._queries.get(str(call.params.get("callback_query_id")))
        if query is None or query["answered"] is not None:
            raise _ApiError(400, _QUERY_INVALID)
        text = call.params.get("text")
        if isinstance(text, str) and len(text) > 200:
            raise _ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        query["answered"] = {"text": text, "show_alert": bool(call.params.get("show_alert"))}
        return True

    def _set_commands(self, call: Call) -> bool:
        commands = call.params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _ApiError(400, "Bad Request: can't parse commands JSON object")
        for command in commands:
            name = command.get("command") if isinstance(command, dict) else None
            if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise _ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            description = command.get("description")
            if not isinstance(description, str) or not 1 <= len(description) <= 256:
                raise _ApiError(400, "Bad Request: command description is empty or too long")
        self.commands[_commands_key(call.params)] = commands
        return True

    def _delete_commands(self, call: Call) -> bool:
        self.commands.pop(_commands_key(call.params), None)
        return True

    def _chat_action(self, call: Call) -> bool:
        self._writable_chat(call.params)
        return True

    def _get_chat(self, call: Call) -> JSON:
        chat = self._known_chat(call.params)
        found = chat.to_dict() if isinstance(chat, Group) else chat.chat_dict()
        gifts = dict.fromkeys(
            ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription"), False
        )
        gifts["gifts_from_channels"] = False
        return {
            **found,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": gifts,
        }

    def _get_chat_member(self, call: Call) -> JSON:
        # This server has no forum topics: the bot is a plain member (the bot runs flat).
        self._known_chat(call.params)
        user_id = call.params.get("user_id")
        user = self.bot_user if user_id == self.bot_user["id"] else {"id": user_id, "is_bot": False}
        return {"status": "member", "user": {"first_name": "Member", **copy.deepcopy(user)}}

    # -- chats and messages --------------------------------------------------------------------

    def _known_chat(self, params: JSON) -> User | Group:
        chat_id = params.get("chat_id")
        chat = self._chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise _ApiError(400, "Bad Request: chat not found")
        return chat

    def _writable_chat(self, params: JSON) -> User | Group:
        chat = self._known_chat(params)
        if isinstance(chat, User):
            if chat.blocked:
                raise _ApiError(403, "Forbidden: bot was blocked by the user")
            if not chat.started:
                raise _ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        elif not chat.bot_is_member:
            raise _ApiError(403, f"Forbidden: bot is not a member of the {chat.chat_type} chat")
        return chat

    def _next_message_id(self, chat_id: int) -> int:
        self._last_message_id[chat_id] = self._last_message_id.get(chat_id, 0) + 1
        return self._last_message_id[chat_id]

    def _message(self, chat_id: int, message_id: int) -> Message | None:
        return self._messages.get(chat_id, {}).get(message_id)

    def _store(self, message: Message) -> None:
        self._messages.setdefault(message.chat_id, {})[message.message_id] = message

    # -- events --------------------------------------------------------------------------------

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_changed(self, seconds: float) -> None:
        event = self._changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), seconds)


# -- HTTP helpers ------------------------------------------------------------------------------


async def _read_request(reader: asyncio.StreamReader) -> _Request | None:
    """Read one HTTP/1.1 request; None when the client closed the connection between requests."""
    line = await reader.readline()
    if not line:
        return None
    parts = line.decode("latin-1").split()
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise _BadHttpError(f"bad request line {line[:80]!r}")
    headers: dict[str, str] = {}
    while True:
        header = await reader.readline()
        if header in (b"\r\n", b"\n"):
            break
        if not header:
            raise asyncio.IncompleteReadError(header, None)
        name, sep, value = header.decode("latin-1").partition(":")
        if not sep:
            raise _BadHttpError(f"bad header {header[:80]!r}")
        headers[name.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = b""
        while True:
            size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                    pass
                break
            body += await reader.readexactly(size)
            await reader.readexactly(2)
    else:
        body = await reader.readexactly(int(headers.get("content-length") or 0))
    return _Request(parts[0].upper(), parts[1], headers, body)


def _http(status: int, body: JSON, *, close: bool = False) -> bytes:
    payload = json.dumps(body, ensure_ascii=False).encode()
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Error"
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Server: e2e-bot-api\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\n"
        f"Connection: {'close' if close else 'keep-alive'}\r\n\r\n"
    )
    return head.encode("latin-1") + payload


def _parse_params(request: _Request, query: str) -> tuple[JSON, dict[str, Upload]]:
    """Return the call's parameters (query string and body) and its uploaded files."""
    fields: list[tuple[str, str]] = parse_qsl(query, keep_blank_values=True)
    files: dict[str, Upload] = {}
    content_type = request.headers.get("content-type", "").lower()
    params: JSON = {}
    if request.body and content_type.startswith("application/json"):
        decoded = json.loads(request.body)
        if not isinstance(decoded, dict):
            raise ValueError("the JSON body is not an object")
        params.update(decoded)
    elif request.body and content_type.startswith("multipart/form-data"):
        head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode("latin-1")
        parsed = BytesParser(policy=policy.HTTP).parsebytes(head + request.body)
        if not isinstance(parsed, EmailMessage) or not parsed.is_multipart():
            raise ValueError("can't parse the multipart body")
        for part in parsed.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if not isinstance(name, str):
                raise ValueError("a multipart part has no name")
            payload = part.get_payload(decode=True)
            data = payload if isinstance(payload, bytes) else b""
            filename = part.get_filename()
            if filename is not None or part.get_content_type() != "text/plain":
                files[name] = Upload(filename, part.get_content_type(), data)
            else:
                fields.append((name, data.decode(part.get_content_charset() or "utf-8")))
    elif request.body:
        fields += parse_qsl(request.body.decode("utf-8"), keep_blank_values=True)
    for name, value in fields:
        params[name] = _decode_field(name, value)
    return params, files


def _decode_field(name: str, value: str) -> Any:
    """Decode a form value the way Telegram does: JSON where it parses, else the string."""
    if name in _STRING_FIELDS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


# -- Telegram rules ----------------------------------------------------------------------------


class _TelegramHtml(HTMLParser):
    """Parse text in Telegram's HTML style, collecting the shown text and the first fault."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.shown: list[str] = []
        self.open: list[str] = []
        self.fault: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _HTML_TAGS:
            self.fault = self.fault or f'Unsupported start tag "{tag}"'
        elif tag == "span" and dict(attrs).get("class") != "tg-spoiler":
            self.fault = self.fault or 'Tag "span" must have class "tg-spoiler"'
        elif tag == "a" and not dict(attrs).get("href"):
            self.fault = self.fault or 'Tag "a" must have attribute "href"'
        self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.fault = self.fault or f'Unsupported start tag "{tag}"'

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            expected = f'"</{self.open[-1]}>"' if self.open else "no end tag"
            self.fault = self.fault or f'Unmatched end tag "{tag}", expected {expected}'
            return
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.shown.append(data)

    def handle_comment(self, data: str) -> None:
        self.fault = self.fault or "Unsupported comment"

    def handle_decl(self, decl: str) -> None:
        self.fault = self.fault or "Unsupported declaration"


def _parse_text(text: object, parse_mode: object, limit: int, what: str) -> str:
    """Return the text Telegram would show, or raise the error Telegram would give."""
    if not isinstance(text, str) or not text.strip():
        raise _ApiError(400, f"Bad Request: {what} is empty")
    shown = text
    if isinstance(parse_mode, str) and parse_mode.upper() == "HTML":
        parser = _TelegramHtml()
        parser.feed(text)
        parser.close()
        if parser.fault is None and parser.open:
            parser.fault = f'Can\'t find end tag corresponding to start tag "{parser.open[-1]}"'
        if parser.fault is not None:
            raise _ApiError(400, f"Bad Request: can't parse entities: {parser.fault}")
        shown = "".join(parser.shown)
    if not shown.strip():
        raise _ApiError(400, f"Bad Request: {what} is empty")
    if len(shown.encode("utf-16-le")) // 2 > limit:
        raise _ApiError(400, f"Bad Request: {what.split()[-1]} is too long")
    return shown


def _check_markup(markup: object) -> None:
    """Raise Telegram's error for a reply_markup it would refuse."""
    if markup is None:
        return
    if not isinstance(markup, dict):
        raise _ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        for row in markup["inline_keyboard"]:
            for button in row:
                if not isinstance(button.get("text"), str) or not button["text"]:
                    raise _ApiError(400, "Bad Request: BUTTON_TEXT_EMPTY")
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= 64:
                    raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    elif "keyboard" in markup:
        for row in markup["keyboard"]:
            for button in row:
                text = button if isinstance(button, str) else button.get("text")
                if not text:
                    raise _ApiError(400, "Bad Request: BUTTON_TEXT_EMPTY")
    elif not markup.get("remove_keyboard") and not markup.get("force_reply"):
        raise _ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")


def _inline_rows(markup: object) -> Rows | None:
    if not isinstance(markup, dict) or not markup.get("inline_keyboard"):
        return None
    return [
        [(str(b.get("text")), b.get("callback_data")) for b in row]
        for row in markup["inline_keyboard"]
    ]


def _commands_key(params: JSON) -> tuple[str, str]:
    scope = params.get("scope")
    kind = scope.get("type", "default") if isinstance(scope, dict) else "default"
    return str(kind), str(params.get("language_code") or "")


def _without_reply(message: JSON) -> JSON:
    return {k: copy.deepcopy(v) for k, v in message.items() if k != "reply_to_message"}


def _update_kind(update: JSON) -> str:
    return next((k for k in update if k != "update_id"), "empty")


def _content_kind(message: JSON) -> str:
    kinds = ("text", "photo", "document", "contact", "sticker", "voice", "location")
    return next((kind for kind in kinds if kind in message), "message")


# -- the bot as a separate process -------------------------------------------------------------


def office_env(
    server: BotApiServer,
    database_path: Path,
    *,
    staff: Group | None = None,
    **changes: str | None,
) -> dict[str, str]:
    """Return the whole environment for ``python -m bot`` against ``server``.

    Nothing is inherited from the test's environment except PATH (so no real token, proxy or
    .env setting leaks in). ``changes`` set (or, with None, remove) variables. With ``staff``,
    STAFF_CHAT_ID and STAFF_USER_IDS name that group and its members.
    """
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "TELEGRAM_BOT_TOKEN": server.token,
        "TELEGRAM_API_BASE_URL": server.base_url,
        "DATABASE_PATH": str(database_path),
        "CONSTITUENCY_CODE": CONSTITUENCY_CODE,
        "MP_NAME": "Jo Example",
        "OFFICE_PHONE": "01782 232 000",
        "OFFICE_EMAIL": "office@example.org",
        "OFFICE_ADDRESS": "1 Example Street, Stoke-on-Trent ST4 1AA",
        "REFERENCE_PREFIX": "SOT",
        "PTB_TIMEDELTA": "true",
        # A transcript answers in milliseconds; the flood limit has tests of its own.
        "FLOOD_MESSAGES": "1000",
        # Loopback answers in milliseconds: no need to wait as long as for Telegram.
        "TELEGRAM_POLL_TIMEOUT": "1",
        "TELEGRAM_READ_TIMEOUT": "2",
        "OUTBOX_RETRY_SECONDS": "0.1",
        # The desk listens on a port of its own: tests that want it give it a free one.
        "DESK_ENABLED": "false",
    }
    if staff is not None:
        env["STAFF_CHAT_ID"] = str(staff.chat_id)
        env["STAFF_USER_IDS"] = ",".join(
            f"{member.user_id}:{member.first_name}" for member in staff.members.values()
        )
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


@dataclass(slots=True)
class _Run:
    popen: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path
    files: tuple[IO[bytes], IO[bytes]]
    since: int  # the server's call mark when it started
    expected_exit: bool = False


class BotProcess:
    """``python -m bot`` run in ``workdir`` (no .env there) against a BotApiServer.

    Each ``start()`` is a new run of the same command, environment and database; the output
    of run N goes to ``workdir/bot-N.stdout.log`` and ``bot-N.stderr.log``.
    """

    def __init__(self, server: BotApiServer, workdir: Path, env: Mapping[str, str]) -> None:
        """Prepare to run the bot; nothing starts until ``start()``."""
        self.server = server
        self.workdir = workdir
        self.env = dict(env)
        self.runs: list[_Run] = []
        server.diagnostics.append(self._recent_logs)
        server.abort_checks.append(self._crashed)

    @property
    def running(self) -> bool:
        """Tell whether the latest run is still running."""
        return bool(self.runs) and self.runs[-1].popen.poll() is None

    @property
    def returncode(self) -> int | None:
        """Return the exit status of the latest run (None while it runs)."""
        return self.runs[-1].popen.poll() if self.runs else None

    def launch(self) -> None:
        """Start a new run without waiting for it to connect."""
        if self.running:
            raise RuntimeError("the bot is already running")
        number = len(self.runs) + 1
        stdout = self.workdir / f"bot-{number}.stdout.log"
        stderr = self.workdir / f"bot-{number}.stderr.log"
        out, err = stdout.open("wb"), stderr.open("wb")
        popen = subprocess.Popen(
            [sys.executable, "-m", "bot"],
            cwd=self.workdir,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )
        self.runs.append(_Run(popen, stdout, stderr, (out, err), self.server.mark()))

    async def start(self, timeout: float = 30.0) -> None:  # noqa: ASYNC109
        """Start a run and wait until it has called getMe, setMyCommands and getUpdates."""
        self.launch()
        since = self.runs[-1].since

        def ready() -> bool:
            calls = self.server.calls(since=since)
            done = {c.method for c in calls if c.ok}
            return {"getMe", "setMyCommands"} <= done and any(
                c.method == "getUpdates" for c in calls
            )

        await self.server.wait_until(ready, timeout=timeout, what="the bot to start polling")

    async def wait_exit(self, timeout: float = 15.0) -> int:  # noqa: ASYNC109
        """Wait (serving the Bot API meanwhile) for the latest run to exit; return its status."""
        if not self.runs:
            raise RuntimeError("the bot was never started")
        run = self.runs[-1]
        run.expected_exit = True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (code := run.popen.poll()) is None:
            if loop.time() > deadline:
                raise AssertionError(
                    f"the bot did not exit within {timeout:g} s\n\n{self.server.describe()}"
                )
            await asyncio.sleep(0.02)
        return code

    async def stop(self, timeout: float = 15.0) -> int:  # noqa: ASYNC109
        """Send SIGTERM and check the bot exits with status 0 within ``timeout``."""
        self.runs[-1].expected_exit = True
        self.runs[-1].popen.send_signal(signal.SIGTERM)
        code = await self.wait_exit(timeout)
        assert code == 0, f"the bot exited with {code} on SIGTERM\n\n{self.server.describe()}"
        return code

    async def kill(self) -> int:
        """Send SIGKILL and wait for the bot to die; return its status (-9)."""
        self.runs[-1].expected_exit = True
        self.runs[-1].popen.kill()
        return await self.wait_exit()

    def stdout(self, run: int = -1) -> str:
        """Return what a run (the latest by default) wrote to stdout so far."""
        return self.runs[run].stdout.read_text("utf-8", errors="replace") if self.runs else ""

    def stderr(self, run: int = -1) -> str:
        """Return what a run (the latest by default) wrote to stderr so far."""
        return self.runs[run].stderr.read_text("utf-8", errors="replace") if self.runs else ""

    def logs(self, tail: int | None = None) -> str:
        """Return every run's stdout and stderr (their last ``tail`` lines), for failures."""
        parts = []
        for number, run in enumerate(self.runs, start=1):
            status = run.popen.poll()
            state = "running" if status is None else f"exited {status}"
            for label, path in (("stdout", run.stdout), ("stderr", run.stderr)):
                lines = path.read_text("utf-8", errors="replace").rstrip().splitlines()
                shown = "\n".join(lines[-tail:] if tail else lines) or "(empty)"
                parts.append(f"--- bot run {number} ({state}) {label} ---\n{shown}")
        return "\n".join(parts)

    def _recent_logs(self) -> str:
        return self.logs(tail=60)

    def close(self) -> None:
        """Kill any run still going, reap it and close its log files."""
        for run in self.runs:
            if run.popen.poll() is None:
                run.popen.kill()
            run.popen.wait()
            for handle in run.files:
                handle.close()
        with contextlib.suppress(ValueError):
            self.server.diagnostics.remove(self._recent_logs)
        with contextlib.suppress(ValueError):
            self.server.abort_checks.remove(self._crashed)

    def _crashed(self) -> str | None:
        if not self.runs or self.runs[-1].expected_exit:
            return None
        code = self.runs[-1].popen.poll()
        return None if code is None else f"the bot exited unexpectedly with {code}"
