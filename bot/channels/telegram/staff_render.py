"""Render cases for staff: the card in the staff group, the queue and the whole case."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.channels.telegram.render import MESSAGE_LIMIT, escape, plain
from bot.core import roles
from bot.core.cards import card_body, consent_key, due_line, on_behalf
from bot.core.case import Case, CaseChannel
from bot.core.catalogue import Catalogue, Msg
from bot.core.display import shown_answer, shown_time
from bot.core.flow import Flow
from bot.core.staff import StaffDirectory
from bot.core.workdays import london_date
from bot.service.staff import CaseView, QueuePage
from bot.storage.records import AuditEntry

STAFF_PREFIX = "s1"


def staff_data(action: str, *parts: str | int) -> str:
    """Return callback data for a staff button: ``s1:<action>:<parts...>``."""
    return ":".join([STAFF_PREFIX, action, *map(str, parts)])


def age(since: datetime, now: datetime) -> str:
    """Return a short age such as 45m, 5h or 3d."""
    minutes = max(0, int((now - since).total_seconds() // 60))
    if minutes < 60:
        return f"{minutes}m"
    if minutes < 48 * 60:
        return f"{minutes // 60}h"
    return f"{minutes // (24 * 60)}d"


def when(moment: datetime) -> str:
    """Return a timestamp as people in the office read it: 23 Nov 2026 09:30, London time."""
    return shown_time(moment)


class StaffRenderer:
    """Staff-facing texts, with the office's catalogue, flow and staff names."""

    def __init__(
        self,
        catalogue: Catalogue,
        flow: Flow,
        staff: StaffDirectory,
        clock: Callable[[], datetime],
    ) -> None:
        """Keep what staff texts need."""
        self.catalogue, self.flow, self.staff, self.clock = catalogue, flow, staff, clock

    def text(self, msg: Msg) -> str:
        """Render a catalogue text as HTML."""
        return self.catalogue.render(msg, escape)

    def label(self, key: str) -> str:
        """Render a catalogue text for a button."""
        return self.catalogue.render(Msg(key), plain)

    def category(self, value: str) -> str:
        """Return the plain label of a category value."""
        option = self.flow.step(roles.CATEGORY).option(value)
        return self.label(option.label) if option else value

    def assignee(self, user_id: int | None) -> str:
        """Return who has a case, as staff see it."""
        return self.staff.name_of(user_id) or self.label("card.unassigned")

    def card(self, case: Case) -> tuple[str, InlineKeyboardMarkup]:
        """Return the staff-group card for a case, and its Claim / Show / Close buttons."""
        lines = [self._urgency(case)]
        if case.concerns:
            labels = ", ".join(self.label(f"concern.{c}") for c in case.concerns)
            lines.append(self.text(Msg("card.safeguarding", {"concerns": labels})))
        body = card_body(
            case,
            category=self.category(case.category),
            assignee=self.assignee(case.assignee),
            received=when(case.created_at),
            age=age(case.created_at, self.clock()),
        )
        lines.append(self.text(body))
        due = due_line(case, london_date(self.clock()))
        if due is not None:
            lines.append(self.text(due))
        if case.channel is not CaseChannel.TELEGRAM:
            taken = Msg(f"channel.{case.channel.value}")
            lines.append(self.text(Msg("card.taken", {"channel": taken})))
        if on_behalf(case):
            lines.append(self.text(Msg("card.on_behalf", self._helper(case))))
        if case.linked_to:
            lines.append(self.text(Msg("card.linked", {"linked": case.linked_to})))
        if case.summary:
            lines.append(self.text(Msg("card.summary", {"summary": case.summary})))
        buttons = [
            InlineKeyboardButton(
                self.label("button.claim"), callback_data=staff_data("claim", case.reference)
            ),
            InlineKeyboardButton(
                self.label("button.show"), callback_data=staff_data("show", case.reference)
            ),
            InlineKeyboardButton(
                self.label("button.close"), callback_data=staff_data("close", case.reference)
            ),
        ]
        return "\n".join(lines), InlineKeyboardMarkup([buttons])

    def _helper(self, case: Case) -> dict[str, str | Msg]:
        """Return who wrote for the constituent, how they know them, and their agreement."""
        answers = case.answers
        return {
            "helper": answers.get(roles.FULL_NAME) or "",
            "relationship": answers.get(roles.OTHER_RELATIONSHIP) or "",
            "agreement": self._agreement(case),
        }

    def _agreement(self, case: Case) -> str:
        """Return whether the constituent agrees, and the helper's authority if they cannot."""
        parts = [self._option(roles.OTHER_AGREES, case), self._option(roles.OTHER_AUTHORITY, case)]
        return "; ".join(part for part in parts if part) or self.label("summary.not_given")

    def _option(self, step_id: str, case: Case) -> str:
        step = self.flow.find(step_id)
        value = case.answers.get(step_id)
        option = step.option(value) if step is not None and value is not None else None
        return self.label(option.label) if option is not None else ""

    def close_question(self, reference: str) -> tuple[str, InlineKeyboardMarkup]:
        """Return the are-you-sure question the card's Close button asks."""
        buttons = [
            [
                InlineKeyboardButton(
                    self.label("button.close_resolved"),
                    callback_data=staff_data("closed", reference),
                )
            ],
            [
                InlineKeyboardButton(
                    self.label("button.close_unable"), callback_data=staff_data("unable", reference)
                )
            ],
            [
                InlineKeyboardButton(
                    self.label("button.close_keep"), callback_data=staff_data("keep", reference)
                )
            ],
        ]
        text = self.text(Msg("card.close_question", {"reference": reference}))
        return text, InlineKeyboardMarkup(buttons)

    def erase_question(self, reference: str) -> tuple[str, InlineKeyboardMarkup]:
        """Return the are-you-sure question /erase asks before deleting a case for good."""
        buttons = [
            [
                InlineKeyboardButton(
                    self.label("button.erase_yes"), callback_data=staff_data("erase", reference)
                )
            ],
            [
                InlineKeyboardButton(
                    self.label("button.erase_keep"), callback_data=staff_data("keep", reference)
                )
            ],
        ]
        text = self.text(Msg("card.erase_question", {"reference": reference[:40]}))
        return text, InlineKeyboardMarkup(buttons)

    def _urgency(self, case: Case) -> str:
        if case.urgency.urgent:
            return self.text(Msg("card.urgent", {"reasons": "; ".join(case.urgency.reasons)}))
        return self.text(Msg("card.not_urgent"))

    def queue(self, page: QueuePage) -> tuple[str, InlineKeyboardMarkup | None]:
        """Return one page of the queue with a button per case and page buttons."""
        which = Msg(f"queue.which.{page.which.value}", {"category": page.category or ""})
        if not page.rows:
            return self.text(Msg("queue.empty", {"which": which})), None
        now = self.clock()
        head = Msg(
            "queue.title",
            {
                "which": which,
                "total": f"{page.total:,}",
                "page": str(page.page + 1),
                "pages": str(page.pages),
            },
        )
        lines = [self.text(head)]
        today = london_date(now)
        for row in page.rows:
            mark: Msg | str = Msg("queue.urgent_mark") if row.urgent else ""
            if row.due_on is not None and row.due_on < today:
                mark = Msg("queue.overdue_mark", {"urgent": mark})
            lines.append(
                self.text(
                    Msg(
                        "queue.row",
                        {
                            "urgent": mark,
                            "reference": row.reference,
                            "category": self.category(row.category),
                            "age": age(row.created_at, now),
                            "assignee": self.assignee(row.assignee),
                            "summary": row.summary[:90],
                        },
                    )
                )
            )
        keyboard = [
            [InlineKeyboardButton(row.reference, callback_data=staff_data("show", row.reference))]
            for row in page.rows
        ]
        keyboard.append(self._pages(page))
        return "\n\n".join(lines), InlineKeyboardMarkup([row for row in keyboard if row])

    def _pages(self, page: QueuePage) -> list[InlineKeyboardButton]:
        nav = []
        arg = page.category or "-"
        if page.page > 0:
            data = staff_data("q", page.which.value, arg, page.page - 1)
            nav.append(InlineKeyboardButton(self.label("button.prev"), callback_data=data))
        if page.page + 1 < page.pages:
            data = staff_data("q", page.which.value, arg, page.page + 1)
            nav.append(InlineKeyboardButton(self.label("button.next"), callback_data=data))
        return nav

    def case(self, view: CaseView) -> list[str]:
        """Return the whole case as one or more messages, each within Telegram's limit."""
        case = view.stored.case
        card, _ = self.card(case)
        parts = [card]
        if on_behalf(case):
            parts.append(self.text(Msg("case.on_behalf", self._people(case))))
        parts.append(self.text(Msg("case.answers")))
        for step in self.flow.steps:
            value = case.answers.get(step.id)
            if step.label is None or step.id not in case.answers:
                continue
            option = step.option(value) if value is not None else None
            typed = shown_answer(step.validator, value) if value else None
            shown: str | Msg = Msg(option.label) if option else (typed or Msg("summary.not_given"))
            parts.append(
                self.text(Msg("case.answer_row", {"label": Msg(step.label), "value": shown}))
            )
        consent = case.consent
        parts.append(
            self.text(
                Msg(
                    "case.consent",
                    {
                        "answer": Msg(consent_key(case)),
                        "version": consent.version,
                        "at": when(consent.recorded_at),
                    },
                )
            )
        )
        if case.attachments:
            parts.append(self.text(Msg("case.attachments", {"count": str(len(case.attachments))})))
        if view.messages:
            parts.append(self.text(Msg("case.messages")))
            for message in view.messages:
                author = self.staff.name_of(message.author) or ""
                params = {"at": when(message.at), "author": author, "text": message.text}
                parts.append(self.text(Msg(f"case.{message.kind}", params)))
        parts.append(self.text(Msg("case.history")))
        parts += [self.history_row(entry) for entry in view.history]
        return pack(parts)

    def history_row(self, entry: AuditEntry) -> str:
        """Return one audit entry as a line."""
        actor = self.staff.name_of(entry.actor) or (
            self.label("case.system") if entry.actor is None else str(entry.actor)
        )
        params = {
            "at": when(entry.at),
            "actor": actor,
            "action": entry.action,
            "detail": entry.detail,
        }
        return self.text(Msg("case.history_row", params))

    def audit(self, reference: str, entries: list[AuditEntry]) -> list[str]:
        """Return a case's audit log as one or more messages."""
        lines = [self.text(Msg("audit.title", {"reference": reference}))]
        lines += [self.history_row(e) for e in entries] or [self.text(Msg("audit.empty"))]
        return pack(lines)

    def _people(self, case: Case) -> dict[str, str | Msg]:
        """Return both people of an enquiry made for someone else, for the case view."""
        answers = case.answers
        phone = answers.get(roles.PHONE)
        contact = [shown_answer("phone", phone) if phone else ""]
        contact += [answers.get(roles.EMAIL) or "", answers.get(roles.HELPER_ADDRESS) or ""]
        return {
            "name": answers.get(roles.OTHER_NAME) or "",
            "address": answers.get(roles.ADDRESS) or "",
            "postcode": answers.get(roles.POSTCODE) or "",
            "contact": ", ".join(part for part in contact if part),
            **self._helper(case),
        }


def pack(parts: list[str], limit: int = MESSAGE_LIMIT) -> list[str]:
    """Join lines into as few messages as fit Telegram's limit, never splitting a line."""
    messages: list[str] = []
    current = ""
    for part in parts:
        piece = part if len(part) <= limit else part[: limit - 1] + "…"
        if current and len(current) + 1 + len(piece) > limit:
            messages.append(current)
            current = piece
        else:
            current = f"{current}\n{piece}" if current else piece
    if current:
        messages.append(current)
    return messages
