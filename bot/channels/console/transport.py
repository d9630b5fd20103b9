"""The outbox's terminal transport: print what Telegram would have been sent, and to whom."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime
from typing import TextIO

from bot.channels.console.render import ConsoleRenderer
from bot.core.case import Case
from bot.core.outbox import Cleanup, OwedMessage
from bot.service.outbox import CardPlace, Shown, Summary


class ConsoleTransport:
    """Deliver owed messages and cards by printing them under a heading naming the chat."""

    def __init__(
        self,
        renderer: ConsoleRenderer,
        names: dict[int, str],
        out: TextIO,
        clock: Callable[[], datetime],
    ) -> None:
        """Print to ``out``, naming chats as ``names`` says."""
        self.renderer, self.names, self.out, self.clock = renderer, names, out, clock
        self._ids = itertools.count(1)
        self._shown: dict[int, str] = {}  # what each card last said, as Telegram's edits do

    def _print(self, chat_id: int, text: str) -> None:
        who = self.names.get(chat_id, f"chat {chat_id}")
        self.out.write(f"\n── {who} ──\n{text}\n")
        self.out.flush()

    async def show_card(self, chat_id: int, case: Case, place: CardPlace) -> Shown:
        """Print a case's card; an edit that changes it is printed again, marked so."""
        message_id = place.message_id
        card = self.renderer.card(case, self.clock())
        if message_id is not None and self._shown.get(message_id) == card:
            return Shown(message_id, sent=False)
        mark = "(the card above, brought up to date)\n" if message_id is not None else ""
        self._print(chat_id, mark + card)
        shown = message_id if message_id is not None else next(self._ids)
        self._shown[shown] = card
        return Shown(shown, sent=True)

    async def send(self, chat_id: int, owed: OwedMessage, topic_id: int | None = None) -> int:
        """Print an owed message, and any document it carries."""
        if owed.reply is not None:
            # The demo shows each answer's reply as soon as the intake service returns it
            # (a terminal has no outage to wait out), so the owed copy is already shown.
            return next(self._ids)
        text = self.renderer.text(owed.text)
        if owed.attachment is not None:
            text += f"\n[{owed.attachment.kind}: {owed.attachment.file_id}]"
        self._print(chat_id, text)
        return next(self._ids)

    async def open_topic(self, chat_id: int, case: Case | None) -> int:
        """Never called: the demo's staff group is a flat group."""
        raise NotImplementedError("the demo's staff group has no topics")

    async def clean(self, chat_id: int, cleanup: Cleanup) -> int:
        """Say what an erasure takes out of the staff group."""
        count = len(cleanup.message_ids)
        self._print(chat_id, f"(erased case {cleanup.reference}: its {count} messages deleted)")
        return 1

    async def show_summary(self, chat_id: int, summary: Summary) -> Shown:
        """Never called: the summary of open cases is only kept in a forum."""
        raise NotImplementedError("the demo's staff group has no summary topic")
