"""One SQLite transaction as the services see it: every repository's queries on one connection."""

from __future__ import annotations

from bot.core.draft import Draft
from bot.storage.sqlite.audit import AuditRows
from bot.storage.sqlite.case_messages import MessageRows
from bot.storage.sqlite.cases import CaseRows
from bot.storage.sqlite.desk import DeskRows
from bot.storage.sqlite.drafts import DraftCache, DraftRows
from bot.storage.sqlite.inbox import InboxRows
from bot.storage.sqlite.outbox import OutboxRows
from bot.storage.sqlite.posts import PostRows
from bot.storage.sqlite.retention import RetentionRows
from bot.storage.sqlite.rows import Connection
from bot.storage.sqlite.safeguards import GuardRows
from bot.storage.sqlite.search import SearchRows
from bot.storage.sqlite.stats import StatsRows
from bot.storage.sqlite.team import TeamRows
from bot.storage.sqlite.templates import TemplateRows
from bot.storage.sqlite.workday import WorkdayRows


class SqliteTx(
    DraftRows,
    CaseRows,
    MessageRows,
    AuditRows,
    OutboxRows,
    RetentionRows,
    GuardRows,
    InboxRows,
    PostRows,
    SearchRows,
    WorkdayRows,
    TemplateRows,
    TeamRows,
    StatsRows,
    DeskRows,
):
    """The queries of one transaction (or of one self-committing statement)."""

    def __init__(self, db: Connection, drafts: DraftCache | None = None) -> None:
        """Run every query on ``db``; keep drafts in ``drafts`` (if given) once committed."""
        self.db = db
        self.drafts = DraftCache(0) if drafts is None else drafts
        self.draft_changes: dict[int, Draft | None] = {}
        self.written = {}

    def committed(self) -> None:
        """Keep the drafts this transaction changed, now that it has committed."""
        self.drafts.keep(self.draft_changes)
        self.draft_changes = {}

    def failed(self) -> None:
        """Forget the drafts this transaction changed: it was rolled back."""
        self.drafts.forget(self.draft_changes)
        self.draft_changes = {}
