"""The surge: 200 constituents start at once, over real HTTP, against the bot as a process.

A Bot API server on 127.0.0.1 (``botapi.py``) runs in the bench's event loop with the people;
the bot runs as ``python -m bot`` (long polling, its own SQLite file), and the baseline as
``python -m bench.ptb_bot`` (a ConversationHandler with PicklePersistence written after every
update), each against a server of its own, one after the other in the same run. Every person
plays the whole intake, each action as soon as the previous step's answer has come: a step's
latency runs from the update being queued for getUpdates to the last call the step causes in
the person's chat (messages, edited buttons, the answered press). The staff group's cards are
left out of the steps: ours sends them at the group's 20-a-minute limit, as it must.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import bench
from bench.baselines import write_pickle
from bench.botapi import BotApiServer
from bench.driver import TRANSCRIPT
from bench.measure import percentile
from bench.offline import Call, Person
from bench.ours import CONFIRMATION, OFFICE_ENV, Calibration, create_schema
from bench.ptb_bot import save_calls

PEOPLE = 200
TOKEN = "123456:BENCH-surge"
STAFF_CHAT_ID = -1001234567890
STEP_SECONDS = 120.0
START_SECONDS = 60.0


@dataclass
class SurgeRun:
    """One variant's surge: each step's latency, the whole time, and what went wrong."""

    variant: str
    people: int
    steps: list[float] = field(default_factory=list)
    total: float = 0.0
    faults: list[str] = field(default_factory=list)
    finished: int = 0

    @property
    def throughput(self) -> float:
        """Return steps per second over the whole surge."""
        return len(self.steps) / self.total if self.total else 0.0


def _mine(call: Call) -> bool:
    """Tell whether a call reaches the person's own chat (a press's answer has no chat)."""
    return call.chat_id is None or call.chat_id > 0


class People:
    """Everyone in the surge, playing the intake against one server."""

    def __init__(self, server: BotApiServer, calls: list[list[Call]], count: int) -> None:
        """Prepare ``count`` people; each step waits for its calls to the person's chat."""
        self.server = server
        self.expected = [sum(1 for c in step if _mine(c)) for step in calls]
        self.people = [Person(number) for number in range(1, count + 1)]
        self._seen: dict[int, int] = {}
        self._target: dict[int, int] = {}
        self._done: dict[int, asyncio.Event] = {}
        self._last_text: dict[int, str] = {}
        server.on_call = self._on_call

    def _on_call(self, chat_id: int, method: str, params: dict[str, object]) -> None:
        self._seen[chat_id] = self._seen.get(chat_id, 0) + 1
        if method == "sendMessage":
            self._last_text[chat_id] = str(params.get("text", ""))
        target = self._target.get(chat_id)
        if target is not None and self._seen[chat_id] >= target:
            self._done[chat_id].set()

    async def play(self, person: Person, run: SurgeRun) -> None:
        """Play the whole intake as fast as the bot answers; record each step's latency."""
        chat = person.user_id
        for number, (kind, value) in enumerate(TRANSCRIPT):
            self._target[chat] = self._seen.get(chat, 0) + self.expected[number]
            done = self._done[chat] = asyncio.Event()
            started = time.perf_counter()
            self.server.act(person, kind, value)
            try:
                async with asyncio.timeout(STEP_SECONDS):
                    await done.wait()
            except TimeoutError:
                run.faults.append(f"person {chat}, step {number}: no answer in {STEP_SECONDS} s")
                return
            run.steps.append(time.perf_counter() - started)
        self.server.forget(chat)
        if CONFIRMATION in self._last_text.get(chat, ""):
            run.finished += 1
        else:
            run.faults.append(f"person {chat}: no confirmation at the end")


def _env(server: BotApiServer, extra: dict[str, str]) -> dict[str, str]:
    root = Path(bench.__file__).resolve().parent.parent
    return {
        "PATH": os.environ.get("PATH", os.defpath),
        "PYTHONPATH": str(root),
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PTB_TIMEDELTA": "true",
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": server.base_url,
        **extra,
    }


def ours_env(folder: Path) -> dict[str, str]:
    """Return our bot's settings: the bench's office, its own database, polling the server."""
    office = {key.upper(): str(value) for key, value in OFFICE_ENV.items()}
    office.pop("TELEGRAM_BOT_TOKEN")
    return {
        **office,
        "DATABASE_PATH": str(folder / "casework.sqlite3"),
        "STAFF_CHAT_ID": str(STAFF_CHAT_ID),
        "STAFF_USER_IDS": "424242:Sam",
        # 23 updates a person within seconds is no flood here; the check still runs.
        "FLOOD_MESSAGES": "1000",
        "TELEGRAM_POLL_TIMEOUT": "5",
        "TELEGRAM_READ_TIMEOUT": "10",
    }


async def _run_variant(
    variant: str, command: list[str], extra: dict[str, str], folder: Path, calls: list[list[Call]]
) -> SurgeRun:
    server = BotApiServer(TOKEN)
    await server.start()
    run = SurgeRun(variant, PEOPLE)
    out_path = folder / f"{variant.replace('+', '-').replace(' ', '-')}.log"
    out = out_path.open("wb")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *command,
        cwd=folder,
        env=_env(server, extra),
        stdin=subprocess.DEVNULL,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    try:
        try:
            async with asyncio.timeout(START_SECONDS):
                await server.polled.wait()
        except TimeoutError:
            run.faults.append(f"did not start polling in {START_SECONDS:.0f} s")
            return run
        people = People(server, calls, PEOPLE)
        started = time.perf_counter()
        await asyncio.gather(*(people.play(person, run) for person in people.people))
        run.total = time.perf_counter() - started
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(30):
                await process.wait()
        except TimeoutError:
            process.kill()
            run.faults.append("did not stop within 30 s of SIGTERM")
            await process.wait()
        out.close()
        await server.stop()
    if process.returncode not in (0, -signal.SIGTERM):
        tail = out_path.read_text("utf-8", errors="replace").strip().splitlines()[-3:]
        run.faults.append(f"exited with {process.returncode}: {' / '.join(tail)}")
    if server.unexpected:
        run.faults.append(f"calls the server does not answer: {sorted(set(server.unexpected))}")
    return run


async def surge(folder: Path, calibration: Calibration) -> list[SurgeRun]:
    """Run the surge against ours, then against the ConversationHandler with pickle."""
    ours_folder = folder / "surge-ours"
    ours_folder.mkdir(parents=True)
    await create_schema(ours_folder / "casework.sqlite3")
    ours = await _run_variant(
        "ours", ["-m", "bot"], ours_env(ours_folder), ours_folder, calibration.calls
    )
    pickle_folder = folder / "surge-pickle"
    pickle_folder.mkdir(parents=True)
    calls_path = pickle_folder / "calls.json"
    save_calls(calls_path, calibration.calls)
    pickle_path = pickle_folder / "conversations.pickle"
    write_pickle(pickle_path, 0, calibration.drafts)
    baseline = await _run_variant(
        "PTB+pickle",
        ["-m", "bench.ptb_bot", str(calls_path), str(pickle_path)],
        {},
        pickle_folder,
        calibration.calls,
    )
    return [ours, baseline]


def surge_table(runs: list[SurgeRun]) -> list[str]:
    """Return the surge's table: step latency percentiles, total time, and the ratio."""

    def ms(values: list[float], p: float) -> str:
        return f"{percentile(values, p) * 1e3:.1f}" if values else "-"

    header = (
        f"{'variant':<11} {'people':>6} {'steps':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
        f" {'max ms':>8} {'total s':>8} {'steps/s':>8}"
    )
    lines = [header, "-" * len(header)]
    for run in runs:
        most = f"{max(run.steps) * 1e3:.1f}" if run.steps else "-"
        lines.append(
            f"{run.variant:<11} {run.people:>6} {len(run.steps):>6} {ms(run.steps, 50):>8}"
            f" {ms(run.steps, 95):>8} {ms(run.steps, 99):>8} {most:>8} {run.total:>8.1f}"
            f" {run.throughput:>8.0f}"
        )
    for run in runs:
        lines.append(f"  {run.variant}: {run.finished} of {run.people} intakes confirmed")
        lines.extend(f"  {run.variant}: {fault}" for fault in run.faults[:5])
    ours, baseline = runs
    if ours.total and baseline.total:
        lines.append(
            f"ours/PTB+pickle: total time {baseline.total / ours.total:.2f}× faster,"
            f" p50 step {percentile(baseline.steps, 50) / percentile(ours.steps, 50):.2f}×,"
            f" p99 step {percentile(baseline.steps, 99) / percentile(ours.steps, 99):.2f}×"
        )
    return lines
