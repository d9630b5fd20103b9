"""What a store hands back, whatever the backend: stored cases, queue rows, messages, audit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from bot.core.case import Case
from bot.core.draft import Draft
from bot.core.outbox import Cleanup, OwedMessage, Priority

MessageKind = Literal["note", "to_constituent", "from_constituent"]
OutboxKind = Literal["card", "message", "cleanup", "summary"]


class DuplicateReferenceError(Exception):
    """The reference is already taken; make another and try again."""


@dataclass(frozen=True, slots=True)
class StoredCase:
    """A case with its row id, the message id of its card and its topic in the staff group."""

    id: int
    case: Case
    card_message_id: int | None
    topic_id: int | None = None
    # The case as the store held it when read, to tell later whether it has changed since
    # (None: not kept).
    version: str | None = None


@dataclass(frozen=True, slots=True)
class QueueRow:
    """One line of the queue, read without decoding the whole case."""

    reference: str
    category: str
    urgent: bool
    created_at: datetime
    assignee: int | None
    status: str
    summary: str
    topic_id: int | None = None
    # The next date the office owes action on (a follow-up, or the unmet reply-by date).
    due_on: date | None = None


@dataclass(frozen=True, slots=True)
class CaseMessage:
    """A note (never shown to the constituent) or a message to or from them."""

    id: int
    at: datetime
    kind: MessageKind
    author: int | None
    text: str


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One recorded view or action."""

    at: datetime
    actor: int | None
    action: str
    case_ref: str | None
    detail: str


ErasureReason = Literal["request", "retention"]


@dataclass(frozen=True, slots=True)
class Erasure:
    """What is left of an erased case: its reference, when, and why."""

    reference: str
    erased_at: datetime
    reason: ErasureReason
    card_message_id: int | None


@dataclass(frozen=True, slots=True)
class IdleDraft:
    """A draft untouched for a while: whose it is, where to tell them, and the draft."""

    user_id: int
    chat_id: int
    draft: Draft


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One thing owed a chat: a message (``message``), a case's card to post or bring up to date,
    a cleanup after an erasure (``cleanup``), or the summary of open cases."""

    id: int
    kind: OutboxKind
    chat_id: int
    case_id: int | None
    message: OwedMessage | None
    attempts: int
    created_at: datetime
    priority: Priority = Priority.NORMAL
    cleanup: Cleanup | None = None
    # The entry's case as it was when listed: its topic, and whether it is open (None: no case).
    topic_id: int | None = None
    case_open: bool | None = None
    card_message_id: int | None = None
    # A card's case, as it was when listed (None: not a card, or the case is gone).
    case: StoredCase | None = None


@dataclass(frozen=True, slots=True)
class ChatLane:
    """What a private chat is owed, oldest first with when each falls due, and its language.

    ``language`` is the one its person reads, as chosen by the time of reading (their draft's,
    else their latest case's; None: the office's own).
    """

    waiting: list[tuple[OutboxEntry, datetime]]
    language: str | None


@dataclass(frozen=True, slots=True)
class CasePost:
    """A message the bot posted about a case on the staff side: where, and when."""

    chat_id: int
    message_id: int
    thread_id: int | None
    sent_at: datetime


@dataclass(frozen=True, slots=True)
class SummaryPlace:
    """Where the staff group's summary of open cases is: its topic and its message."""

    topic_id: int | None
    message_id: int | None


@dataclass(frozen=True, slots=True)
class PromiseCounts:
    """Cases against their promised reply date: replied in time, late, overdue, not yet due."""

    in_time: int
    late: int
    overdue: int
    not_due: int


LoginState = Literal["ok", "expired", "used", "unknown"]


@dataclass(frozen=True, slots=True)
class LoginAttempt:
    """What a one-time login link turned out to be: good, spent, too old or never made."""

    state: LoginState
    user_id: int | None
