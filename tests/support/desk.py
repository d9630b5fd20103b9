"""The staff desk served for real on 127.0.0.1 beside an offline Telegram, for browser tests."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.channels.telegram.application import build_application
from bot.channels.web.server import DeskServer, bind_desk
from bot.office import prepare
from bot.wiring import Services
from support.intake import Action, Clock, Harness, intake_to_review, make_settings, services_of
from support.telegram import (
    FakeUser,
    RecordingRequest,
    UpdateFactory,
    offline_builder,
    record_errors,
)

LINK = re.compile(r"http://127\.0\.0\.1:\d+/login/[A-Za-z0-9_-]+")
LETTER = b"%PDF-1.4 a letter from the council\n" * 20
PHOTO_ID = "photo-of-letter-1"


@dataclass
class FileServer:
    """Telegram's file server for the bot: files by path, and how often each was fetched."""

    files: dict[str, bytes] = field(default_factory=dict)
    fetched: list[str] = field(default_factory=list)

    async def on_file(self, request: Request) -> Response:
        path = str(request.path_params["path"])
        _, _, name = path.partition("/")  # bot<token>/<file_path>
        if name not in self.files:
            return PlainTextResponse("not found", status_code=404)
        self.fetched.append(name)
        return Response(self.files[name], media_type="application/octet-stream")


@dataclass
class Desk:
    """A running bot with its desk: the Telegram side's harness and the desk's address."""

    harness: Harness
    base: str
    file_server: FileServer

    @property
    def services(self) -> Services:
        """Return the bot's services."""
        return services_of(self.harness.app)

    async def link(self, user: FakeUser) -> str:
        """Send /desk in the user's private chat; return the login link the bot sent back."""
        texts = await self.harness.send(self.harness.updates.command(user, "/desk"), user.user_id)
        found = [match.group() for text in texts if (match := LINK.search(text))]
        assert found, f"no login link in {texts!r}"
        return found[-1]

    async def send_case(self, user: FakeUser, steps: list[tuple[Action, str]] | None = None) -> str:
        """Run a whole intake for ``user`` and press Send; return the case's reference."""
        await self.harness.run(
            user, steps or intake_to_review(f"{user.first_name} {user.last_name}")
        )
        await self.harness.act(user, ("tap", "Send to the office"))
        cases = await self.services.intake.cases_of(user.user_id)
        return cases[-1].reference


@asynccontextmanager
async def running_desk(folder: Path, clock: Clock, **changes: Any) -> AsyncIterator[Desk]:
    """Run the bot (offline Telegram) with its desk on a free port and a real SQLite file.

    ``changes`` are settings to change from the tests' own.
    """
    files = FileServer()
    file_socket = bind_desk("127.0.0.1", 0)
    file_port = file_socket.getsockname()[1]
    file_app = Starlette(routes=[Route("/file/{path:path}", files.on_file)])
    file_server = DeskServer(file_app, file_socket)
    await file_server.start()
    files.files["photos/file_1.jpg"] = LETTER
    desk_socket = bind_desk("127.0.0.1", 0)
    base = f"http://127.0.0.1:{desk_socket.getsockname()[1]}"
    settings = make_settings(folder / "casework.sqlite3", desk_public_url=base, **changes)
    request = RecordingRequest()
    request.offer_file(PHOTO_ID, "photos/file_1.jpg", len(LETTER))
    builder = offline_builder(request).base_file_url(f"http://127.0.0.1:{file_port}/file/bot")
    app = build_application(
        prepare(settings), builder, clock=clock, delivery_backoff=0.01, desk_socket=desk_socket
    )
    errors = record_errors(app)
    await app.initialize()
    assert app.post_init is not None
    await app.post_init(app)
    try:
        harness = Harness(app, request, UpdateFactory(app.bot, request), clock, errors)
        yield Desk(harness, base, files)
    finally:
        assert app.post_shutdown is not None
        await app.post_shutdown(app)
        await app.shutdown()
        await file_server.stop()
    assert not errors, f"handlers raised: {errors!r}"
