"""What the desk's pages show, made from cases: labels from the catalogue, London times, names."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core import roles
from bot.core.cards import consent_key, constituent_name
from bot.core.case import Case, CaseStatus
from bot.core.catalogue import Catalogue, Msg
from bot.core.dates import long_date
from bot.core.display import shown_answer, shown_time
from bot.core.flow import Flow
from bot.core.staff import StaffDirectory
from bot.core.workdays import london_date
from bot.service.staff import CaseView
from bot.storage.records import AuditEntry, StoredCase

OPEN_STATUSES = (CaseStatus.NEW, CaseStatus.OPEN, CaseStatus.WAITING)


def age(since: datetime, now: datetime) -> str:
    """Return how long ago something arrived, in the largest whole unit: 45m, 5h, 3d."""
    minutes = max(0, int((now - since).total_seconds() // 60))
    if minutes < 60:
        return f"{minutes}m"
    if minutes < 48 * 60:
        return f"{minutes // 60}h"
    return f"{minutes // (24 * 60)}d"


@dataclass(frozen=True, slots=True)
class Texts:
    """The office's texts, flow and staff as the desk shows them (plain: Jinja escapes)."""

    catalogue: Catalogue
    flow: Flow
    staff: StaffDirectory
    clock: Callable[[], datetime]

    def t(self, key: str, **params: Any) -> str:
        """Return a catalogue text filled with ``params`` (numbers and lists made text)."""
        values: dict[str, str | Msg] = {}
        for name, value in params.items():
            if isinstance(value, list | tuple):
                values[name] = ", ".join(str(v) for v in value)
            elif isinstance(value, int) and not isinstance(value, bool):
                values[name] = f"{value:,}"
            else:
                values[name] = value if isinstance(value, Msg) else str(value)
        return self.catalogue.render(Msg(key, values), str)

    def label(self, key: str) -> str:
        """Return a label key's text, or the key itself if the catalogue has none."""
        return self.t(key) if key in self.catalogue else key

    def category(self, value: str) -> str:
        """Return a category's label as the constituent's button showed it."""
        option = self.flow.step(roles.CATEGORY).option(value)
        return self.label(option.label) if option else value

    def categories(self) -> list[tuple[str, str]]:
        """Return every category as (value, label)."""
        return [(o.value, self.label(o.label)) for o in self.flow.step(roles.CATEGORY).options]

    def status(self, value: str) -> str:
        """Return a status's label."""
        return self.label(f"status.{value}")

    def assignee(self, user_id: int | None) -> str:
        """Return who has a case."""
        return self.staff.name_of(user_id) or self.t("desk.nobody")

    def row(self, stored: StoredCase) -> dict[str, Any]:
        """Return one line of the queue or of search results."""
        case = stored.case
        return {
            "reference": case.reference,
            "name": constituent_name(case),
            "category": self.category(case.category),
            "urgent": case.urgency.urgent,
            "why": "; ".join(case.urgency.reasons),
            "age": age(case.created_at, self.clock()),
            "received": shown_time(case.created_at),
            "assignee": self.assignee(case.assignee),
            "status": self.status(case.status.value),
            "overdue": case.is_overdue(london_date(self.clock())),
        }

    def case(self, view: CaseView, me: int, followups: list[str]) -> dict[str, Any]:
        """Return the whole case page: answers, consent, documents, messages, notes, history."""
        case = view.stored.case
        conversation: list[dict[str, str]] = []
        notes: list[dict[str, str]] = []
        for message in view.messages:
            who = (
                self.t("desk.constituent")
                if message.kind == "from_constituent"
                else self.staff.name_of(message.author) or self.t("desk.office")
            )
            line = {"kind": message.kind, "who": who, "at": shown_time(message.at)}
            line["text"] = message.text
            (notes if message.kind == "note" else conversation).append(line)
        return {
            "reference": case.reference,
            "name": constituent_name(case),
            "category": self.category(case.category),
            "urgent": case.urgency.urgent,
            "why": "; ".join(case.urgency.reasons),
            "concerns": ", ".join(self.label(f"concern.{c}") for c in case.concerns),
            "status": self.status(case.status.value),
            "status_value": case.status.value,
            "assignee": self.assignee(case.assignee),
            "mine": case.assignee == me,
            "open": case.is_open,
            "received": shown_time(case.created_at),
            "age": age(case.created_at, self.clock()),
            "place": self._place(case),
            "overdue": case.is_overdue(london_date(self.clock())),
            "reply_by": self._reply_by(case),
            "follow_up": long_date(case.follow_up)
            if case.follow_up
            else self.t("desk.case.no_date"),
            "follow_up_value": case.follow_up.isoformat() if case.follow_up else "",
            "linked_to": case.linked_to,
            "followups": followups,
            "answers": self.answers(case),
            "consent": self._consent(case),
            "documents": self._documents(case),
            "conversation": conversation,
            "notes": notes,
            "history": [self.history(entry) for entry in view.history],
            "seen": seen_stamp(case),
        }

    def answers(self, case: Case) -> list[tuple[str, str]]:
        """Return every answer as the constituent gave it, labelled as the flow labels it."""
        rows = []
        for step in self.flow.steps:
            if step.label is None or step.id not in case.answers:
                continue
            value = case.answers[step.id]
            option = step.option(value) if value is not None else None
            if option is not None:
                shown = self.label(option.label)
            elif value:
                shown = shown_answer(step.validator, value)
            else:
                shown = self.t("summary.not_given")
            rows.append((self.label(step.label), shown))
        return rows

    def _reply_by(self, case: Case) -> str:
        if case.reply_by is None:
            return self.t("desk.case.no_date")
        if case.first_reply_at is not None:
            return self.t("desk.case.replied", date=long_date(case.reply_by))
        return long_date(case.reply_by)

    def _place(self, case: Case) -> str:
        if case.postcode_verified:
            return case.constituency_name
        return self.t("card.postcode_unverified")

    def _consent(self, case: Case) -> dict[str, str]:
        consent = case.consent
        withdrawn = consent.withdrawn_at
        return {
            "answer": self.t(consent_key(case)),
            "version": consent.version,
            "at": shown_time(consent.recorded_at),
            "withdrawn": shown_time(withdrawn)
            if withdrawn
            else self.t("desk.consent.not_withdrawn"),
            "wording": consent.wording or "",
        }

    def _documents(self, case: Case) -> list[dict[str, str]]:
        found = []
        for number, attachment in enumerate(case.attachments):
            kind = self.t(f"desk.document.{attachment.kind}")
            found.append(
                {
                    "name": attachment.file_name or f"{kind} {number + 1}",
                    "caption": attachment.caption or "",
                    "href": f"/cases/{case.reference}/documents/{number}",
                }
            )
        return found

    def history(self, entry: AuditEntry) -> dict[str, str]:
        """Return one audit entry with names, not ids."""
        if entry.actor is None:
            who = self.t("desk.system")
        else:
            who = self.staff.name_of(entry.actor) or self.t("desk.constituent")
        key = f"desk.audit.{entry.action}"
        what = self.t(key) if key in self.catalogue else entry.action.replace("_", " ")
        detail = entry.detail
        if entry.action in ("claimed", "assigned") and detail.startswith("to="):
            target = detail.removeprefix("to=")
            detail = self.assignee(int(target)) if target.isdigit() else target
        elif entry.action == "status":
            detail = self.status(detail)
        return {"at": shown_time(entry.at), "who": who, "what": f"{what} {detail}".strip()}


def seen_stamp(case: Case) -> str:
    """Return the mark of a case's version that a form on it carries (its last change)."""
    return case.updated_at.isoformat()


def shown_number(value: float) -> str:
    """Return a number as the statistics' tables show it: whole plain, others to one place."""
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.1f}"


def shown_share(share: float | None) -> str:
    """Return a share as a whole percentage ("" when nothing was counted)."""
    return "" if share is None else f"{round(share * 100)}%"
