"""The surge's baseline as a process: the intake as a ConversationHandler with PicklePersistence.

``python -m bench.ptb_bot CALLS PICKLE`` with TELEGRAM_BOT_TOKEN and TELEGRAM_API_BASE_URL in
the environment: polls like any python-telegram-bot bot, and after every update writes its
conversations and user data to the pickle file (``update_persistence()``, then ``flush()``),
so an answer is on disk before the next update is read, as ours is before its reply.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import Application, ContextTypes, PicklePersistence, TypeHandler

from bench.baselines import conversation
from bench.offline import Call


def load_calls(path: Path) -> list[list[Call]]:
    """Read the calibration's calls per step, as written by ``save_calls``."""
    return [[Call(**call) for call in step] for step in json.loads(path.read_text("utf-8"))]


def save_calls(path: Path, calls: list[list[Call]]) -> None:
    """Write the calibration's calls per step as JSON."""
    steps = [
        [{"method": c.method, "chat_id": c.chat_id, "text": c.text, "markup": c.markup} for c in s]
        for s in calls
    ]
    path.write_text(json.dumps(steps), "utf-8")


def main(argv: list[str]) -> int:
    """Run the baseline bot until SIGTERM."""
    calls, pickle_path = load_calls(Path(argv[0])), Path(argv[1])
    persistence: PicklePersistence[Any, Any, Any] = PicklePersistence(pickle_path, on_flush=True)
    app = (
        Application.builder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(os.environ["TELEGRAM_API_BASE_URL"])
        .persistence(persistence)
        .build()
    )
    app.add_handler(conversation(calls, persistent=True))

    async def write(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await context.application.update_persistence()
        await persistence.flush()

    app.add_handler(TypeHandler(Update, write), group=1)
    app.run_polling(poll_interval=0, timeout=5)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
