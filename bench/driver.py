"""Drive whole intakes through a started Application, timing each update."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from telegram.ext import Application

from bench.measure import Run
from bench.offline import OfflineRequest, Person, Updates

App = Application[Any, Any, Any, Any, Any, Any]

# The same actions as tests/support/intake.py intake_to_review(), then Send.
TRANSCRIPT: tuple[tuple[str, str], ...] = (
    ("command", "/start"),
    ("tap", "Start"),
    ("tap", "It is about me"),
    ("text", "Ada Lovelace"),
    ("text", "st4 1hh"),
    ("text", "12 Example Road\nStoke-on-Trent"),
    ("contact", "447911123456"),
    ("tap", "Email"),
    ("text", "ada@example.org"),
    ("tap", "Skip this question"),
    ("tap", "Housing"),
    ("text", "Stoke-on-Trent City Council"),
    ("text", "HB/12345"),
    ("tap", "Yes"),
    ("text", "The council has not repaired the damp in my flat since June."),
    ("tap", "That is everything"),
    ("text", "Ask the council to carry out the repair."),
    ("tap", "That is everything"),
    ("tap", "Skip this question"),
    ("photo", "photo-of-letter-1"),
    ("tap", "I have finished"),
    ("tap", "Yes, I give permission"),
    ("tap", "Send to the office"),
)


def record_errors(app: App) -> list[object]:
    """Collect errors handlers raised (PTB only logs them)."""
    errors: list[object] = []

    async def on_error(update: object, context: Any) -> None:
        errors.append(context.error)

    app.add_error_handler(on_error)
    return errors


@asynccontextmanager
async def running(app: App) -> AsyncIterator[App]:
    """Start an application as run_polling would (initialize, post_init) and stop it after."""
    await app.initialize()
    if app.post_init is not None:
        await app.post_init(app)
    try:
        yield app
    finally:
        if app.post_shutdown is not None:
            await app.post_shutdown(app)
        await app.shutdown()


class Subject:
    """A started application that plays whole intakes, each by a new person, on request."""

    def __init__(
        self,
        app: App,
        request: OfflineRequest,
        run: Run,
        *,
        after: Callable[[], Awaitable[None]] | None = None,
        expected_calls: list[int] | None = None,
        settle: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """Play into ``run``.

        ``after`` runs after each update, inside its timing. With ``expected_calls`` (Bot API
        calls each step makes, background senders included), an update is done once that
        many calls are answered. ``settle`` runs, untimed, after each batch of intakes.
        """
        self.app = app
        self.request = request
        self.run = run
        self.after = after
        self.expected_calls = expected_calls
        self.settle = settle
        self.updates = Updates(app.bot, request)
        self.errors = record_errors(app)
        self.people = 0
        self.completed = 0
        self.step_counts = [0] * len(TRANSCRIPT)

    async def intakes(
        self,
        count: int,
        *,
        timed: bool = True,
        stop: Callable[[Run], bool] | None = None,
        each: Callable[[int], Awaitable[None]] | None = None,
    ) -> None:
        """Play ``count`` whole intakes; ``stop(run)`` may end early, even mid-intake."""
        for _ in range(count):
            self.people += 1
            played = await self._play(Person(self.people), timed, stop, each)
            if played < len(TRANSCRIPT):
                self.run.notes.append(f"stopped after {played} updates of an intake")
                break
            self.completed += 1
            self.run.intakes += int(timed)
            if stop is not None and stop(self.run):
                break
        if self.settle is not None:
            await self.settle()

    async def _play(
        self,
        person: Person,
        timed: bool,
        stop: Callable[[Run], bool] | None,
        each: Callable[[int], Awaitable[None]] | None,
    ) -> int:
        clock = time.perf_counter
        app, after, seconds, expected = self.app, self.after, self.run.seconds, self.expected_calls
        played = 0
        for number, (kind, value) in enumerate(TRANSCRIPT):
            update = self.updates.build(person, kind, value)
            calls = self.request.calls
            started = clock()
            await app.process_update(update)
            if after is not None:
                await after()
            if expected is not None:
                await self.request.reach(calls + expected[number])
            if timed:
                seconds.append(clock() - started)
            self.step_counts[number] += 1
            played += 1
            if each is not None:
                await each(number)
            if stop is not None and timed and stop(self.run):
                break
        self.request.forget(person.user_id)
        return played

    def faults(self) -> list[str]:
        """Return what went wrong: handler errors and refused Bot API calls."""
        found = [f"handler error {error!r}" for error in self.errors]
        return found + [f"Bot API call {name} refused" for name in self.request.failed]
