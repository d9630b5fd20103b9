"""What caseworkers do to cases, for any channel: every call checks who is asking, every time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.core.case import Case, CaseStatus, QueueFilter
from bot.core.catalogue import Msg
from bot.core.export import export_row, to_csv, to_json
from bot.core.references import parse_reference
from bot.core.staff import StaffDirectory
from bot.core.text import clean_text
from bot.storage.records import AuditEntry, CaseMessage, QueueRow, StoredCase
from bot.storage.store import Store, Tx

PAGE_SIZE = 8
NOTE_LIMIT = 3000
STATUS_WORDS = {
    "new": CaseStatus.NEW,
    "open": CaseStatus.OPEN,
    "waiting": CaseStatus.WAITING,
    "waiting_on_organisation": CaseStatus.WAITING,
    "closed": CaseStatus.CLOSED,
    "closed_unable": CaseStatus.CLOSED_UNABLE,
    "unable": CaseStatus.CLOSED_UNABLE,
}


class NotStaffError(Exception):
    """The person is not staff, or not in a staff chat: say so and reveal nothing."""


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is asking, and from which chat."""

    user_id: int | None
    chat_id: int | None


@dataclass(frozen=True, slots=True)
class QueuePage:
    """One page of the queue."""

    rows: list[QueueRow]
    total: int
    page: int
    pages: int
    which: QueueFilter
    category: str | None


@dataclass(frozen=True, slots=True)
class CaseView:
    """Everything about a case: the case, its notes and messages, and its history."""

    stored: StoredCase
    messages: list[CaseMessage]
    history: list[AuditEntry]


@dataclass(frozen=True, slots=True)
class Done:
    """The outcome of an action: what to tell the caseworker."""

    msg: Msg
    case: Case | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class StaffService:
    """Caseworkers' view of, and actions on, the office's cases."""

    def __init__(
        self,
        store: Store,
        staff: StaffDirectory,
        *,
        clock: Callable[[], datetime],
        reference_prefix: str,
        office_params: dict[str, str],
        on_outbox: Callable[[], None],
    ) -> None:
        """Keep the database and the staff directory."""
        self.store = store
        self.staff = staff
        self.clock = clock
        self.reference_prefix = reference_prefix
        self.params = office_params
        self.on_outbox = on_outbox

    async def check(self, actor: Actor, action: str) -> None:
        """Raise NotStaffError (and record the attempt) unless ``actor`` may act here."""
        if self.staff.may_act(actor.user_id, actor.chat_id):
            return
        async with self.store.transaction() as tx:
            await tx.record(self.clock(), actor.user_id, "refused", None, action)
        raise NotStaffError(action)

    async def queue(
        self, actor: Actor, which: QueueFilter, category: str | None = None, page: int = 0
    ) -> QueuePage:
        """Return a page of open cases, urgent first then oldest."""
        await self.check(actor, "queue")
        async with self.store.transaction() as tx:
            rows, total = await tx.list_queue(
                which,
                staff_id=actor.user_id,
                category=category,
                offset=max(page, 0) * PAGE_SIZE,
                limit=PAGE_SIZE,
            )
            await tx.record(self.clock(), actor.user_id, "queue_viewed", None, which.value)
        pages = max(1, -(-total // PAGE_SIZE))
        return QueuePage(rows, total, min(max(page, 0), pages - 1), pages, which, category)

    async def view(self, actor: Actor, reference: str) -> CaseView | Done:
        """Return the whole case, recording that it was viewed."""
        await self.check(actor, "case")
        async with self.store.transaction() as tx:
            stored = await self._find(tx, reference)
            if stored is None:
                return self._not_found(reference)
            messages = await tx.list_messages(stored.id)
            history = await tx.list_audit(stored.case.reference)
            await tx.record(self.clock(), actor.user_id, "viewed", stored.case.reference)
        return CaseView(stored, messages, history)

    async def audit(self, actor: Actor, reference: str) -> list[AuditEntry] | Done:
        """Return every recorded view and action on a case."""
        await self.check(actor, "audit")
        async with self.store.transaction() as tx:
            stored = await self._find(tx, reference)
            if stored is None:
                return self._not_found(reference)
            entries = await tx.list_audit(stored.case.reference)
            await tx.record(self.clock(), actor.user_id, "audit_viewed", stored.case.reference)
        return entries

    async def claim(self, actor: Actor, reference: str) -> Done:
        """Take a case: it is assigned to the person claiming it."""
        return await self._assign(actor, reference, actor.user_id, "claimed")

    async def assign(self, actor: Actor, reference: str, who: str) -> Done:
        """Assign a case to a named caseworker."""
        await self.check(actor, "assign")
        member = self.staff.find(who)
        if member is None:
            return Done(Msg("staff.unknown_staff", {"who": who}))
        return await self._assign(actor, reference, member.user_id, "assigned")

    async def _assign(self, actor: Actor, reference: str, to: int | None, action: str) -> Done:
        await self.check(actor, action)
        async with self.store.transaction() as tx:
            stored = await self._find(tx, reference)
            if stored is None:
                return self._not_found(reference)
            now = self.clock()
            status = CaseStatus.OPEN if stored.case.status is CaseStatus.NEW else stored.case.status
            case = await self._save(tx, stored, now, assignee=to, status=status)
            await tx.record(now, actor.user_id, action, case.reference, f"to={to}")
            if to is not None and to != actor.user_id:
                note = Msg("staff.assigned_to_you", {"reference": case.reference})
                await tx.owe(to, note, now, stored.id)
        self.on_outbox()
        name = self.staff.name_of(to) or ""
        return Done(Msg("staff.assigned", {"reference": case.reference, "name": name}), case)

    async def note(self, actor: Actor, reference: str, text: str) -> Done:
        """Add an internal note, never shown to the constituent."""
        await self.check(actor, "note")
        body = clean_text(text)[:NOTE_LIMIT]
        if not body:
            return Done(Msg("staff.usage.note"))
        async with self.store.transaction() as tx:
            stored = await self._find(tx, reference)
            if stored is None:
                return self._not_found(reference)
            now = self.clock()
            await tx.add_message(stored.id, now, "note", actor.user_id, body)
            case = await self._save(tx, stored, now)
            await tx.record(now, actor.user_id, "note", case.reference)
        self.on_outbox()
        return Done(Msg("staff.noted", {"reference": case.reference}), case)

    async def set_status(self, actor: Actor, reference: str, word: str, outcome: str = "") -> Done:
        """Change a case's status; closing it tells the constituent."""
        await self.check(actor, "status")
        status = STATUS_WORDS.get(word.strip().casefold().replace(" ", "_").replace("-", "_"))
        if status is None:
            return Done(Msg("staff.usage.status"))
        async with self.store.transaction() as tx:
            stored = await self._find(tx, reference)
            if stored is None:
                return self._not_found(reference)
            now = self.clock()
            case = await self._save(tx, stored, now, status=status)
            await tx.record(now, actor.user_id, "status", case.reference, status.value)
            if outcome:
                text = f"{status.value}: {clean_text(outcome)[:NOTE_LIMIT]}"
                await tx.add_message(stored.id, now, "note", actor.user_id, text)
            if not case.is_open and stored.case.is_open:
                closed = Msg("case.closed_to_constituent", {"reference": case.reference})
                await tx.owe(case.chat_id, closed, now, stored.id)
        self.on_outbox()
        return Done(
            Msg(
                "staff.status_set",
                {"reference": case.reference, "status": Msg(f"status.{status.value}")},
            ),
            case,
        )

    async def close(self, actor: Actor, reference: str, outcome: str) -> Done:
        """Close a case with an outcome (``unable ...`` closes it as unable to help)."""
        word = "unable" if outcome.strip().casefold().startswith("unable") else "closed"
        return await self.set_status(actor, reference, word, outcome)

    async def reply(self, actor: Actor, reference: str, text: str) -> Done:
        """Send the constituent a message through the bot, signed with the caseworker's name."""
        await self.check(actor, "reply")
        body = clean_text(text)[:NOTE_LIMIT]
        if not body:
            return Done(Msg("staff.usage.reply"))
        async with self.store.transaction() as tx:
            stored = await self._find(tx, reference)
            if stored is None:
                return self._not_found(reference)
            now = self.clock()
            message_id = await tx.add_message(stored.id, now, "to_constituent", actor.user_id, body)
            status = CaseStatus.OPEN if stored.case.status is CaseStatus.NEW else stored.case.status
            case = await self._save(tx, stored, now, status=status)
            name = self.staff.name_of(actor.user_id) or ""
            msg = Msg(
                "reply.to_constituent",
                {"reference": case.reference, "name": name, "text": body, **self.params},
            )
            await tx.owe(case.chat_id, msg, now, stored.id, case_message_id=message_id)
            await tx.record(now, actor.user_id, "reply", case.reference)
        self.on_outbox()
        return Done(Msg("staff.replied", {"reference": case.reference}), case)

    async def export(
        self,
        actor: Actor,
        fmt: str,
        since: datetime | None,
        category_label: Callable[[str], str],
    ) -> Done:
        """Return every case (or those since a date) as CSV or JSON for a case-management system."""
        await self.check(actor, "export")
        if fmt not in ("csv", "json"):
            return Done(Msg("staff.usage.export"))
        async with self.store.transaction() as tx:
            rows = [
                export_row(
                    case,
                    assignee_name=self.staff.name_of(case.assignee),
                    category_label=category_label(case.category),
                    summary=case.summary,
                )
                async for case in tx.iter_cases(since)
            ]
            await tx.record(self.clock(), actor.user_id, "exported", None, f"{fmt} {len(rows)}")
        data = to_csv(rows) if fmt == "csv" else to_json(rows)
        stamp = self.clock().strftime("%Y%m%d-%H%M")
        return Done(
            Msg("staff.exported", {"count": f"{len(rows):,}"}),
            extra={"data": data, "filename": f"cases-{stamp}.{fmt}"},
        )

    async def block(self, actor: Actor, reference: str, *, blocked: bool) -> Done:
        """Stop (or start again) processing messages from the constituent on a case."""
        action = "blocked" if blocked else "unblocked"
        await self.check(actor, action)
        async with self.store.transaction() as tx:
            stored = await self._find(tx, reference)
            if stored is None:
                return self._not_found(reference)
            now = self.clock()
            case = stored.case
            if blocked:
                await tx.block(case.user_id, now, actor.user_id or 0, case.reference)
            else:
                await tx.unblock(case.user_id)
            await tx.record(now, actor.user_id, action, case.reference)
        return Done(Msg(f"staff.{action}", {"reference": case.reference}), case)

    async def _find(self, tx: Tx, reference: str) -> StoredCase | None:
        canonical = parse_reference(reference, self.reference_prefix)
        return None if canonical is None else await tx.get_case(canonical)

    def _not_found(self, reference: str) -> Done:
        return Done(Msg("staff.not_found", {"reference": reference[:40]}))

    async def _save(self, tx: Tx, stored: StoredCase, now: datetime, **changes: Any) -> Case:
        case = stored.case.model_copy(update={**changes, "updated_at": now})
        await tx.save_case(stored.id, case)
        await tx.owe_card(stored.id, self.staff.staff_chat_id, now)
        return case
