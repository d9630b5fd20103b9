"""A running office bot on the offline Bot API, and transcripts of whole intakes."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import Application

from bot.channels.telegram.application import build_application
from bot.channels.telegram.context import BotData
from bot.office import Office, random_reference_number
from bot.settings import Settings
from bot.wiring import Services
from support.telegram import (
    FakeUser,
    RecordingRequest,
    UpdateFactory,
    offline_builder,
    record_errors,
)

OFFICE_ENV: dict[str, Any] = {
    "telegram_bot_token": "123456:TEST-offline",
    "constituency_code": "E14001520",
    "mp_name": "Jo Example",
    "office_phone": "01782 232 000",
    "office_email": "office@example.org",
    "office_address": "1 Example Street, Stoke-on-Trent ST4 1AA",
    "reference_prefix": "SOT",
    "staff_chat_id": -100777,
    "staff_user_ids": "9001:Sam,9002:Priya",
    # Transcripts answer in milliseconds; the flood limit has tests of its own.
    "flood_messages": 1000,
}

STAFF_CHAT = -100777
SAM = FakeUser(9001, "Sam", "Caseworker")
PRIYA = FakeUser(9002, "Priya", "Caseworker")


def make_settings(database_path: Path, **overrides: Any) -> Settings:
    """Return settings for a Stoke-on-Trent Central office, ignoring any .env file."""
    values = {**OFFICE_ENV, "database_path": database_path, **overrides}
    return Settings(_env_file=None, **values)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move the clock forward."""
        self.now += timedelta(**delta)


MESSAGE_METHODS = ("sendMessage", "sendPhoto", "sendDocument", "editMessageText")

# Each step of a transcript: what the person does, then text expected in the bot's answer.
Action = tuple[str, str]


@dataclass
class Harness:
    """A started Application with its request double, update factory and clock."""

    app: Application[Any, Any, Any, Any, Any, Any]
    request: RecordingRequest
    updates: UpdateFactory
    clock: Clock
    errors: list[object]

    @classmethod
    @asynccontextmanager
    async def running(
        cls,
        office: Office,
        clock: Clock,
        request: RecordingRequest | None = None,
        random_number: Callable[[], int] = random_reference_number,
        delivery_backoff: float = 0.01,
    ) -> AsyncIterator[Harness]:
        """Start the bot as run_polling would (initialize, post_init) and stop it afterwards."""
        request = request or RecordingRequest()
        app = build_application(
            office,
            offline_builder(request),
            clock=clock,
            random_number=random_number,
            delivery_backoff=delivery_backoff,
        )
        errors = record_errors(app)
        await app.initialize()
        assert app.post_init is not None
        await app.post_init(app)
        try:
            yield cls(app, request, UpdateFactory(app.bot, request), clock, errors)
        finally:
            assert app.post_shutdown is not None
            await app.post_shutdown(app)
            await app.shutdown()
        assert not errors, f"handlers raised: {errors!r}"

    async def send(self, update: Update, chat_id: int | None = None) -> list[str]:
        """Process one update; return the texts then sent or edited (to ``chat_id``, if given)."""
        before = len(self.request.calls())
        await self.app.process_update(update)
        await self.settle()
        return [
            call.text
            for call in self.request.calls()[before:]
            if call.ok and call.text is not None and call.method in MESSAGE_METHODS
            if chat_id is None or call.chat_id == chat_id
        ]

    async def settle(self) -> None:
        """Wait until the outbox has delivered everything owed."""
        await services_of(self.app).outbox.drain(seconds=10)

    async def act(self, user: FakeUser, action: Action) -> list[str]:
        """Do one transcript action and return what the bot then sent to that person."""
        kind, value = action
        makers: dict[str, Callable[[], Update]] = {
            "text": lambda: self.updates.text(user, value),
            "tap": lambda: self.updates.press(user, value),
            "command": lambda: self.updates.command(user, value),
            "contact": lambda: self.updates.contact(user, value),
            "photo": lambda: self.updates.photo(user, value),
            "document": lambda: self.updates.document(user, value, "letter.pdf", "application/pdf"),
            "sticker": lambda: self.updates.sticker(user),
        }
        return await self.send(makers[kind](), chat_id=user.user_id)

    async def run(self, user: FakeUser, transcript: list[tuple[Action, str]]) -> list[str]:
        """Play a transcript, checking each answer contains the expected text; return the last."""
        texts: list[str] = []
        for number, (action, expected) in enumerate(transcript, start=1):
            texts = await self.act(user, action)
            joined = "\n---\n".join(texts)
            assert expected in joined, f"step {number} {action}: {expected!r} not in {joined!r}"
        return texts


def services_of(app: Application[Any, Any, Any, Any, Any, Any]) -> Services:
    """Return the running services of an application."""
    bot_data = app.bot_data
    assert isinstance(bot_data, BotData)
    return bot_data.runtime.services


_user_ids = itertools.count(5001)


def new_user(first_name: str = "Ada", last_name: str | None = "Lovelace") -> FakeUser:
    """Return a constituent with a fresh user id."""
    return FakeUser(next(_user_ids), first_name, last_name)


def intake_to_review(name: str = "Ada Lovelace") -> list[tuple[Action, str]]:
    """Return a whole intake for oneself, about housing, up to check-your-answers."""
    return [
        (("command", "/start"), "If anyone is in danger now, call 999"),
        (("tap", "Start"), "Is this enquiry about you"),
        (("tap", "It is about me"), "What is your full name?"),
        (("text", name), "What is your home postcode?"),
        (("text", "st4 1hh"), "What is your address?"),
        (("text", "12 Example Road\nStoke-on-Trent"), "What is your phone number?"),
        (("contact", "447911123456"), "How would you like us to contact you?"),
        (("tap", "Email"), "What is your email address?"),
        (("text", "ada@example.org"), "What is your date of birth?"),
        (("tap", "Skip this question"), "What is your enquiry about?"),
        (("tap", "Housing"), "Which organisation is it about?"),
        (("text", "Stoke-on-Trent City Council"), "reference number"),
        (("text", "HB/12345"), "Have you already contacted them"),
        (("tap", "Yes"), "What has happened?"),
        (
            ("text", "The council has not repaired the damp in my flat since June."),
            "That is everything",
        ),
        (("tap", "That is everything"), "What would you like the MP to do?"),
        (("text", "Ask the council to carry out the repair."), "That is everything"),
        (("tap", "That is everything"), "Is there a date we need to know about?"),
        (("tap", "Skip this question"), "letters or documents"),
        (("photo", "photo-of-letter-1"), "Documents so far: 1"),
        (("tap", "I have finished"), "Do you give permission?"),
        (("tap", "Yes, I give permission"), "Check your answers before sending"),
    ]
