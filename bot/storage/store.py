"""What the services need of a store, whatever the backend: transactions and their queries.

The services depend on these protocols only; ``bot/storage/sqlite`` implements them with
aiosqlite, and another backend (PostgreSQL) would implement the same methods. Every method runs
inside the transaction it was called on, so an effect and what it owes (a message, a card,
an audit line) are committed together or not at all.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import date, datetime
from typing import Any, Protocol

from bot.core.case import Case, QueueFilter
from bot.core.catalogue import Msg
from bot.core.desk import DeskQuery, Tab
from bot.core.digest import DueCase
from bot.core.draft import Draft
from bot.core.outbox import Cleanup, FileRef, OwedMessage, Priority
from bot.core.staff import StaffMember
from bot.core.templates import ReplyTemplate
from bot.storage.records import (
    AuditEntry,
    CaseMessage,
    CasePost,
    ChatLane,
    Erasure,
    ErasureReason,
    IdleDraft,
    LoginAttempt,
    MessageKind,
    OutboxEntry,
    PromiseCounts,
    QueueRow,
    StoredCase,
    SummaryPlace,
)


class Drafts(Protocol):
    """Drafts in progress, one per constituent."""

    async def get_draft(self, user_id: int) -> Draft | None:
        """Return the constituent's draft, if they have one."""

    async def claim_draft(
        self, update_id: int, user_id: int, now: datetime
    ) -> tuple[bool, Draft | None]:
        """Record an update as processed and return the sender's draft (False: it already was).

        A store may find out only as the transaction goes on that the update already was
        processed: it then raises AlreadyProcessed from the transaction, and nothing of it
        is committed.
        """

    async def save_draft(self, user_id: int, chat_id: int, draft: Draft) -> None:
        """Store the draft, replacing the earlier state."""

    async def delete_draft(self, user_id: int) -> None:
        """Delete the constituent's draft and every answer in it."""

    async def count_drafts(self) -> int:
        """Return how many drafts are stored."""

    async def language_of(self, chat_id: int) -> str | None:
        """Return the language a constituent chose: their draft's, else their latest case's."""

    async def draft_and_language(
        self, user_id: int, chat_id: int
    ) -> tuple[Draft | None, str | None]:
        """Return the constituent's draft and the language they chose (one read, if any)."""

    async def set_language(self, user_id: int, language: str) -> None:
        """Record a constituent's new choice of language on their cases (drafts hold their own)."""

    async def list_idle_drafts(self, idle_since: datetime) -> list[IdleDraft]:
        """Return the drafts untouched since ``idle_since``."""

    async def set_draft_state(self, user_id: int, draft: Draft) -> None:
        """Replace a draft's stored state without touching when it was last used."""


class Cases(Protocol):
    """Sent cases, their consent records, and the queue over them."""

    async def create_case(self, case: Case) -> int:
        """Store a new case with its consent record; return its id (DuplicateReferenceError)."""

    async def save_case(self, case_id: int, case: Case) -> None:
        """Store a changed case."""

    async def set_card_message(self, case_id: int, message_id: int) -> None:
        """Remember which staff-group message is the case's card."""

    async def set_topic(self, case_id: int, topic_id: int | None) -> None:
        """Remember a case's topic in the staff group; None forgets it, and the card in it."""

    async def case_for_topic(self, topic_id: int) -> StoredCase | None:
        """Return the case whose topic in the staff group this is, if any."""

    async def case_for_post(self, chat_id: int, message_id: int) -> StoredCase | None:
        """Return the case whose card, or relayed message, a staff-side message of the bot's is."""

    async def get_case(self, reference: str) -> StoredCase | None:
        """Return the case with ``reference``, if there is one."""

    async def get_case_by_id(self, case_id: int) -> StoredCase | None:
        """Return the case with id ``case_id``, if there is one."""

    async def list_cases_for_user(self, user_id: int) -> list[StoredCase]:
        """Return a constituent's own cases, oldest first."""

    async def list_queue(
        self,
        which: QueueFilter,
        *,
        staff_id: int | None = None,
        category: str | None = None,
        offset: int = 0,
        limit: int = 10,
        today: date | None = None,
    ) -> tuple[list[QueueRow], int]:
        """Return one page of open cases, urgent first then oldest, and how many there are.

        ``today`` (a London date) is what the overdue filter compares each case's due date to.
        """

    def iter_cases(self, since: datetime | None = None) -> AsyncIterator[Case]:
        """Yield every case (created at or after ``since``), oldest first."""

    async def list_expired_cases(self, closed_before: datetime) -> list[StoredCase]:
        """Return the closed cases last changed before ``closed_before``."""

    async def erase_case(self, stored: StoredCase, at: datetime, reason: ErasureReason) -> None:
        """Delete a case with everything kept with it, leaving only a record of the erasure."""

    async def get_erasure(self, reference: str) -> Erasure | None:
        """Return the record of an erased case, if the case with ``reference`` was erased."""

    async def withdraw_consent(self, case_id: int, at: datetime) -> None:
        """Record that consent on a case was withdrawn."""


class Search(Protocol):
    """Finding cases by what they say; an erased case is found by nothing."""

    async def index_case(self, case_id: int, text: str) -> None:
        """Make a case found by ``text`` (its notes and messages are found as well)."""

    async def search_cases(
        self, terms: list[str], *, limit: int = 10
    ) -> tuple[list[QueueRow], int]:
        """Return the cases found by every term, newest first, and how many there are."""


class Posts(Protocol):
    """Messages the bot posted about each case on the staff side."""

    async def record_post(
        self,
        case_id: int,
        chat_id: int,
        message_id: int,
        thread_id: int | None,
        at: datetime,
        answerable: bool = False,
    ) -> None:
        """Remember a message the bot posted about a case on the staff side (a gone case: no).

        A reply to an ``answerable`` one (a relayed message) answers the constituent.
        """

    async def list_posts(self, case_id: int) -> list[CasePost]:
        """Return the messages the bot posted about a case on the staff side, oldest first."""


class Messages(Protocol):
    """Internal notes and messages exchanged with the constituent."""

    async def add_message(
        self, case_id: int, at: datetime, kind: MessageKind, author: int | None, text: str
    ) -> int:
        """Add a note or message to a case; return its id."""

    async def set_telegram_message(self, message_id: int, telegram_message_id: int) -> None:
        """Remember which channel message carried a reply, so a reply to it finds the case."""

    async def list_messages(self, case_id: int) -> list[CaseMessage]:
        """Return a case's notes and messages, oldest first."""

    async def case_for_reply(self, chat_id: int, telegram_message_id: int) -> int | None:
        """Return the case whose message to ``chat_id`` the constituent replied to, if any."""


class Audit(Protocol):
    """The audit log: who did what to which case, and when."""

    async def record(
        self,
        at: datetime,
        actor: int | None,
        action: str,
        case_ref: str | None = None,
        detail: str = "",
    ) -> None:
        """Record a view or an action; ``detail`` holds plain values only."""

    async def list_audit(self, case_ref: str) -> list[AuditEntry]:
        """Return everything recorded against a case, oldest first."""

    async def count_audit(self, action: str) -> int:
        """Return how many times ``action`` was recorded."""


class Outbox(Protocol):
    """What the office owes someone, and how its delivery went."""

    async def owe(
        self,
        chat_id: int,
        msg: Msg,
        now: datetime,
        case_id: int | None = None,
        *,
        attachment: FileRef | None = None,
        case_message_id: int | None = None,
        notice: bool = False,
        edit_message_id: int | None = None,
        priority: Priority = Priority.NORMAL,
        relayed: bool = False,
    ) -> None:
        """Owe ``chat_id`` the catalogue text ``msg`` (rendered when it is sent)."""

    async def owe_card(self, case_id: int, chat_id: int, now: datetime) -> None:
        """Owe the staff group an up-to-date card for a case (one waiting update per case)."""

    async def owe_message(self, chat_id: int, owed: OwedMessage, now: datetime) -> None:
        """Owe ``chat_id`` a message made in full by the caller (an intake's reply)."""

    async def lane_of_chat(self, chat_id: int, limit: int) -> ChatLane:
        """Return the first ``limit`` entries waiting for a private chat (its one lane), in order,
        with when each is due, and the language its person reads, in one read."""

    def lane_with_commit(self, chat_id: int, limit: int) -> Callable[[], ChatLane | None]:
        """Ask for what ``lane_of_chat`` returns as it stands once this transaction commits
        (read with the COMMIT, where the store can); call the result after the commit.

        The result gives None if the lane was not read (the transaction did not commit).
        """

    async def owe_cleanup(self, chat_id: int, cleanup: Cleanup, now: datetime) -> None:
        """Owe a chat the removal of an erased case's topic or messages."""

    async def owe_summary(self, chat_id: int, now: datetime) -> None:
        """Owe the staff group an up-to-date summary of open cases (one waiting update)."""

    async def list_due_and_next(
        self, now: datetime, limit: int = 50
    ) -> tuple[list[OutboxEntry], datetime | None]:
        """Return entries due now, each the oldest waiting in its lane, and when the next entry
        that can be sent falls due (None: nothing waits), as of one moment."""

    async def list_behind(self, entry: OutboxEntry, limit: int = 20) -> list[OutboxEntry]:
        """Return the entries waiting behind ``entry`` in its lane, oldest first."""

    async def mark_sent(self, entry_id: int, now: datetime) -> None:
        """Record that an entry was delivered."""

    async def mark_card_sent(self, entry_id: int, shown: StoredCase, now: datetime) -> None:
        """Record a card delivered, unless its case has changed since ``shown`` was read
        (then it stays owed, to bring the card up to date)."""

    async def mark_retry(self, entry_id: int, due: datetime, error: str) -> None:
        """Record a failed attempt and when to try again."""

    async def mark_failed(self, entry_id: int, error: str) -> None:
        """Record that an entry cannot be delivered."""

    async def count_pending(self) -> int:
        """Return how many entries are waiting."""

    async def get_summary(self) -> SummaryPlace:
        """Return where the staff group's summary of open cases is (nowhere yet: Nones)."""

    async def set_summary(self, place: SummaryPlace) -> None:
        """Remember where the summary of open cases is."""


class Safeguards(Protocol):
    """Processed updates, fetched updates, blocked senders and anonymous counts."""

    async def mark_processed(self, update_id: int, now: datetime) -> bool:
        """Record an update as processed; return False if it already was."""

    def claim_update(self, update_id: int, now: datetime) -> None:
        """Record an update as processed with the transaction it is in.

        If it already was, AlreadyProcessed is raised from the transaction (when the store
        finds out: at once, or with a later statement), and nothing of it is committed.
        """

    async def admission(self, update_id: int, user_id: int) -> tuple[bool, bool]:
        """Return (already processed, sender blocked)."""

    async def forget_processed(self, before: datetime) -> int:
        """Forget processed updates older than ``before``; return how many."""

    async def adopt_bot(self, bot_id: int) -> int:
        """Record whose update ids these are; forget another bot's. Return how many were."""

    async def guard_state(self) -> tuple[set[int], int]:
        """Return the blocked senders and the newest processed update id (0: none), in one read."""

    async def block(self, user_id: int, now: datetime, by: int, case_ref: str) -> None:
        """Block a sender: their messages are no longer processed."""

    async def unblock(self, user_id: int) -> bool:
        """Unblock a sender; return False if they were not blocked."""

    async def count_outcome(self, day: str, outcome: str) -> None:
        """Add one to the anonymous count of intakes that ended this way on this day."""

    async def keep_updates(self, updates: Sequence[dict[str, Any]], now: datetime) -> None:
        """Store fetched updates until they are processed."""

    async def list_unprocessed(self) -> list[dict[str, Any]]:
        """Return kept updates not yet processed, oldest first."""

    async def forget_updates(self, before: datetime) -> None:
        """Forget kept updates that were processed, or that are older than ``before``."""


class WorkingDay(Protocol):
    """Cases due by a date, and things done once a day."""

    async def list_cases_due(self, until: date) -> list[DueCase]:
        """Return the open cases due on or before ``until`` (a London date), earliest first."""

    async def claim_day(self, what: str, day: date) -> bool:
        """Record that ``what`` was done on ``day``; return False if it already was (or later)."""


class Templates(Protocol):
    """The office's standard replies."""

    async def seed_templates(self, templates: Mapping[str, str]) -> int:
        """Store ``templates`` if none were ever seeded; return how many were stored."""

    async def list_templates(self) -> list[ReplyTemplate]:
        """Return every template, by name."""

    async def get_template(self, name: str) -> ReplyTemplate | None:
        """Return the template called ``name``, if there is one."""

    async def save_template(self, template: ReplyTemplate) -> None:
        """Store a template, replacing the one of the same name."""

    async def delete_template(self, name: str) -> bool:
        """Delete the template called ``name``; return False if there was none."""


class Team(Protocol):
    """The office's staff, their roles and specialisms."""

    async def seed_staff(self, members: Sequence[StaffMember], at: datetime) -> bool:
        """Store ``members`` if the staff were never seeded; return whether they were now."""

    async def list_staff(self) -> tuple[list[StaffMember], dict[int, str]]:
        """Return the staff in the order they were added, and the names of former staff."""

    async def save_staff_member(self, member: StaffMember, at: datetime) -> None:
        """Add a staff member (or bring one back), or change one; their place is kept."""

    async def remove_staff_member(self, user_id: int, at: datetime) -> bool:
        """Take someone off the staff (their name stays for the history); False if not on it."""


class Statistics(Protocol):
    """The office's statistics over a period of London dates (inclusive)."""

    async def count_received_by_week(self, start: date, end: date) -> list[tuple[date, str, int]]:
        """Return (Monday, category, cases) for cases received from ``start`` to ``end``."""

    async def count_open_by_assignee(self) -> list[tuple[int | None, str, int]]:
        """Return (assignee, status, cases) for the open cases."""

    async def median_days(self, start: date, end: date, until: str) -> tuple[float | None, int]:
        """Return the median days from arrival to ``until`` (first_reply_at or closed_at)."""

    async def count_promises(self, start: date, end: date, today: date) -> PromiseCounts:
        """Return how the cases received from ``start`` to ``end`` stand against their promise."""

    async def count_intake_outcomes(self, start: date, end: date) -> dict[str, int]:
        """Return the anonymous counts of intakes by outcome, from ``start`` to ``end``."""


class Desk(Protocol):
    """The staff desk: login links and sessions (kept as hashes), its key, and its queue."""

    async def desk_key(self, candidate: str) -> str:
        """Return the desk's key, keeping ``candidate`` as the key if there is none yet."""

    async def add_login(
        self, token_hash: str, user_id: int, now: datetime, until: datetime
    ) -> None:
        """Keep a one-time login link (its hash) for a caseworker until ``until``."""

    async def take_login(self, token_hash: str, now: datetime) -> LoginAttempt:
        """Spend a login link: say whether it was good, already used, too old or unknown."""

    async def add_session(self, id_hash: str, user_id: int, now: datetime, until: datetime) -> None:
        """Keep a signed-in session (its hash) until ``until``; forget sessions run out."""

    async def session_user(self, id_hash: str, now: datetime) -> int | None:
        """Return whose session this is, if it exists and has not run out."""

    async def end_session(self, id_hash: str) -> None:
        """Forget one session (signing out)."""

    async def end_sessions(self, user_id: int) -> int:
        """Forget every session of a caseworker; return how many there were."""

    async def list_desk(
        self, query: DeskQuery, *, staff_id: int, offset: int, limit: int
    ) -> list[StoredCase]:
        """Return one page of a queue view, in its order (count_tabs says how many it holds)."""

    async def count_tabs(self, query: DeskQuery, *, staff_id: int) -> dict[Tab, int]:
        """Return how many cases each tab holds with the view's filters."""

    def iter_desk(self, query: DeskQuery, *, staff_id: int) -> AsyncIterator[StoredCase]:
        """Yield every case of a queue view, in its order."""

    async def search_desk(
        self, terms: list[str], *, limit: int, most: int
    ) -> tuple[list[StoredCase], int]:
        """Return the newest cases the search index finds by every term, and how many (to most)."""

    async def existing_references(self, references: Sequence[str]) -> list[str]:
        """Return those of ``references`` that are cases, in order."""


class Tx(
    Drafts,
    Cases,
    Search,
    Posts,
    Messages,
    Audit,
    Outbox,
    Safeguards,
    WorkingDay,
    Templates,
    Team,
    Statistics,
    Desk,
    Protocol,
):
    """Everything the services do inside one transaction."""


class Store(Protocol):
    """A place the office's data lives: transactions over it, and closing it."""

    def transaction(self) -> AbstractAsyncContextManager[Tx]:
        """Run a block as one write transaction: all of it is committed, or none of it."""

    def autocommit(self) -> AbstractAsyncContextManager[Tx]:
        """Run reads, or single statements that commit themselves, without a transaction."""

    def mark_sent_soon(self, entry_ids: Sequence[int], at: datetime) -> None:
        """Record outbox entries as sent before any later read, and within moments.

        No read afterwards finds them owed; a crash before the record is written sends
        them again (delivery is at least once).
        """

    async def scrub(self) -> None:
        """Make rows deleted so far unrecoverable from the store's files (after an erasure)."""

    async def close(self) -> None:
        """Close the store, waiting for any transaction under way."""


class AlreadyProcessed(Exception):  # noqa: N818 -- what happened, not an error
    """The update a transaction claimed had been processed already: nothing was committed."""


class StoreError(Exception):
    """The store cannot be used (a folder, a full disk, not a database): one plain line."""
