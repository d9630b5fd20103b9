"""The staff desk's queue: its tabs, filters and order, read from a page's address."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Final

from bot.core.case import CaseStatus
from bot.core.display import LONDON
from bot.core.staff import StaffDirectory

DESK_PAGE_SIZE: Final = 25
LOGIN_MINUTES: Final = 10
SESSION_HOURS: Final = 12
# The desk's texts the code and templates name (families by Tab, Sort and so on apart).
DESK_TEXTS: Final = (
    "desk.action.assign",
    "desk.action.assign_label",
    "desk.action.claim",
    "desk.action.close",
    "desk.action.close_legend",
    "desk.action.note",
    "desk.action.note_hint",
    "desk.action.note_label",
    "desk.action.outcome_hint",
    "desk.action.outcome_label",
    "desk.action.reply",
    "desk.action.reply_hint",
    "desk.action.reply_label",
    "desk.action.status",
    "desk.action.status_label",
    "desk.actions",
    "desk.back_to_queue",
    "desk.bad_request.body",
    "desk.bad_request.heading",
    "desk.case.answers",
    "desk.case.assignee",
    "desk.case.consent",
    "desk.case.constituency",
    "desk.case.conversation",
    "desk.case.documents",
    "desk.case.followed_by",
    "desk.case.follows",
    "desk.case.history",
    "desk.case.no_documents",
    "desk.case.no_messages",
    "desk.case.no_notes",
    "desk.case.notes",
    "desk.case.received",
    "desk.case.safeguarding",
    "desk.case.status",
    "desk.col.age",
    "desk.col.assignee",
    "desk.col.category",
    "desk.col.name",
    "desk.col.received",
    "desk.col.reference",
    "desk.col.status",
    "desk.col.urgency",
    "desk.consent.answer",
    "desk.consent.at",
    "desk.consent.not_withdrawn",
    "desk.consent.version",
    "desk.consent.withdrawn",
    "desk.consent.wording",
    "desk.constituent",
    "desk.csrf.body",
    "desk.csrf.heading",
    "desk.document.download",
    "desk.document.failed",
    "desk.document.off",
    "desk.document.view",
    "desk.error.assign",
    "desk.error.close_how",
    "desk.error.heading",
    "desk.error.outcome",
    "desk.error.status",
    "desk.export.button",
    "desk.export.cases",
    "desk.export.csv",
    "desk.export.format",
    "desk.export.hint",
    "desk.export.json",
    "desk.export.legend",
    "desk.export.messages",
    "desk.export.notes",
    "desk.export.table",
    "desk.export.xlsx",
    "desk.filter.any",
    "desk.filter.anyone",
    "desk.filter.apply",
    "desk.filter.assignee",
    "desk.filter.category",
    "desk.filter.clear",
    "desk.filter.from",
    "desk.filter.legend",
    "desk.filter.nobody",
    "desk.filter.sort",
    "desk.filter.status",
    "desk.filter.to",
    "desk.history.what",
    "desk.history.when",
    "desk.history.who",
    "desk.login.button",
    "desk.login.heading",
    "desk.login.lead",
    "desk.login.refused_heading",
    "desk.login.retry",
    "desk.nav",
    "desk.nav.queue",
    "desk.nav.search",
    "desk.nobody",
    "desk.not_found.body",
    "desk.not_found.heading",
    "desk.not_urgent",
    "desk.office",
    "desk.page.next",
    "desk.page.of",
    "desk.page.prev",
    "desk.pages",
    "desk.queue.empty",
    "desk.queue.heading",
    "desk.queue.ignored",
    "desk.queue.ignored_heading",
    "desk.queue.showing",
    "desk.search.button",
    "desk.search.found",
    "desk.search.found_more",
    "desk.search.heading",
    "desk.search.hint",
    "desk.search.label",
    "desk.search.likely",
    "desk.signed_out.body",
    "desk.signed_out.everywhere",
    "desk.signed_out.heading",
    "desk.signin.body",
    "desk.signin.heading",
    "desk.signout",
    "desk.signout_everywhere",
    "desk.skip",
    "desk.stale.body",
    "desk.stale.heading",
    "desk.system",
    "desk.tabs",
    "desk.title",
    "desk.urgent",
    "desk.overdue",
    "desk.case.reply_by",
    "desk.case.replied",
    "desk.case.follow_up",
    "desk.case.no_date",
    "desk.action.follow_up",
    "desk.action.follow_up_label",
    "desk.action.follow_up_hint",
    "desk.action.follow_up_note",
    "desk.action.follow_up_clear",
    "desk.error.follow_up",
    "desk.action.template",
    "desk.action.template_label",
    "desk.action.template_hint",
    "desk.action.template_none",
    "desk.nav.stats",
    "desk.stats.heading",
    "desk.stats.period",
    "desk.stats.start",
    "desk.stats.end",
    "desk.stats.show",
    "desk.stats.summary",
    "desk.stats.first_reply",
    "desk.stats.closed",
    "desk.stats.in_time",
    "desk.stats.csv",
    "desk.stats.none",
    "desk.stats.bad_date",
    "desk.stats.days",
    "desk.bulk.select",
    "desk.bulk.pick",
    "desk.bulk.legend",
    "desk.bulk.hint",
    "desk.bulk.action",
    "desk.bulk.button",
    "desk.bulk.heading",
    "desk.bulk.none",
    "desk.nav.take",
    "desk.taken.heading",
    "desk.taken.refused",
    "desk.taken.lead",
    "desk.taken.channel",
    "desk.taken.optional",
    "desk.taken.choose",
    "desk.taken.wording",
    "desk.taken.consent_how",
    "desk.taken.button",
    "desk.taken.no_channel",
    "desk.taken.phone",
    "desk.taken.email",
    "desk.taken.in_person",
    "desk.nav.staff",
    "desk.team.heading",
    "desk.team.name",
    "desk.team.user_id",
    "desk.team.role",
    "desk.team.may_export",
    "desk.team.specialisms",
    "desk.team.remove",
    "desk.team.remove_who",
    "desk.team.save_legend",
    "desk.team.save_hint",
    "desk.team.save",
    "desk.team.yes",
    "desk.team.no",
    "desk.team.bad_user_id",
    "desk.team.role.caseworker",
    "desk.team.role.manager",
    "desk.team.done.save",
    "desk.team.done.remove",
    "desk.nav.replies",
    "desk.replies.heading",
    "desk.replies.hint",
    "desk.replies.save_named",
    "desk.replies.delete_named",
    "desk.replies.new",
    "desk.replies.name",
    "desk.replies.body",
    "desk.replies.add",
    "desk.replies.done.save",
    "desk.replies.done.remove",
)
# What a done action's page says, and which filters a bad address can name.
DONE_ACTIONS: Final = ("claim", "assign", "status", "note", "reply", "close", "follow_up", "taken")
FILTER_NAMES: Final = ("tab", "category", "status", "assignee", "from", "to", "sort")
# An assignee filter for the cases nobody has.
NOBODY: Final = 0


class Tab(StrEnum):
    """The queue's tabs, each a view of the office's cases."""

    MINE = "mine"
    UNASSIGNED = "unassigned"
    URGENT = "urgent"
    OVERDUE = "overdue"
    WAITING = "waiting"
    OPEN = "open"
    CLOSED = "closed"


class Sort(StrEnum):
    """How a tab is ordered: urgent on top then oldest, or by age alone."""

    URGENCY = "urgency"
    OLDEST = "oldest"
    NEWEST = "newest"


@dataclass(frozen=True, slots=True)
class DeskQuery:
    """One view of the queue: a tab, the filters on it, its order and its page."""

    tab: Tab = Tab.MINE
    category: str | None = None
    status: CaseStatus | None = None
    assignee: int | None = None  # NOBODY for unassigned
    received_from: date | None = None
    received_to: date | None = None
    sort: Sort = Sort.URGENCY
    page: int = 0
    # The London date the overdue tab counts from (set by the service, never from an address).
    today: date | None = None

    def on(self, tab: Tab) -> DeskQuery:
        """Return the same filters on another tab, from its first page."""
        return replace(self, tab=tab, page=0)

    def since(self) -> datetime | None:
        """Return the first moment (UTC) of the first London day received, if one is set."""
        return None if self.received_from is None else london_midnight(self.received_from)

    def until(self) -> datetime | None:
        """Return the moment (UTC) after the last London day received, if one is set."""
        if self.received_to is None:
            return None
        return london_midnight(self.received_to + timedelta(days=1))

    def params(self, **changes: str) -> dict[str, str]:
        """Return the query as a page address's parameters (unset ones left out)."""
        found = {
            "tab": self.tab.value,
            "category": self.category or "",
            "status": self.status.value if self.status else "",
            "assignee": "" if self.assignee is None else str(self.assignee),
            "from": self.received_from.isoformat() if self.received_from else "",
            "to": self.received_to.isoformat() if self.received_to else "",
            "sort": "" if self.sort is Sort.URGENCY else self.sort.value,
            "page": str(self.page) if self.page else "",
        }
        found.update(changes)
        return {key: value for key, value in found.items() if value}


def london_midnight(day: date) -> datetime:
    """Return the start of a London day as a UTC moment."""
    return datetime.combine(day, time(0), LONDON).astimezone(UTC)


def read_query(
    params: Mapping[str, str], staff: StaffDirectory, categories: frozenset[str]
) -> tuple[DeskQuery, list[str]]:
    """Read a queue view from a page address; return it and the names of ignored parameters.

    A value that is not one the desk offers is left out of the view (and named), rather
    than showing a view nobody asked for.
    """
    bad: list[str] = []

    def choice(name: str, allowed: frozenset[str]) -> str | None:
        value = params.get(name, "").strip()
        if not value:
            return None
        if value not in allowed:
            bad.append(name)
            return None
        return value

    tab = choice("tab", frozenset(t.value for t in Tab))
    status = choice("status", frozenset(s.value for s in CaseStatus))
    sort = choice("sort", frozenset(s.value for s in Sort))
    category = choice("category", categories)
    assignee: int | None = None
    who = params.get("assignee", "").strip()
    if who:
        if who.isdigit() and (int(who) == NOBODY or staff.get(int(who)) is not None):
            assignee = int(who)
        else:
            bad.append("assignee")
    days = []
    for name in ("from", "to"):
        value = params.get(name, "").strip()
        try:
            days.append(date.fromisoformat(value) if value else None)
        except ValueError:
            bad.append(name)
            days.append(None)
    page_text = params.get("page", "").strip()
    page = int(page_text) if page_text.isdigit() and len(page_text) < 7 else 0
    query = DeskQuery(
        tab=Tab(tab) if tab else Tab.MINE,
        category=category,
        status=CaseStatus(status) if status else None,
        assignee=assignee,
        received_from=days[0],
        received_to=days[1],
        sort=Sort(sort) if sort else Sort.URGENCY,
        page=page,
    )
    return query, bad


def secret_hash(secret: str) -> str:
    """Return what is stored of a login token or session id: its SHA-256, in hex."""
    return hashlib.sha256(secret.encode()).hexdigest()


def form_token(key: str, purpose: str, secret: str) -> str:
    """Return the token a form carries against cross-site requests, bound to one session."""
    mac = hmac.new(key.encode(), f"{purpose}\n{secret}".encode(), hashlib.sha256)
    return mac.hexdigest()


def same_token(given: str, expected: str) -> bool:
    """Tell whether a form's token is the expected one, in constant time."""
    return hmac.compare_digest(given.encode(), expected.encode())


def desk_text_keys() -> list[str]:
    """Return every desk text key the desk can ask for."""
    keys = list(DESK_TEXTS)
    keys += [f"desk.tab.{tab.value}" for tab in Tab]
    keys += [f"desk.sort.{sort.value}" for sort in Sort]
    keys += [f"desk.done.{action}" for action in DONE_ACTIONS]
    keys += [f"desk.filter.{name}" for name in FILTER_NAMES if name not in ("from", "to")]
    keys += ["desk.filter.from", "desk.filter.to"]
    keys += [f"desk.login.{state}" for state in ("expired", "used", "unknown")]
    keys += [f"desk.document.{kind}" for kind in ("photo", "document")]
    keys += [f"desk.error.{action}" for action in ("note", "reply")]
    return keys
