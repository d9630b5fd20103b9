"""The intake as a service any channel can call: load the draft, advance it, commit, answer."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from bot.core.case import Case, assess_urgency, build_case
from bot.core.catalogue import Msg, msg_to_data
from bot.core.draft import Draft
from bot.core.engine import Ask, Ended, Finished, Intake
from bot.core.flow import StepKind
from bot.core.prompts import Button, Prompt
from bot.core.references import make_reference
from bot.core.replies import Reply
from bot.core.staff import StaffDirectory, route
from bot.service.relay import Relay
from bot.service.types import Response, Sender
from bot.storage.sqlite.audit import record
from bot.storage.sqlite.cases import DuplicateReferenceError, create_case, list_cases_for_user
from bot.storage.sqlite.database import Connection, Database
from bot.storage.sqlite.drafts import delete_draft, get_draft, save_draft
from bot.storage.sqlite.outbox import enqueue_card, enqueue_message
from bot.storage.sqlite.safeguards import count_outcome, mark_processed

RESUME = "resume"
RESTART = "restart"
URGENT_TEXT_STEPS = ("what_happened", "desired_outcome")


@dataclass(frozen=True, slots=True)
class UrgencyRules:
    """When a case is urgent: a deadline within ``deadline_days``, or one of ``keywords``."""

    deadline_days: int = 14
    keywords: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class OfficeRules:
    """How new cases reach the team: the staff, routes by category, and urgency."""

    staff: StaffDirectory
    routes: Mapping[str, str] = field(default_factory=dict)
    urgency: UrgencyRules = field(default_factory=UrgencyRules)


def _nothing() -> None:
    """Do nothing (the default when no delivery worker listens)."""


class IntakeService:
    """Run intakes for one office on one database."""

    def __init__(
        self,
        db: Database,
        intake: Intake,
        *,
        clock: Callable[[], datetime],
        reference_prefix: str,
        random_number: Callable[[], int],
        rules: OfficeRules,
        on_outbox: Callable[[], None] = _nothing,
    ) -> None:
        """Keep the database, the engine and the office's rules."""
        self.db = db
        self.intake = intake
        self.clock = clock
        self.reference_prefix = reference_prefix
        self.random_number = random_number
        self.rules = rules
        self.on_outbox = on_outbox
        self.relay = Relay(intake, rules.staff, clock)

    async def start(self, sender: Sender) -> Response:
        """Begin an intake, or offer to carry on with the one under way."""
        now = self.clock()
        async with self.db.transaction() as db:
            draft = await get_draft(db, sender.user_id)
            if draft is not None:
                return Response(prompt=_resume_prompt(), revision=draft.revision)
            ask = self.intake.begin(now, sender.profile)
            await save_draft(db, sender.user_id, sender.chat_id, ask.draft)
        return Response(prompt=ask.prompt, revision=ask.draft.revision)

    async def cases_of(self, user_id: int) -> list[Case]:
        """Return a constituent's own cases, oldest first."""
        async with self.db.transaction() as db:
            return [stored.case for stored in await list_cases_for_user(db, user_id)]

    async def choose(self, sender: Sender, action: str, revision: int) -> Response:
        """Carry on with the draft under way, or delete it and start again."""
        now = self.clock()
        async with self.db.transaction() as db:
            draft = await get_draft(db, sender.user_id)
            if draft is None or draft.revision != revision:
                return Response(stale=True)
            if action == RESUME:
                return Response(prompt=self.intake.prompt(draft), revision=draft.revision)
            ask = self.intake.begin(now, sender.profile)
            fresh = ask.draft.model_copy(update={"revision": draft.revision + 1})
            await save_draft(db, sender.user_id, sender.chat_id, fresh)
        lead = (Msg("intake.restarted"),)
        return Response(lead=lead, prompt=ask.prompt, revision=fresh.revision)

    async def handle(
        self,
        sender: Sender,
        reply: Reply,
        revision: int | None = None,
        reply_to: int | None = None,
    ) -> Response:
        """Apply a reply (with the revision its button was made for) and commit before answering.

        A message that answers one of the office's replies, or any message from someone with
        no intake under way, goes to their case instead (see Relay).
        """
        now = self.clock()
        relayed: Response | None = None
        async with self.db.transaction() as db:
            # Marked in the same transaction as its effect: a redelivered update is a no-op,
            # and an update whose effect was lost in a crash is processed again.
            if sender.update_id is not None and not await mark_processed(db, sender.update_id, now):
                return Response(stale=True)
            draft = await get_draft(db, sender.user_id)
            if revision is None:
                relayed = await self.relay.to_case(db, sender, reply, reply_to, draft is not None)
            response = relayed or await self._advance(db, sender, draft, reply, revision, now)
        if relayed is not None or response.case is not None:
            self.on_outbox()
        return response

    async def _advance(
        self,
        db: Connection,
        sender: Sender,
        draft: Draft | None,
        reply: Reply,
        revision: int | None,
        now: datetime,
    ) -> Response:
        """Apply the reply to the draft inside the caller's transaction."""
        if draft is None:
            return Response(lead=(Msg("intake.no_draft"),), stale=revision is not None)
        if revision is not None and revision != draft.revision:
            return Response(stale=True)
        outcome = self.intake.advance(draft, reply, now)
        if isinstance(outcome, Ended):
            await delete_draft(db, sender.user_id)
            await count_outcome(db, now.date().isoformat(), outcome.reason)
            return Response(lead=(outcome.message,), remove_keyboard=True)
        if isinstance(outcome, Finished):
            return Response(case=await self._send(db, sender, outcome.draft, now))
        if outcome.changed:
            await save_draft(db, sender.user_id, sender.chat_id, outcome.draft)
        return self._ask_response(draft, outcome)

    def _ask_response(self, before: Draft, ask: Ask) -> Response:
        lead = tuple(m for m in (ask.notice, ask.error) if m is not None)
        was_phone = self.intake.flow.step(before.step).kind is StepKind.PHONE
        left_phone = was_phone and ask.prompt.request_contact is False
        return Response(
            lead=lead,
            prompt=ask.prompt,
            echo=ask.echo,
            revision=ask.draft.revision,
            remove_keyboard=left_phone,
        )

    async def _send(self, db: Connection, sender: Sender, draft: Draft, now: datetime) -> Case:
        answers = self.intake.answers(draft)
        deadline = answers.get("deadline")
        texts = [a.value for step, a in answers.items() if step in URGENT_TEXT_STEPS and a.value]
        urgency = assess_urgency(
            date.fromisoformat(deadline.value) if deadline and deadline.value else None,
            texts,
            now.date(),
            self.rules.urgency.deadline_days,
            self.rules.urgency.keywords,
        )
        category = answers["category"].value if "category" in answers else None
        specialist = route(category or "", self.rules.routes, self.rules.staff)
        for _ in range(20):
            case = build_case(
                answers,
                draft.attachments,
                reference=make_reference(self.reference_prefix, self.random_number()),
                owner=(sender.user_id, sender.chat_id),
                flow=(draft.flow_id, draft.flow_version),
                now=now,
                urgency=urgency,
                linked_to=draft.linked_to,
                assignee=specialist.user_id if specialist else None,
            )
            try:
                case_id = await create_case(db, case)
            except DuplicateReferenceError:
                continue
            await delete_draft(db, sender.user_id)
            await self._hand_over(db, case_id, case, now)
            return case
        raise RuntimeError("no free reference number after 20 tries")

    async def _hand_over(self, db: Connection, case_id: int, case: Case, now: datetime) -> None:
        """Owe the constituent a confirmation and the team a card, in the case's transaction."""
        confirmation = msg_to_data(self._confirmation(case))
        await enqueue_message(db, case.chat_id, {"msg": confirmation}, now, case_id)
        await enqueue_card(db, case_id, self.rules.staff.staff_chat_id, now)
        detail = f"category={case.category} urgent={'yes' if case.urgency.urgent else 'no'}"
        await record(db, now, None, "created", case.reference, detail)
        if case.assignee is not None:
            await record(db, now, None, "assigned", case.reference, f"to={case.assignee}")
            note = msg_to_data(Msg("staff.assigned_to_you", {"reference": case.reference}))
            await enqueue_message(db, case.assignee, {"msg": note}, now, case_id)

    def _confirmation(self, case: Case) -> Msg:
        key = (
            "confirmation.sent" if case.consent.answer == "yes" else "confirmation.sent_no_consent"
        )
        return Msg(key, {**self.intake.params, "reference": case.reference})


def _resume_prompt() -> Prompt:
    return Prompt(
        text=Msg("intake.resume"),
        buttons=(
            (Button(Msg("button.resume"), RESUME),),
            (Button(Msg("button.restart"), RESTART),),
        ),
    )
