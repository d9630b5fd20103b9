"""Full-text search over cases (SQLite FTS5), kept in step with them in the same transactions.

FTS5 keeps a deleted case's words in its index segments until they are merged, so an erasure
marks the index, and the scrub that follows every erasure merges it whole ('optimize'): with
secure_delete on, the old segments are then overwritten, and nothing of the case is left.
"""

from __future__ import annotations

from bot.core.case import Case
from bot.core.search import case_text, message_text
from bot.storage.records import QueueRow
from bot.storage.sqlite.rows import ROW_COLUMNS, Connection, all_rows, first_row, queue_row

_FOUND = "SELECT rowid FROM case_search WHERE case_search MATCH ?"


async def index(db: Connection, case_id: int, text: str) -> None:
    """Make a case found by ``text`` (its notes and messages are found too, kept apart)."""
    row = await first_row(db, "SELECT facts FROM case_search WHERE rowid = ?", (case_id,))
    if row is None:
        await db.execute(
            "INSERT INTO case_search (rowid, facts, messages) VALUES (?, ?, '')", (case_id, text)
        )
    elif row[0] != text:
        await db.execute("UPDATE case_search SET facts = ? WHERE rowid = ?", (text, case_id))


def index_new(db: Connection, case_id: int, text: str) -> None:
    """Make a new case found by ``text``, with the transaction's next trip.

    A new case's row id has no index row (an erased case's went with it); should one be
    left there, it is replaced, words and all.
    """
    db.defer(
        "INSERT OR REPLACE INTO case_search (rowid, facts, messages) VALUES (?, ?, '')",
        (case_id, text),
    )


async def add_words(db: Connection, case_id: int, text: str) -> None:
    """Make a case found by the words of one more note or message."""
    await db.execute(
        "UPDATE case_search SET messages = messages || char(10) || ? WHERE rowid = ?",
        (text, case_id),
    )


async def forget(db: Connection, case_id: int) -> None:
    """Take a case out of the index, and mark the index to be merged by the next scrub."""
    await db.execute("DELETE FROM case_search WHERE rowid = ?", (case_id,))
    await db.execute(
        "INSERT INTO meta (key, value) VALUES ('search_scrub', '1')"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
    )


async def merge_if_marked(db: Connection) -> bool:
    """Merge the index whole if a case left it since the last merge; return whether it did."""
    row = await first_row(db, "SELECT 1 FROM meta WHERE key = 'search_scrub'")
    if row is None:
        return False
    await db.execute("INSERT INTO case_search (case_search) VALUES ('optimize')")
    await db.execute("DELETE FROM meta WHERE key = 'search_scrub'")
    return True


def match(terms: list[str]) -> str:
    """Return an FTS5 query finding every term, each as a phrase or the start of a word."""
    return " AND ".join('"' + term.replace('"', '""') + '"*' for term in terms)


class SearchRows:
    """Finding cases by what they say."""

    db: Connection

    async def index_case(self, case_id: int, text: str) -> None:
        """Make a case found by ``text`` (its notes and messages are found as well)."""
        await index(self.db, case_id, text)

    async def search_cases(
        self, terms: list[str], *, limit: int = 10
    ) -> tuple[list[QueueRow], int]:
        """Return the cases found by every term, newest first, and how many there are."""
        if not terms:
            return [], 0
        query = match(terms)
        count = f"SELECT count(*) FROM cases WHERE id IN ({_FOUND})"  # noqa: S608
        total_row = await first_row(self.db, count, (query,))
        sql = (
            f"SELECT {ROW_COLUMNS} FROM cases WHERE id IN ({_FOUND})"  # noqa: S608
            " ORDER BY created_at DESC, id DESC LIMIT ?"
        )
        rows = await all_rows(self.db, sql, (query, limit))
        return [queue_row(r) for r in rows], int(total_row[0]) if total_row else 0

    async def index_unindexed(self) -> int:
        """Index the cases a database upgraded from before search held; return how many."""
        table = "SELECT 1 FROM sqlite_master WHERE name = 'case_search'"
        if await first_row(self.db, table) is None:  # a schema older than search
            return 0
        rows = await all_rows(
            self.db, "SELECT id, data FROM cases WHERE id NOT IN (SELECT rowid FROM case_search)"
        )
        for case_id, data in rows:
            await index(self.db, case_id, case_text(Case.model_validate_json(data)))
            texts = await all_rows(
                self.db, "SELECT text FROM case_messages WHERE case_id = ? ORDER BY id", (case_id,)
            )
            await add_words(self.db, case_id, message_text(t[0] for t in texts))
        return len(rows)
