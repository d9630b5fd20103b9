"""Messages from constituents outside an intake: added to their open case and passed to staff."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.core import roles
from bot.core.case import Case
from bot.core.catalogue import Msg
from bot.core.draft import Answer
from bot.core.engine import Intake
from bot.core.outbox import FileRef, Priority
from bot.core.replies import FileReply, Reply, TextReply
from bot.core.safeguarding import Concern, concerns_in
from bot.core.staff import StaffDirectory
from bot.core.text import clean_text
from bot.service.types import Response, Sender
from bot.storage.records import StoredCase
from bot.storage.store import Tx

# Answers a new intake may take from the person's last (closed) case.
CARRIED_OVER = (
    roles.FOR_WHOM,
    roles.FULL_NAME,
    roles.POSTCODE,
    roles.ADDRESS,
    roles.PHONE,
    roles.EMAIL,
    roles.CONTACT_BY,
)
RELAY_LIMIT = 3500
CAPTION_LIMIT = 900


class Relay:
    """Route a constituent's message to the case it belongs to."""

    def __init__(
        self,
        intake: Intake,
        staff: StaffDirectory,
        clock: Callable[[], datetime],
    ) -> None:
        """Keep the engine (for new linked intakes) and the staff directory."""
        self.intake = intake
        self.staff = staff
        self.clock = clock

    async def to_case(
        self,
        tx: Tx,
        sender: Sender,
        reply: Reply,
        reply_to: int | None,
        has_draft: bool,
        concerns: tuple[Concern, ...] = (),
    ) -> Response | None:
        """Add the message to the right case and owe staff a copy; None if it is not for a case."""
        if not isinstance(reply, TextReply | FileReply):
            return None
        if has_draft and not reply_to:
            return None  # an answer to the draft's question: no case to read
        now = self.clock()
        cases = await tx.list_cases_for_user(sender.user_id)
        replied = await tx.case_for_reply(sender.chat_id, reply_to) if reply_to else None
        target = next((c for c in cases if c.id == replied and c.case.is_open), None)
        open_cases = [c for c in cases if c.case.is_open]
        if target is None and has_draft:
            return None
        if target is None and len(open_cases) == 1:
            target = open_cases[0]
        if target is not None:
            await self._append(tx, target, reply, now, concerns)
            return Response(lead=(Msg("relay.received", {"reference": target.case.reference}),))
        if open_cases:
            references = ", ".join(c.case.reference for c in open_cases)
            return Response(lead=(Msg("relay.which_case", {"references": references}),))
        if cases:
            return await self._new_linked_intake(tx, sender, cases[-1], now)
        return None

    async def _append(
        self,
        tx: Tx,
        stored: StoredCase,
        reply: TextReply | FileReply,
        now: datetime,
        concerns: tuple[Concern, ...],
    ) -> None:
        case = stored.case
        attachment_ref: FileRef | None = None
        if isinstance(reply, FileReply):
            attachment = reply.attachment
            # Sent as a photo or document caption, which Telegram limits to 1,024 characters.
            text = clean_text(attachment.caption or "")[:CAPTION_LIMIT]
            case = case.with_attachment(attachment, now)
            attachment_ref = FileRef(kind=attachment.kind, file_id=attachment.file_id)
        else:
            text = clean_text(reply.text)[:RELAY_LIMIT]
        case = case.with_concerns(concerns, now) if concerns else case.changed(now)
        await tx.save_case(stored.id, case)
        await tx.add_message(stored.id, now, "from_constituent", None, text)
        await tx.record(now, None, "constituent_message", case.reference)
        chat = self.relayed_to(case)
        note = Msg("relay.to_staff", {"reference": case.reference, "text": text})
        if concerns:
            alert = safeguarding_alert(case, concerns)
            await tx.owe(chat, alert, now, stored.id, priority=Priority.URGENT)
            # The card shows the concern, and the case is now urgent.
            await tx.owe_card(stored.id, self.staff.staff_chat_id, now)
        await tx.owe(chat, note, now, stored.id, attachment=attachment_ref, relayed=True)

    def relayed_to(self, case: Case) -> int:
        """Return where a constituent's message goes: the case's topic, or its caseworker.

        In a forum everything about a case happens in its topic; in a flat group a case
        someone has taken goes to them privately, and the rest to the group.
        """
        if self.staff.topics or case.assignee is None:
            return self.staff.staff_chat_id
        return case.assignee

    async def _new_linked_intake(
        self, tx: Tx, sender: Sender, last: StoredCase, now: datetime
    ) -> Response:
        case = last.case
        prefill = {
            step: Answer(value=case.answers[step], answered_at=now)
            for step in CARRIED_OVER
            if case.answers.get(step) is not None and step != roles.POSTCODE
        }
        postcode = case.answers.get(roles.POSTCODE)
        if postcode:
            extra = {
                "constituency_code": case.constituency_code,
                "constituency_name": case.constituency_name,
            }
            if not case.postcode_verified:
                extra["verified"] = "no"
            prefill[roles.POSTCODE] = Answer(value=postcode, extra=extra, answered_at=now)
        ask = self.intake.begin(now, sender.profile, prefill, linked_to=case.reference)
        await tx.save_draft(sender.user_id, sender.chat_id, ask.draft.in_language(case.language))
        await tx.count_outcome(now.date().isoformat(), "started")
        lead = (Msg("relay.closed_new_intake", {"reference": case.reference}),)
        return Response(lead=lead, prompt=ask.prompt, revision=ask.draft.revision)


def concerns_of(reply: Reply) -> tuple[Concern, ...]:
    """Return the safeguarding concerns in what someone sent (text, or a file's caption)."""
    if isinstance(reply, TextReply):
        return concerns_in(reply.text)
    if isinstance(reply, FileReply) and reply.attachment.caption:
        return concerns_in(reply.attachment.caption)
    return ()


def safeguarding_alert(case: Case, concerns: tuple[str, ...] | None = None) -> Msg:
    """Return the notice that tells staff at once a constituent may be at risk."""
    first = (concerns or case.concerns)[0]
    return Msg(
        "staff.safeguarding_alert",
        {"reference": case.reference, "concern": Msg(f"concern.{first}")},
    )
