"""Render cases for staff: the card in the staff group, the queue and the whole case."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.channels.telegram.render import MESSAGE_LIMIT, escape, plain
from bot.core import roles
from bot.core.cards import card_body, card_notes, consent_key, language_line, on_behalf
from bot.core.case import Case
from bot.core.catalogue import Catalogue, Msg
from bot.core.categories import Categories
from bot.core.display import shown_answer, shown_time
from bot.core.flow import Flow
from bot.core.staff import StaffDirectory
from bot.service.outbox import Summary
from bot.service.staff import CaseView, Found, QueuePage
from bot.storage.records import AuditEntry, QueueRow

STAFF_PREFIX = "s1"
# The statuses the card's Status button offers (closing has its own button, as it tells).
OPEN_WORDS = ("new", "open", "waiting")
TOPIC_TITLE_LIMIT = 128


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


def topic_link(chat_id: int, topic_id: int) -> str:
    """Return the link that opens a topic of a supergroup for its members."""
    internal = (
        str(chat_id).removeprefix("-100") if str(chat_id).startswith("-100") else str(-chat_id)
    )
    return f"https://t.me/c/{internal}/{topic_id}"


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
        options = flow.step(roles.CATEGORY).options
        self.categories = Categories.of(
            {o.value: self.label(o.label) for o in options},
            {o.value: self._aliases(o.value) for o in options},
        )

    def _aliases(self, value: str) -> list[str]:
        key = f"queue.aliases.{value}"
        return (
            [a.strip() for a in self.catalogue.raw(key).split(",")] if key in self.catalogue else []
        )

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

    def card(
        self, case: Case, *, in_topic: bool = False, linked_topic: int | None = None
    ) -> tuple[str, InlineKeyboardMarkup]:
        """Return a case's card and its Claim / Show case / Status / Close buttons.

        The card says what the team needs to pick a case up (reference, category, urgency,
        age, who has it), never who the constituent is or what they wrote: it may stay in
        the group for good. The case view has the rest.
        """
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
        helper = self._helper(case)
        notes = card_notes(
            case, relationship=str(helper["relationship"]), agreement=str(helper["agreement"])
        )
        lines += [self.text(note) for note in notes]
        if (language := language_line(case)) is not None:
            lines.append(self.text(language))
        if case.linked_to and linked_topic is not None:
            link = topic_link(self.staff.staff_chat_id, linked_topic)
            lines.append(
                self.text(Msg("card.linked_topic", {"linked": case.linked_to, "link": link}))
            )
        elif case.linked_to:
            lines.append(self.text(Msg("card.linked", {"linked": case.linked_to})))
        if in_topic:
            lines.append(self.text(Msg("card.in_topic")))
        reference = case.reference
        buttons = [
            [
                InlineKeyboardButton(
                    self.label("button.claim"), callback_data=staff_data("claim", reference)
                ),
                InlineKeyboardButton(
                    self.label("button.show"), callback_data=staff_data("show", reference)
                ),
            ],
            [
                InlineKeyboardButton(
                    self.label("button.status"), callback_data=staff_data("st", reference)
                ),
                InlineKeyboardButton(
                    self.label("button.close"), callback_data=staff_data("close", reference)
                ),
            ],
        ]
        return "\n".join(lines), InlineKeyboardMarkup(buttons)

    def status_question(self, reference: str) -> tuple[str, InlineKeyboardMarkup]:
        """Return the question the card's Status button asks: which open status."""
        buttons = [
            [
                InlineKeyboardButton(
                    self.label(f"status.{word}"), callback_data=staff_data("set", reference, word)
                )
            ]
            for word in OPEN_WORDS
        ]
        keep = staff_data("keep", reference)
        buttons.append([InlineKeyboardButton(self.label("button.status_keep"), callback_data=keep)])
        text = self.text(Msg("card.status_question", {"reference": reference}))
        return text, InlineKeyboardMarkup(buttons)

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

    def topic_title(self, case: Case) -> str:
        """Return the title of a case's forum topic: reference, category and status."""
        key = "topic.title_urgent" if case.urgency.urgent else "topic.title"
        params: dict[str, str | Msg] = {
            "reference": case.reference,
            "category": self.category(case.category),
            "status": Msg(f"status.{case.status.value}"),
        }
        return self.catalogue.render(Msg(key, params), plain)[:TOPIC_TITLE_LIMIT]

    def summary(self, summary: Summary) -> str:
        """Return the summary of open cases: one line per case, each with its topic's link."""
        if not summary.rows:
            return self.text(Msg("overview.empty"))
        lines = [self.text(Msg("overview.title", {"total": f"{summary.total:,}"}))]
        for row in summary.rows:
            params: dict[str, str | Msg] = {
                "urgent": Msg("queue.urgent_mark") if row.urgent else "",
                "reference": row.reference,
                "category": self.category(row.category),
                "status": Msg(f"status.{row.status}"),
                "assignee": self.assignee(row.assignee),
            }
            if row.topic_id is not None:
                params["link"] = topic_link(self.staff.staff_chat_id, row.topic_id)
            key = "overview.row" if row.topic_id is not None else "overview.row_flat"
            lines.append(self.text(Msg(key, params)))
        if summary.total > len(summary.rows):
            more = f"{summary.total - len(summary.rows):,}"
            lines.append(self.text(Msg("overview.more", {"count": more})))
        return pack(lines)[0]

    def found(self, found: Found) -> tuple[str, InlineKeyboardMarkup | None]:
        """Return what a search found, a Show button per case."""
        if not found.rows:
            return self.text(Msg("search.none")), None
        lines = [self.text(Msg("search.title", {"total": f"{found.total:,}"}))]
        lines += [self._found_row(row) for row in found.rows]
        if found.total > len(found.rows):
            lines.append(self.text(Msg("search.more", {"shown": str(len(found.rows))})))
        keyboard = [
            [InlineKeyboardButton(row.reference, callback_data=staff_data("show", row.reference))]
            for row in found.rows
        ]
        return pack(lines)[0], InlineKeyboardMarkup(keyboard)

    def _found_row(self, row: QueueRow) -> str:
        params: dict[str, str | Msg] = {
            "urgent": Msg("queue.urgent_mark") if row.urgent else "",
            "reference": row.reference,
            "category": self.category(row.category),
            "status": Msg(f"status.{row.status}"),
            "received": when(row.created_at),
            "assignee": self.assignee(row.assignee),
        }
        return self.text(Msg("search.row", params))

    def unknown_category(self, typed: str) -> str:
        """Return the answer to /queue with a category there is none of, naming the choices."""
        choices = ", ".join(
            self.catalogue.render(
                Msg("staff.category_choice", {"value": c.value, "label": c.label}), plain
            )
            for c in self.categories.all
        )
        return self.text(Msg("staff.unknown_category", {"typed": typed[:40], "choices": choices}))

    def _urgency(self, case: Case) -> str:
        if case.urgency.urgent:
            return self.text(Msg("card.urgent", {"reasons": "; ".join(case.urgency.reasons)}))
        return self.text(Msg("card.not_urgent"))

    def queue(
        self, page: QueuePage, *, summaries: bool = True
    ) -> tuple[str, InlineKeyboardMarkup | None]:
        """Return one page of the queue with a button per case and page buttons.

        ``summaries`` adds what each constituent wrote (not in the group, where it would stay).
        """
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
        for row in page.rows:
            mark = Msg("queue.urgent_mark") if row.urgent else ""
            line = self.text(
                Msg(
                    "queue.row",
                    {
                        "urgent": mark,
                        "reference": row.reference,
                        "category": self.category(row.category),
                        "age": age(row.created_at, now),
                        "assignee": self.assignee(row.assignee),
                    },
                )
            )
            if summaries and row.summary:
                line += "\n" + self.text(Msg("queue.summary", {"summary": row.summary[:90]}))
            lines.append(line)
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
