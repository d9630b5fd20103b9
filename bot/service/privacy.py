"""Retention and data rights: reminders, expiry, deletion, a copy of one's data, withdrawal."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from bot.core.catalogue import Msg
from bot.core.datacopy import CaseCopy, DataCopy, Event, Exchange
from bot.core.rules import RetentionRules
from bot.core.staff import StaffDirectory
from bot.service.erasure import erase_case
from bot.storage.records import StoredCase
from bot.storage.store import Store, Tx


@dataclass(frozen=True, slots=True)
class MyData:
    """A constituent's copy of their data: for a machine, and for them to read."""

    json: bytes
    text: bytes


@dataclass(frozen=True, slots=True)
class SweepReport:
    """What one sweep did, in counts only."""

    reminded: int
    expired: int
    cases_deleted: int


class PrivacyService:
    """Keep data no longer than promised, and answer constituents' data requests."""

    def __init__(
        self,
        store: Store,
        staff: StaffDirectory,
        rules: RetentionRules,
        clock: Callable[[], datetime],
        on_outbox: Callable[[], None],
        copy: DataCopy,
        params: Mapping[str, str] | None = None,
        copies: Mapping[str, DataCopy] | None = None,
    ) -> None:
        """Keep the store, the staff, the retention rules, the copy's renderer, office values.

        ``copies`` write the readable copy in each language a constituent may choose.
        """
        self.store, self.staff, self.rules, self.copy = store, staff, rules, copy
        self.copies = dict(copies or {})
        self.clock, self.on_outbox = clock, on_outbox
        # The office's values (how long drafts are kept...) for the texts that state them.
        self.params = dict(params or {})

    async def sweep(self) -> SweepReport:
        """Remind idle drafts once, delete expired drafts and closed cases past retention."""
        now = self.clock()
        reminded = expired = deleted = 0
        async with self.store.transaction() as tx:
            for idle in await tx.list_idle_drafts(now - self.rules.reminder_after):
                draft = idle.draft
                if draft.updated_at <= now - self.rules.expire_after:
                    await tx.delete_draft(idle.user_id)
                    await tx.count_outcome(now.date().isoformat(), "expired")
                    await self._tell(tx, idle.chat_id, Msg("retention.expired", self.params), now)
                    expired += 1
                elif not draft.reminded:
                    await tx.set_draft_state(idle.user_id, draft.as_reminded())
                    await self._tell(tx, idle.chat_id, Msg("retention.reminder", self.params), now)
                    reminded += 1
            for stored in await tx.list_expired_cases(now - self.rules.keep_closed):
                await erase_case(tx, stored, now, "retention", self.staff.staff_chat_id)
                deleted += 1
        if expired or deleted:
            await self.store.scrub()
        if reminded or expired or deleted:
            self.on_outbox()
        return SweepReport(reminded, expired, deleted)

    async def my_data(self, user_id: int, language: str | None = None) -> MyData:
        """Return everything held about a constituent, as JSON and as a readable document.

        Internal notes are withheld from both.
        """
        now = self.clock()
        async with self.store.transaction() as tx:
            draft = await tx.get_draft(user_id)
            stored = await tx.list_cases_for_user(user_id)
            cases = [await self._case_data(tx, s) for s in stored]
            copies = [await self._case_copy(tx, s) for s in stored]
            await tx.record(now, user_id, "data_requested")
        data = {
            "generated_at": now.isoformat(),
            "unsent_enquiry": draft.model_dump(mode="json", exclude={"profile"}) if draft else None,
            "enquiries": cases,
        }
        as_json = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
        copy = self.copies.get(language or "", self.copy)
        return MyData(as_json, copy.render(draft, copies, now).encode("utf-8"))

    async def _case_copy(self, tx: Tx, stored: StoredCase) -> CaseCopy:
        messages = [
            Exchange(m.at, m.kind == "to_constituent", m.text)
            for m in await tx.list_messages(stored.id)
            if m.kind != "note"
        ]
        events = [
            Event(e.at, self.staff.name_of(e.actor) or "", e.action)
            for e in await tx.list_audit(stored.case.reference)
            if self.staff.get(e.actor) is not None
        ]
        return CaseCopy(stored.case, messages, events)

    async def _case_data(self, tx: Tx, stored: StoredCase) -> dict[str, object]:
        messages = [
            {"at": m.at.isoformat(), "direction": m.kind, "text": m.text}
            for m in await tx.list_messages(stored.id)
            if m.kind != "note"
        ]
        case = stored.case.model_dump(mode="json", exclude={"assignee", "user_id", "chat_id"})
        return {"case": case, "messages": messages}

    async def erase(self, user_id: int) -> tuple[int, list[str]]:
        """Erase a constituent's draft and closed cases; flag open ones to staff.

        Returns how many closed cases were erased and the references of open ones flagged.
        """
        now = self.clock()
        async with self.store.transaction() as tx:
            await tx.delete_draft(user_id)
            erased, flagged = 0, []
            for stored in await tx.list_cases_for_user(user_id):
                if not stored.case.is_open:
                    await erase_case(
                        tx, stored, now, "request", self.staff.staff_chat_id, actor=user_id
                    )
                    erased += 1
                    continue
                reference = stored.case.reference
                flagged.append(reference)
                await tx.record(now, user_id, "erasure_requested", reference)
                notice = Msg("privacy.staff_erasure_request", {"reference": reference})
                await self._tell(tx, self.staff.staff_chat_id, notice, now, stored.id)
        await self.store.scrub()
        self.on_outbox()
        return erased, flagged

    async def withdraw(self, user_id: int, reference: str | None) -> tuple[str, list[str]]:
        """Withdraw consent on the person's case; return (outcome, references to choose from)."""
        now = self.clock()
        async with self.store.transaction() as tx:
            cases = [s for s in await tx.list_cases_for_user(user_id) if s.case.consent.given]
            chosen = [s for s in cases if reference is None or s.case.reference == reference]
            if not cases:
                return "none", []
            if len(chosen) != 1:
                return "choose", [s.case.reference for s in cases]
            stored = chosen[0]
            await tx.withdraw_consent(stored.id, now)
            case = stored.case.with_consent_withdrawn(now)
            await tx.save_case(stored.id, case)
            await tx.record(now, user_id, "consent_withdrawn", case.reference)
            chat = case.assignee if case.assignee is not None else self.staff.staff_chat_id
            notice = Msg("privacy.staff_consent_withdrawn", {"reference": case.reference})
            await self._tell(tx, chat, notice, now, stored.id)
            await tx.owe_card(stored.id, self.staff.staff_chat_id, now)
        self.on_outbox()
        return "withdrawn", [case.reference]

    async def _tell(
        self, tx: Tx, chat_id: int, msg: Msg, now: datetime, case_id: int | None = None
    ) -> None:
        await tx.owe(chat_id, msg, now, case_id)
