"""Retention and data rights: reminders, expiry, deletion, a copy of one's data, withdrawal."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.case import Case
from bot.core.catalogue import Msg, msg_to_data
from bot.core.draft import Draft
from bot.core.staff import StaffDirectory
from bot.storage.sqlite.audit import record
from bot.storage.sqlite.case_messages import list_messages
from bot.storage.sqlite.cases import StoredCase, list_cases_for_user, save_case
from bot.storage.sqlite.database import Connection, Database
from bot.storage.sqlite.drafts import delete_draft, get_draft
from bot.storage.sqlite.outbox import enqueue_card, enqueue_message
from bot.storage.sqlite.retention import (
    delete_case,
    list_expired_cases,
    list_idle_drafts,
    set_draft_state,
    withdraw_consent,
)
from bot.storage.sqlite.safeguards import count_outcome


@dataclass(frozen=True, slots=True)
class RetentionRules:
    """How long unfinished intakes and closed cases are kept."""

    reminder_after: timedelta = timedelta(hours=24)
    expire_after: timedelta = timedelta(days=7)
    keep_closed: timedelta = timedelta(days=730)


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
        db: Database,
        staff: StaffDirectory,
        rules: RetentionRules,
        clock: Callable[[], datetime],
        on_outbox: Callable[[], None],
    ) -> None:
        """Keep the database, the staff directory and the retention rules."""
        self.db, self.staff, self.rules = db, staff, rules
        self.clock, self.on_outbox = clock, on_outbox

    async def sweep(self) -> SweepReport:
        """Remind idle drafts once, delete expired drafts and closed cases past retention."""
        now = self.clock()
        reminded = expired = deleted = 0
        async with self.db.transaction() as db:
            for user_id, chat_id, state in await list_idle_drafts(
                db, now - self.rules.reminder_after
            ):
                draft = Draft.model_validate_json(state)
                if draft.updated_at <= now - self.rules.expire_after:
                    await delete_draft(db, user_id)
                    await count_outcome(db, now.date().isoformat(), "expired")
                    await self._tell(db, chat_id, Msg("retention.expired"), now)
                    expired += 1
                elif not draft.reminded:
                    marked = draft.model_copy(update={"reminded": True})
                    await set_draft_state(db, user_id, marked.model_dump_json())
                    await self._tell(db, chat_id, Msg("retention.reminder"), now)
                    reminded += 1
            for case_id, reference in await list_expired_cases(db, now - self.rules.keep_closed):
                await delete_case(db, case_id)
                await record(db, now, None, "deleted_by_retention", reference)
                deleted += 1
        if reminded or expired:
            self.on_outbox()
        return SweepReport(reminded, expired, deleted)

    async def my_data(self, user_id: int) -> bytes:
        """Return everything held about a constituent as JSON (internal notes are withheld)."""
        async with self.db.transaction() as db:
            draft = await get_draft(db, user_id)
            cases = [await self._case_data(db, s) for s in await list_cases_for_user(db, user_id)]
            await record(db, self.clock(), user_id, "data_requested")
        data = {
            "generated_at": self.clock().isoformat(),
            "unsent_enquiry": draft.model_dump(mode="json", exclude={"profile"}) if draft else None,
            "enquiries": cases,
        }
        return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")

    async def _case_data(self, db: Connection, stored: StoredCase) -> dict[str, object]:
        messages = [
            {"at": m.at.isoformat(), "direction": m.kind, "text": m.text}
            for m in await list_messages(db, stored.id)
            if m.kind != "note"
        ]
        case = stored.case.model_dump(mode="json", exclude={"assignee", "user_id", "chat_id"})
        return {"case": case, "messages": messages}

    async def erase(self, user_id: int) -> tuple[int, list[str]]:
        """Erase a constituent's draft and closed cases; flag open ones to staff.

        Returns how many closed cases were erased and the references of open ones flagged.
        """
        now = self.clock()
        async with self.db.transaction() as db:
            await delete_draft(db, user_id)
            erased, flagged = 0, []
            for stored in await list_cases_for_user(db, user_id):
                if not stored.case.is_open:
                    await delete_case(db, stored.id)
                    await record(db, now, user_id, "erased_on_request", stored.case.reference)
                    erased += 1
                    continue
                reference = stored.case.reference
                flagged.append(reference)
                await record(db, now, user_id, "erasure_requested", reference)
                notice = Msg("privacy.staff_erasure_request", {"reference": reference})
                await self._tell(db, self.staff.staff_chat_id, notice, now, stored.id)
        self.on_outbox()
        return erased, flagged

    async def withdraw(self, user_id: int, reference: str | None) -> tuple[str, list[str]]:
        """Withdraw consent on the person's case; return (outcome, references to choose from)."""
        now = self.clock()
        async with self.db.transaction() as db:
            cases = [s for s in await list_cases_for_user(db, user_id) if s.case.consent.given]
            chosen = [s for s in cases if reference is None or s.case.reference == reference]
            if not cases:
                return "none", []
            if len(chosen) != 1:
                return "choose", [s.case.reference for s in cases]
            stored = chosen[0]
            await withdraw_consent(db, stored.id, now)
            consent = stored.case.consent.model_copy(update={"withdrawn_at": now})
            case: Case = stored.case.model_copy(update={"consent": consent, "updated_at": now})
            await save_case(db, stored.id, case)
            await record(db, now, user_id, "consent_withdrawn", case.reference)
            chat = case.assignee if case.assignee is not None else self.staff.staff_chat_id
            notice = Msg("privacy.staff_consent_withdrawn", {"reference": case.reference})
            await self._tell(db, chat, notice, now, stored.id)
            await enqueue_card(db, stored.id, self.staff.staff_chat_id, now)
        self.on_outbox()
        return "withdrawn", [case.reference]

    async def _tell(
        self, db: Connection, chat_id: int, msg: Msg, now: datetime, case_id: int | None = None
    ) -> None:
        await enqueue_message(db, chat_id, {"msg": msg_to_data(msg)}, now, case_id)
