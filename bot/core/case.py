"""A sent enquiry: the case staff work on, with its consent record and urgency."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from enum import Enum, StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.core.draft import Answer, Attachment
from bot.core.roles import (
    CATEGORY,
    CONSENT,
    DEADLINE,
    POLICY_TOPIC,
    POLICY_VIEW,
    POSTCODE,
    WHAT_HAPPENED,
)
from bot.core.text import one_line


class CaseStatus(StrEnum):
    """Where a case is in the office's work."""

    NEW = "new"
    OPEN = "open"
    WAITING = "waiting"
    CLOSED = "closed"
    CLOSED_UNABLE = "closed_unable"


OPEN_STATUSES = frozenset({CaseStatus.NEW, CaseStatus.OPEN, CaseStatus.WAITING})
SUMMARY_STEPS = (WHAT_HAPPENED, POLICY_VIEW, POLICY_TOPIC)
SUMMARY_LENGTH = 140


class Keep(Enum):
    """The default of a change that leaves a field as it is, where None is a value to set."""

    KEEP = "keep"


class QueueFilter(StrEnum):
    """Which open cases the staff queue lists."""

    ALL = "all"
    MINE = "mine"
    UNASSIGNED = "unassigned"
    URGENT = "urgent"
    CATEGORY = "category"


class Consent(BaseModel):
    """What the constituent agreed to, which wording they saw, and when."""

    model_config = ConfigDict(frozen=True)

    version: str
    answer: Literal["yes", "no"]
    recorded_at: datetime
    withdrawn_at: datetime | None = None
    # The words the person was shown when they answered (plain text).
    wording: str | None = None

    @property
    def given(self) -> bool:
        """Tell whether the office may act with organisations on the person's behalf now."""
        return self.answer == "yes" and self.withdrawn_at is None

    def withdrawn(self, now: datetime) -> Consent:
        """Return the consent as withdrawn at ``now``."""
        return self.model_copy(update={"withdrawn_at": now})


class Urgency(BaseModel):
    """Whether a case goes to the top of the queue, and why."""

    model_config = ConfigDict(frozen=True)

    urgent: bool
    reasons: tuple[str, ...] = ()


class Case(BaseModel):
    """A sent enquiry, ready for the staff queue."""

    reference: str
    user_id: int
    chat_id: int
    created_at: datetime
    updated_at: datetime
    status: CaseStatus = CaseStatus.NEW
    flow_id: str
    flow_version: int
    category: str
    constituency_code: str
    constituency_name: str
    # False when the person sent it with a postcode not in our data, for staff to check.
    postcode_verified: bool = True
    answers: dict[str, str | None]
    attachments: list[Attachment] = Field(default_factory=list)
    consent: Consent
    deadline: date | None = None
    urgency: Urgency
    linked_to: str | None = None
    assignee: int | None = None
    summary: str = ""
    # Safeguarding concerns raised by what the person wrote: staff see them on the card.
    concerns: tuple[str, ...] = ()
    # The language the constituent chose: what the office sends them is in it.
    language: str = "en"

    @property
    def is_open(self) -> bool:
        """Tell whether the case is still being worked."""
        return self.status in OPEN_STATUSES

    # Typed changes: pydantic's model_copy(update=...) would take a misspelt field silently.

    def changed(
        self,
        now: datetime,
        *,
        status: CaseStatus | None = None,
        assignee: int | Literal[Keep.KEEP] | None = Keep.KEEP,
    ) -> Case:
        """Return the case updated at ``now``, with a new status or assignee (None: nobody)."""
        update: dict[str, object] = {"updated_at": now}
        if status is not None:
            update["status"] = status
        if assignee is not Keep.KEEP:
            update["assignee"] = assignee
        return self.model_copy(update=update)

    def with_concerns(self, concerns: Iterable[str], now: datetime) -> Case:
        """Return the case flagged with ``concerns`` as well, urgent, updated at ``now``."""
        merged = (*self.concerns, *(c for c in concerns if c not in self.concerns))
        urgency = _with_safeguarding(self.urgency, merged)
        return self.model_copy(update={"concerns": merged, "urgency": urgency, "updated_at": now})

    def with_consent_withdrawn(self, now: datetime) -> Case:
        """Return the case with its consent withdrawn at ``now``."""
        return self.model_copy(update={"consent": self.consent.withdrawn(now), "updated_at": now})

    def in_language(self, language: str) -> Case:
        """Return the case with the constituent's new choice of language."""
        return self.model_copy(update={"language": language})

    def with_attachment(self, attachment: Attachment, now: datetime) -> Case:
        """Return the case with ``attachment`` added after the others, updated at ``now``."""
        attachments = [*self.attachments, attachment]
        return self.model_copy(update={"attachments": attachments, "updated_at": now})


class CaseError(ValueError):
    """A finished draft lacks something every case needs (a flow or engine fault)."""


def assess_urgency(
    deadline: date | None,
    texts: Iterable[str],
    today: date,
    deadline_days: int,
    keywords: Iterable[str],
) -> Urgency:
    """Flag a case urgent for a near deadline or for words such as 'eviction' in its text."""
    reasons: list[str] = []
    if deadline is not None and deadline <= today + timedelta(days=deadline_days):
        reasons.append(f"deadline {deadline.isoformat()}")
    words = " ".join(texts).casefold()
    reasons += [f"mentions {word}" for word in keywords if word.casefold() in words]
    return Urgency(urgent=bool(reasons), reasons=tuple(reasons))


def build_case(
    answers: Mapping[str, Answer],
    attachments: list[Attachment],
    *,
    reference: str,
    owner: tuple[int, int],
    flow: tuple[str, int],
    now: datetime,
    urgency: Urgency,
    linked_to: str | None = None,
    assignee: int | None = None,
    concerns: Sequence[str] = (),
    consent_wording: str | None = None,
    language: str = "en",
) -> Case:
    """Make the case for a finished draft's answers (those that apply)."""
    consent = answers.get(CONSENT)
    postcode = answers.get(POSTCODE)
    category = answers.get(CATEGORY)
    if consent is None or consent.value not in ("yes", "no") or postcode is None:
        raise CaseError("a case needs a consent answer and a checked postcode")
    if category is None or category.value is None:
        raise CaseError("a case needs a category")
    deadline = answers.get(DEADLINE)
    return Case(
        reference=reference,
        user_id=owner[0],
        chat_id=owner[1],
        created_at=now,
        updated_at=now,
        flow_id=flow[0],
        flow_version=flow[1],
        category=category.value,
        constituency_code=postcode.extra["constituency_code"],
        constituency_name=postcode.extra["constituency_name"],
        postcode_verified=postcode.extra.get("verified") != "no",
        answers={step: answer.value for step, answer in answers.items()},
        attachments=list(attachments),
        consent=Consent(
            version=consent_version(consent.extra["version"], language),
            answer="yes" if consent.value == "yes" else "no",
            recorded_at=consent.answered_at,
            wording=consent_wording,
        ),
        deadline=date.fromisoformat(deadline.value) if deadline and deadline.value else None,
        urgency=_with_safeguarding(urgency, concerns),
        linked_to=linked_to,
        assignee=assignee,
        summary=summarise(answers),
        concerns=tuple(concerns),
        language=language,
    )


def consent_version(version: str, language: str) -> str:
    """Return the version of the consent wording in ``language``: each has its own."""
    return version if language == "en" else f"{version}-{language}"


def _with_safeguarding(urgency: Urgency, concerns: Sequence[str]) -> Urgency:
    """Return the urgency of a case whose constituent may be at risk: always urgent."""
    if not concerns or "safeguarding" in urgency.reasons:
        return urgency
    return Urgency(urgent=True, reasons=("safeguarding", *urgency.reasons))


def summarise(answers: Mapping[str, Answer]) -> str:
    """Return a one-line summary of what the constituent wrote, for cards and exports."""
    for step in SUMMARY_STEPS:
        answer = answers.get(step)
        if answer is not None and answer.value:
            return one_line(answer.value, SUMMARY_LENGTH)
    return ""
