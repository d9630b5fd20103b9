"""What caseworkers do to cases, for any channel: each action takes a checked Caseworker."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, Literal

from bot.core.case import Case, CaseChannel, CaseStatus, Keep, QueueFilter
from bot.core.catalogue import Msg
from bot.core.dates import long_date
from bot.core.export import export_row, to_csv, to_json
from bot.core.references import parse_reference
from bot.core.search import search_terms
from bot.core.staff import StaffDirectory
from bot.core.text import clean_text
from bot.core.workdays import london_date
from bot.service.erasure import erase_case, erased_notice
from bot.storage.records import AuditEntry, CaseMessage, QueueRow, StoredCase
from bot.storage.store import Store, Tx

PAGE_SIZE = 8
SEARCH_LIMIT = 10
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
    """Who is asking, from which chat, and (where the channel has one) in which update."""

    user_id: int | None
    chat_id: int | None
    update_id: int | None = None


@dataclass(frozen=True, slots=True)
class Caseworker:
    """A staff member checked at the edge as allowed to act here: only ``authorise`` makes one."""

    user_id: int
    chat_id: int
    update_id: int | None = None
    # An office manager may change the staff list, the templates, and see statistics.
    manager: bool = False


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
class Found:
    """What a search found: the newest matching cases, and how many match."""

    rows: list[QueueRow]
    total: int


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
    # The update was already processed (its effect is committed): tell nobody again.
    duplicate: bool = False


Change = Callable[[Tx, StoredCase, datetime], Awaitable["Done"]]


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
        on_block: Callable[[int, bool], None] = lambda user_id, blocked: None,
    ) -> None:
        """Keep the store and the staff directory.

        ``on_block(user_id, blocked)`` is told of each block or unblock once committed.
        """
        self.store = store
        self.staff = staff
        self.clock = clock
        self.reference_prefix = reference_prefix
        self.params = office_params
        self.on_outbox = on_outbox
        self.on_block = on_block

    async def authorise(self, actor: Actor, action: str) -> Caseworker:
        """Return the caseworker ``actor`` is, or raise NotStaffError (recording the attempt).

        Channels call this once, at the edge, for each command or button; every action
        below takes the Caseworker it returns.
        """
        user_id, chat_id = actor.user_id, actor.chat_id
        if user_id is not None and chat_id is not None and self.staff.may_act(user_id, chat_id):
            member = self.staff.get(user_id)
            manager = member is not None and member.manager
            return Caseworker(user_id, chat_id, actor.update_id, manager=manager)
        async with self.store.transaction() as tx:
            await tx.record(self.clock(), actor.user_id, "refused", None, action)
        raise NotStaffError(action)

    async def queue(
        self, who: Caseworker, which: QueueFilter, category: str | None = None, page: int = 0
    ) -> QueuePage:
        """Return a page of open cases, urgent first then oldest."""
        async with self.store.transaction() as tx:
            rows, total = await tx.list_queue(
                which,
                staff_id=who.user_id,
                category=category,
                offset=max(page, 0) * PAGE_SIZE,
                limit=PAGE_SIZE,
                today=london_date(self.clock()),
            )
            await tx.record(self.clock(), who.user_id, "queue_viewed", None, which.value)
        pages = max(1, -(-total // PAGE_SIZE))
        return QueuePage(rows, total, min(max(page, 0), pages - 1), pages, which, category)

    async def search(self, who: Caseworker, query: str) -> Found | Done:
        """Return the cases whose name, postcode, phone, reference or words match ``query``.

        The audit records that a search was made and how many it found, never what was
        searched for (a name, a phone number).
        """
        terms = search_terms(query)
        if not terms:
            return Done(Msg("staff.usage.search"))
        async with self.store.transaction() as tx:
            rows, total = await tx.search_cases(terms, limit=SEARCH_LIMIT)
            await tx.record(self.clock(), who.user_id, "searched", None, f"found={total}")
        return Found(rows, total)

    async def case_in_topic(self, who: Caseworker, topic_id: int) -> str | None:
        """Return the reference of the case whose forum topic this is, if any."""
        async with self.store.autocommit() as tx:
            stored = await tx.case_for_topic(topic_id)
        return None if stored is None else stored.case.reference

    async def case_of_post(self, who: Caseworker, chat_id: int, message_id: int) -> str | None:
        """Return the reference of the case a message of the bot's (card, relay) is about."""
        async with self.store.autocommit() as tx:
            stored = await tx.case_for_post(chat_id, message_id)
        return None if stored is None else stored.case.reference

    async def posted(
        self, case_id: int, chat_id: int, message_ids: list[int], thread_id: int | None
    ) -> None:
        """Remember messages shown to staff about a case, so erasing it can delete them."""
        if not self.staff.is_staff_chat(chat_id):
            return
        async with self.store.transaction() as tx:
            for message_id in message_ids:
                await tx.record_post(case_id, chat_id, message_id, thread_id, self.clock())

    async def view(self, who: Caseworker, reference: str) -> CaseView | Done:
        """Return the whole case, recording that it was viewed."""
        async with self.store.transaction() as tx:
            stored = await self._find(tx, reference)
            if stored is None:
                return await self._missing(tx, reference)
            messages = await tx.list_messages(stored.id)
            history = await tx.list_audit(stored.case.reference)
            await tx.record(self.clock(), who.user_id, "viewed", stored.case.reference)
        return CaseView(stored, messages, history)

    async def audit(self, who: Caseworker, reference: str) -> list[AuditEntry] | Done:
        """Return every recorded view and action on a case."""
        async with self.store.transaction() as tx:
            stored = await self._find(tx, reference)
            canonical = parse_reference(reference, self.reference_prefix)
            erasure = await tx.get_erasure(canonical) if stored is None and canonical else None
            if stored is None and erasure is None:
                return self._not_found(reference)
            found = stored.case.reference if stored else canonical
            assert found is not None
            entries = await tx.list_audit(found)
            await tx.record(self.clock(), who.user_id, "audit_viewed", found)
        return entries

    async def claim(self, who: Caseworker, reference: str) -> Done:
        """Take a case: it is assigned to the person claiming it."""
        return await self._assign(who, reference, who.user_id, "claimed")

    async def assign(self, who: Caseworker, reference: str, name: str) -> Done:
        """Assign a case to a named caseworker."""
        member = self.staff.find(name)
        if member is None:
            return Done(Msg("staff.unknown_staff", {"who": name}))
        return await self._assign(who, reference, member.user_id, "assigned")

    async def _assign(self, who: Caseworker, reference: str, to: int, action: str) -> Done:
        async def change(tx: Tx, stored: StoredCase, now: datetime) -> Done:
            case = await self._save(tx, stored, now, assignee=to, status=_opened(stored.case))
            await tx.record(now, who.user_id, action, case.reference, f"to={to}")
            if to != who.user_id:
                note = Msg("staff.assigned_to_you", {"reference": case.reference})
                await tx.owe(to, note, now, stored.id)
            name = self.staff.name_of(to) or ""
            return Done(Msg("staff.assigned", {"reference": case.reference, "name": name}), case)

        return await self._change(who, reference, change)

    async def note(self, who: Caseworker, reference: str, text: str) -> Done:
        """Add an internal note, never shown to the constituent."""
        body = clean_text(text)[:NOTE_LIMIT]
        if not body:
            return Done(Msg("staff.usage.note"))

        async def change(tx: Tx, stored: StoredCase, now: datetime) -> Done:
            await tx.add_message(stored.id, now, "note", who.user_id, body)
            case = await self._save(tx, stored, now)
            await tx.record(now, who.user_id, "note", case.reference)
            return Done(Msg("staff.noted", {"reference": case.reference}), case)

        return await self._change(who, reference, change)

    async def set_status(
        self, who: Caseworker, reference: str, word: str, outcome: str = ""
    ) -> Done:
        """Change a case's status; closing it tells the constituent."""
        status = STATUS_WORDS.get(word.strip().casefold().replace(" ", "_").replace("-", "_"))
        if status is None:
            return Done(Msg("staff.usage.status"))

        async def change(tx: Tx, stored: StoredCase, now: datetime) -> Done:
            case = await self._save(tx, stored, now, status=status)
            await tx.record(now, who.user_id, "status", case.reference, status.value)
            if outcome:
                text = f"{status.value}: {clean_text(outcome)[:NOTE_LIMIT]}"
                await tx.add_message(stored.id, now, "note", who.user_id, text)
            if not case.is_open and stored.case.is_open:
                closed = Msg("case.closed_to_constituent", {"reference": case.reference})
                await tx.owe(case.chat_id, closed, now, stored.id)
            shown = Msg(f"status.{status.value}")
            return Done(
                Msg("staff.status_set", {"reference": case.reference, "status": shown}), case
            )

        return await self._change(who, reference, change)

    async def close(self, who: Caseworker, reference: str, outcome: str) -> Done:
        """Close a case with an outcome (``unable ...`` closes it as unable to help)."""
        word = "unable" if outcome.strip().casefold().startswith("unable") else "closed"
        return await self.set_status(who, reference, word, outcome)

    async def reply(self, who: Caseworker, reference: str, text: str) -> Done:
        """Send the constituent a message through the bot, signed with the caseworker's name."""
        body = clean_text(text)[:NOTE_LIMIT]
        if not body:
            return Done(Msg("staff.usage.reply"))

        async def change(tx: Tx, stored: StoredCase, now: datetime) -> Done:
            if stored.case.channel is not CaseChannel.TELEGRAM:
                # Taken by phone, email or in person: there is no chat with the bot to send in.
                channel = Msg(f"channel.{stored.case.channel.value}")
                shown: dict[str, str | Msg] = {
                    "reference": stored.case.reference,
                    "channel": channel,
                }
                return Done(Msg("staff.reply_offline", shown), stored.case)
            message_id = await tx.add_message(stored.id, now, "to_constituent", who.user_id, body)
            replied = replace(stored, case=stored.case.with_reply(now))
            case = await self._save(tx, replied, now, status=_opened(stored.case))
            name = self.staff.name_of(who.user_id) or ""
            params = {"reference": case.reference, "name": name, "text": body, **self.params}
            msg = Msg("reply.to_constituent", params)
            await tx.owe(case.chat_id, msg, now, stored.id, case_message_id=message_id)
            await tx.record(now, who.user_id, "reply", case.reference)
            return Done(Msg("staff.replied", {"reference": case.reference}), case)

        return await self._change(who, reference, change)

    async def follow_up(
        self, who: Caseworker, reference: str, day: date | None, note: str = ""
    ) -> Done:
        """Set the date to chase the organisation a case waits on (None clears it); audited.

        A date makes an open case wait on the organisation; the note, if any, is kept as an
        internal note.
        """
        today = london_date(self.clock())
        if day is not None and day < today:
            return Done(Msg("staff.follow_up_past", {"date": long_date(day)}))
        body = clean_text(note)[:NOTE_LIMIT]

        async def change(tx: Tx, stored: StoredCase, now: datetime) -> Done:
            chased = replace(stored, case=stored.case.with_follow_up(day, now))
            waiting = CaseStatus.WAITING if day is not None and stored.case.is_open else None
            case = await self._save(tx, chased, now, status=waiting)
            detail = day.isoformat() if day is not None else "cleared"
            await tx.record(now, who.user_id, "follow_up", case.reference, detail)
            if day is None:
                return Done(Msg("staff.follow_up_cleared", {"reference": case.reference}), case)
            if body:
                await tx.add_message(stored.id, now, "note", who.user_id, body)
            shown = {"reference": case.reference, "date": long_date(day)}
            return Done(Msg("staff.follow_up_set", shown), case)

        return await self._change(who, reference, change)

    async def export(
        self,
        who: Caseworker,
        fmt: str,
        since: datetime | None,
        category_label: Callable[[str], str],
    ) -> Done:
        """Return every case (or those since a date) as CSV or JSON for a case-management system."""
        if fmt not in ("csv", "json"):
            return Done(Msg("staff.usage.export"))
        member = self.staff.get(who.user_id)
        if member is None or not member.may_export:
            async with self.store.transaction() as tx:
                await tx.record(self.clock(), who.user_id, "export_refused", None, "not allowed")
            return Done(Msg("staff.export_not_allowed"))
        if who.chat_id == self.staff.staff_chat_id:
            # Every constituent's details in one file: never into the group's history.
            async with self.store.transaction() as tx:
                await tx.record(self.clock(), who.user_id, "export_refused", None, "staff group")
            return Done(Msg("staff.export_private"))
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
            await tx.record(self.clock(), who.user_id, "exported", None, f"{fmt} {len(rows)}")
        data = to_csv(rows) if fmt == "csv" else to_json(rows)
        stamp = self.clock().strftime("%Y%m%d-%H%M")
        return Done(
            Msg("staff.exported", {"count": f"{len(rows):,}"}),
            extra={"data": data, "filename": f"cases-{stamp}.{fmt}"},
        )

    async def block(self, who: Caseworker, reference: str, *, blocked: bool) -> Done:
        """Stop (or start again) processing messages from the constituent on a case."""
        action = "blocked" if blocked else "unblocked"
        changed: list[int] = []

        async def change(tx: Tx, stored: StoredCase, now: datetime) -> Done:
            case = stored.case
            if blocked:
                await tx.block(case.user_id, now, who.user_id, case.reference)
            else:
                await tx.unblock(case.user_id)
            await tx.record(now, who.user_id, action, case.reference)
            changed.append(case.user_id)
            return Done(Msg(f"staff.{action}", {"reference": case.reference}), case)

        done = await self._change(who, reference, change)
        for user_id in changed:  # committed by now
            self.on_block(user_id, blocked)
        return done

    async def erase(self, who: Caseworker, reference: str) -> Done:
        """Erase a case at the constituent's request: nothing of it is kept, and they are told."""

        async def change(tx: Tx, stored: StoredCase, now: datetime) -> Done:
            case = stored.case
            chat = self.staff.staff_chat_id
            await erase_case(tx, stored, now, "request", chat, actor=who.user_id)
            told = Msg("privacy.erased_by_office", {"reference": case.reference})
            await tx.owe(case.chat_id, told, now)
            return Done(Msg("staff.erase_done", {"reference": case.reference}))

        done = await self._change(who, reference, change)
        await self.store.scrub()
        return done

    async def _change(self, who: Caseworker, reference: str, change: Change) -> Done:
        """Find the case and apply ``change`` in one transaction, with the update's record.

        The update is recorded as processed in the same transaction as its effect, so one
        delivered again after a crash (a reply already committed) is not applied twice.
        """
        async with self.store.transaction() as tx:
            now = self.clock()
            if who.update_id is not None and not await tx.mark_processed(who.update_id, now):
                return Done(Msg("staff.already_done"), duplicate=True)
            stored = await self._find(tx, reference)
            if stored is None:
                return await self._missing(tx, reference)
            done = await change(tx, stored, now)
        self.on_outbox()
        return done

    async def _find(self, tx: Tx, reference: str) -> StoredCase | None:
        canonical = parse_reference(reference, self.reference_prefix)
        return None if canonical is None else await tx.get_case(canonical)

    async def _missing(self, tx: Tx, reference: str) -> Done:
        """Say that a case was erased (when, and why), or that there is no such case."""
        canonical = parse_reference(reference, self.reference_prefix)
        erasure = await tx.get_erasure(canonical) if canonical else None
        if erasure is None:
            return self._not_found(reference)
        return Done(erased_notice(erasure.reference, erasure.erased_at, erasure.reason))

    def _not_found(self, reference: str) -> Done:
        return Done(Msg("staff.not_found", {"reference": reference[:40]}))

    async def _save(
        self,
        tx: Tx,
        stored: StoredCase,
        now: datetime,
        *,
        status: CaseStatus | None = None,
        assignee: int | Literal[Keep.KEEP] | None = Keep.KEEP,
    ) -> Case:
        """Store the case as changed (and touched), and owe the team an up-to-date card."""
        case = stored.case.changed(now, status=status, assignee=assignee)
        await tx.save_case(stored.id, case)
        await tx.owe_card(stored.id, self.staff.staff_chat_id, now)
        return case


def _opened(case: Case) -> CaseStatus:
    """Return the status a case has once someone works on it: a new case becomes open."""
    return CaseStatus.OPEN if case.status is CaseStatus.NEW else case.status
