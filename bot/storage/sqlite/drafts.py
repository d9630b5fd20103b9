"""Drafts in progress, one per constituent, stored whole after every accepted answer."""

from __future__ import annotations

import sqlite3
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import Enum

from bot.core.case import Case
from bot.core.draft import Draft
from bot.storage.sqlite.rows import Connection, first_row
from bot.storage.sqlite.safeguards import CLAIM
from bot.storage.store import AlreadyProcessed

_DRAFT_STATE = "SELECT state FROM drafts WHERE user_id = ?"

# Drafts (or their absence) kept in memory: the most recently used people's.
DRAFTS_KEPT = 1_000


class Unknown(Enum):
    """Not kept: the draft must be read."""

    UNKNOWN = "unknown"


UNKNOWN = Unknown.UNKNOWN


class DraftCache:
    """The drafts this process last read or committed (None: has none), the newest last.

    The SQLite store is one process's, and every change to a draft goes through it, so a
    draft kept here is the one stored. A transaction's changes are kept only once it has
    committed; a failed one's are forgotten.

    Once told who had a draft when the store opened (``holders``), it also knows that
    anyone else has none, so a new person's first message needs no read: a committed draft
    adds its person, a committed deletion takes them out, and a change that failed leaves
    them in, to be read.
    """

    def __init__(self, size: int = DRAFTS_KEPT) -> None:
        """Keep at most ``size`` people's drafts."""
        self.size = size
        self._kept: OrderedDict[int, Draft | None] = OrderedDict()
        self._holders: set[int] | None = None  # None: anyone not kept may have one

    def know_holders(self, user_ids: set[int]) -> None:
        """Be told everyone who has a draft stored now (the set is the cache's from then on)."""
        self._holders = user_ids

    def get(self, user_id: int) -> Draft | Unknown | None:
        """Return the kept draft of ``user_id`` (None: they have none), or UNKNOWN."""
        if user_id not in self._kept:
            if self._holders is not None and user_id not in self._holders:
                return None
            return UNKNOWN
        self._kept.move_to_end(user_id)
        return self._kept[user_id]

    def keep(self, changes: Mapping[int, Draft | None]) -> None:
        """Keep drafts as stored now."""
        holders = self._holders
        for user_id, draft in changes.items():
            self._kept[user_id] = draft
            self._kept.move_to_end(user_id)
            if holders is not None:
                if draft is None:
                    holders.discard(user_id)
                else:
                    holders.add(user_id)
        while len(self._kept) > self.size:
            self._kept.popitem(last=False)

    def forget(self, user_ids: Iterable[int]) -> None:
        """Forget what is kept of these people's drafts: they are read again."""
        for user_id in user_ids:
            self._kept.pop(user_id, None)


# The language a chat's person reads: their draft's, else their latest case's (no row: none).
LANGUAGE_OF_CHAT = (
    "SELECT language FROM drafts WHERE chat_id = :chat UNION ALL SELECT * FROM"
    " (SELECT language FROM cases WHERE chat_id = :chat ORDER BY created_at DESC, id DESC"
    " LIMIT 1) LIMIT 1"
)


class DraftRows:
    """Drafts in progress, one per constituent."""

    db: Connection
    drafts: DraftCache
    # The drafts this transaction stored or deleted (None), kept in ``drafts`` once committed.
    draft_changes: dict[int, Draft | None]

    def _known(self, user_id: int) -> Draft | Unknown | None:
        """Return the draft as this transaction sees it, if known without a read."""
        if user_id in self.draft_changes:
            return self.draft_changes[user_id]
        return self.drafts.get(user_id)

    def _read(self, user_id: int, state: str | None) -> Draft | None:
        """Return a draft read from the database, keeping it (it is as committed)."""
        draft = None if state is None else Draft.model_validate_json(state)
        self.drafts.keep({user_id: draft})
        return draft

    async def get_draft(self, user_id: int) -> Draft | None:
        """Return the constituent's draft, if they have one."""
        known = self._known(user_id)
        if known is not UNKNOWN:
            return known
        row = await first_row(self.db, _DRAFT_STATE, (user_id,))
        return self._read(user_id, None if row is None else str(row[0]))

    async def claim_draft(
        self, update_id: int, user_id: int, now: datetime
    ) -> tuple[bool, Draft | None]:
        """Record an update as processed and read the sender's draft, in one trip.

        Return False (and no draft) if the update already was processed. A draft kept in
        memory needs no trip: the update is recorded with the transaction's next statement,
        and AlreadyProcessed raised from there if it already was.
        """
        known = self._known(user_id)
        if known is not UNKNOWN:
            self.db.defer(CLAIM, (update_id, now.isoformat()), unless_one=AlreadyProcessed)
            return True, known

        def claim(raw: sqlite3.Connection) -> tuple[bool, str | None]:
            cursor = raw.execute(CLAIM, (update_id, now.isoformat()))
            if cursor.rowcount != 1:
                return False, None
            row = raw.execute(_DRAFT_STATE, (user_id,)).fetchone()
            return True, None if row is None else str(row[0])

        fresh, state = await self.db.run(claim)
        return fresh, self._read(user_id, state) if fresh else None

    async def save_draft(self, user_id: int, chat_id: int, draft: Draft) -> None:
        """Store the draft, replacing the earlier state."""
        self.db.defer(
            "INSERT INTO drafts (user_id, chat_id, state, updated_at, language)"
            " VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET"
            " state = excluded.state, updated_at = excluded.updated_at,"
            " language = excluded.language",
            (
                user_id,
                chat_id,
                draft.model_dump_json(),
                draft.updated_at.isoformat(),
                draft.language,
            ),
        )
        # Set apart, so that the index of drafts by chat is written only if the chat changed:
        # it never does in Telegram, where a person's private chat has their id.
        self.db.defer(
            "UPDATE drafts SET chat_id = ? WHERE user_id = ? AND chat_id != ?",
            (chat_id, user_id, chat_id),
        )
        self.draft_changes[user_id] = draft

    async def delete_draft(self, user_id: int) -> None:
        """Delete the constituent's draft and every answer in it."""
        self.db.defer("DELETE FROM drafts WHERE user_id = ?", (user_id,))
        self.draft_changes[user_id] = None

    async def language_of(self, chat_id: int) -> str | None:
        """Return the language a constituent chose: their draft's, else their latest case's."""
        row = await first_row(self.db, LANGUAGE_OF_CHAT, {"chat": chat_id})
        return None if row is None else str(row[0])

    async def draft_and_language(
        self, user_id: int, chat_id: int
    ) -> tuple[Draft | None, str | None]:
        """Return the constituent's draft and the language they chose, in one trip."""
        if self._known(user_id) is not UNKNOWN:
            return await self.get_draft(user_id), await self.language_of(chat_id)
        language = self.db.defer_read(LANGUAGE_OF_CHAT, {"chat": chat_id})
        row = await first_row(self.db, _DRAFT_STATE, (user_id,))
        draft = self._read(user_id, None if row is None else str(row[0]))
        chosen = next(iter(language.rows or ()), None)
        return draft, None if chosen is None else str(chosen[0])

    async def set_language(self, user_id: int, language: str) -> None:
        """Record a constituent's new choice of language on their draft and on their cases."""
        async with self.db.execute(
            "SELECT id, data FROM cases WHERE user_id = ? AND language != ?", (user_id, language)
        ) as cursor:
            rows = list(await cursor.fetchall())
        for case_id, data in rows:
            case = Case.model_validate_json(data).in_language(language)
            await self.db.execute(
                "UPDATE cases SET language = ?, data = ? WHERE id = ?",
                (language, case.model_dump_json(), case_id),
            )

    async def draft_holders(self) -> set[int]:
        """Return everyone who has a draft stored."""

        def read(raw: sqlite3.Connection) -> set[int]:
            return {int(row[0]) for row in raw.execute("SELECT user_id FROM drafts")}

        return await self.db.run(read)

    async def count_drafts(self) -> int:
        """Return how many drafts are stored."""
        async with self.db.execute("SELECT count(*) FROM drafts") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0
