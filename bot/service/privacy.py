"""Retention and data rights: reminders, expiry, deletion, a copy of one's data, withdrawal."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from bot.core.case import Case
from bot.core.catalogue import Msg
from bot.core.rules import RetentionRules
from bot.core.staff import StaffDirectory
from bot.storage.records import StoredCase
from bot.storage.store import Store, Tx


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
        params: Mapping[str, str] | None = None,
    ) -> None:
        """Keep the database, the staff directory, the retention rules and the office's values."""
        self.store, self.staff, self.rules = store, staff, rules
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
                    marked = draft.model_copy(update={"reminded": True})
                    await tx.set_draft_state(idle.user_id, marked)
                    await self._tell(tx, idle.chat_id, Msg("retention.reminder", self.params), now)
                    reminded += 1
            for case_id, reference in await tx.list_expired_cases(now - self.rules.keep_closed):
                await tx.delete_case(case_id)
                await tx.record(now, None, "deleted_by_retention", reference)
                deleted += 1
        if reminded or expired:
            self.on_outbox()
        return SweepReport(reminded, expired, deleted)

    async def my_data(self, user_id: int) -> bytes:
        """Return everything held about a constituent as JSON (internal notes are withheld)."""
        async with self.store.transaction() as tx:
            draft = await tx.get_draft(user_id)
            cases = [await self._case_data(tx, s) for s in await tx.list_cases_for_user(user_id)]
            await tx.record(self.clock(), user_id, "data_requested")
        data = {
            "generated_at": self.clock().isoformat(),
            "unsent_enquiry": draft.model_dump(mode="json", exclude={"profile"}) if draft else None,
            "enquiries": cases,
        }
        return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")

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
                    await tx.delete_case(stored.id)
                    await tx.record(now, user_id, "erased_on_request", stored.case.reference)
                    erased += 1
                    continue
                reference = stored.case.reference
                flagged.append(reference)
                await tx.record(now, user_id, "erasure_requested", reference)
                notice = Msg("privacy.staff_erasure_request", {"reference": reference})
                await self._tell(tx, self.staff.staff_chat_id, notice, now, stored.id)
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
            consent = stored.case.consent.model_copy(update={"withdrawn_at": now})
            case: Case = stored.case.model_copy(update={"consent": consent, "updated_at": now})
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
