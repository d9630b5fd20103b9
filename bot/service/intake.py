"""The intake as a service any channel can call: load the draft, advance it, commit, answer."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime

from bot.core import roles
from bot.core.case import Case, CaseChannel, assess_urgency, build_case
from bot.core.catalogue import Catalogue, Msg
from bot.core.draft import Draft
from bot.core.engine import Ask, Ended, Finished, Intake
from bot.core.flow import StepKind
from bot.core.languages import ENGLISH, action_for, language_of_action
from bot.core.outbox import OwedMessage
from bot.core.prompts import Button, Prompt
from bot.core.references import make_reference
from bot.core.replies import Back, FinishText, Reply
from bot.core.rules import OfficeRules
from bot.core.staff import StaffDirectory, route
from bot.core.text import without_markup
from bot.core.workdays import working_days
from bot.service.outbox import LANE_READ
from bot.service.relay import Relay, concerns_of, safeguarding_alert
from bot.service.replies import messages_of
from bot.service.types import LaneRead, Response, Sender
from bot.storage.records import ChatLane, DuplicateReferenceError
from bot.storage.store import AlreadyProcessed, Store, Tx

RESUME = "resume"
RESTART = "restart"
URGENT_TEXT_STEPS = (roles.WHAT_HAPPENED, roles.DESIRED_OUTCOME)


class IntakeService:
    """Run intakes for one office on one database."""

    def __init__(
        self,
        store: Store,
        intake: Intake,
        staff: StaffDirectory,
        rules: OfficeRules,
        catalogue: Catalogue,
        *,
        clock: Callable[[], datetime],
        random_number: Callable[[], int],
        on_outbox: Callable[[], None],
        languages: Sequence[str] = (ENGLISH,),
        consent_texts: Mapping[str, Catalogue] | None = None,
        outbox_turn: Callable[[], int] | None = None,
    ) -> None:
        """Keep the store, the engine, the staff and the office's rules and languages.

        With ``outbox_turn`` (the outbox's ``turn``), an answer's response carries what the
        chat is owed, read with the answer's commit, for the outbox to deliver at once.
        """
        self.store = store
        self.intake = intake
        self.staff = staff
        self.rules = rules
        self.catalogue = catalogue
        self.clock = clock
        self.random_number = random_number
        self.on_outbox = on_outbox
        self.outbox_turn = outbox_turn
        self.relay = Relay(intake, staff, clock)
        self.languages = tuple(languages)
        # The consent question is recorded in the words the person read, in their language.
        self.consent_texts = dict(consent_texts or {})

    async def start(self, sender: Sender) -> Response:
        """Begin an intake, or offer to carry on with the one under way."""
        now = self.clock()
        turn = None if self.outbox_turn is None else self.outbox_turn()
        try:
            response, lane = await self._start(sender, now, turn is not None)
        except AlreadyProcessed:  # a second delivery: nothing of it was committed
            return Response(stale=True)
        return _with_lane(response, lane, turn)

    async def _start(
        self, sender: Sender, now: datetime, read_lane: bool
    ) -> tuple[Response, Callable[[], ChatLane | None] | None]:
        async with self.store.transaction() as tx:
            # Recorded as processed with its effect, like an answer (see _handle).
            if sender.update_id is not None:
                tx.claim_update(sender.update_id, now)
            if len(self.languages) > 1:
                draft, known = await tx.draft_and_language(sender.user_id, sender.chat_id)
            else:  # an office with one language: the one a new intake starts in
                draft, known = await tx.get_draft(sender.user_id), self.languages[0]
            if draft is not None:
                response = Response(prompt=_resume_prompt(), revision=draft.revision)
            elif known is None and len(self.languages) > 1:
                # Ask, don't guess: Telegram rarely reports Welsh as the app's language.
                response = Response(prompt=self.language_prompt(), revision=0)
            else:
                response = await self._begin(tx, sender, known or ENGLISH, now)
            await owe_response(tx, sender.chat_id, response, now)
            lane = tx.lane_with_commit(sender.chat_id, LANE_READ) if read_lane else None
        return response, lane

    async def _begin(self, tx: Tx, sender: Sender, language: str, now: datetime) -> Response:
        ask = self.intake.begin(now, sender.profile)
        draft = ask.draft.in_language(language)
        await tx.save_draft(sender.user_id, sender.chat_id, draft)
        await tx.count_outcome(now.date().isoformat(), "started")
        return Response(prompt=ask.prompt, revision=draft.revision)

    def language_prompt(self) -> Prompt:
        """Return the bilingual question that asks which language to use."""
        buttons = tuple(
            (Button(Msg(f"button.language.{code}"), action_for(code)),)
            for code in sorted(self.languages, key=lambda code: code == ENGLISH)
        )
        return Prompt(text=Msg("language.choose"), buttons=buttons)

    async def ask_language(self, sender: Sender) -> Response:
        """Offer the languages (/iaith, /language); choosing keeps every answer."""
        now = self.clock()
        async with self.store.transaction() as tx:
            draft = await tx.get_draft(sender.user_id)
            revision = draft.revision if draft is not None else 0
            response = Response(prompt=self.language_prompt(), revision=revision)
            await owe_response(tx, sender.chat_id, response, now)
        return response

    async def language_of(self, chat_id: int) -> str | None:
        """Return the language the person in ``chat_id`` chose, if they have chosen."""
        async with self.store.autocommit() as tx:
            return await tx.language_of(chat_id)

    async def _switch(
        self, tx: Tx, sender: Sender, draft: Draft | None, language: str, now: datetime
    ) -> Response:
        """Go on in ``language``: the draft's answers and question stay where they were."""
        await tx.set_language(sender.user_id, language)
        if draft is None:
            if await tx.language_of(sender.chat_id) is not None:  # they have cases: no intake
                return Response(lead=(Msg("language.changed"),))
            return await self._begin(tx, sender, language, now)
        switched = draft.in_language(language).touched(now)
        await tx.save_draft(sender.user_id, sender.chat_id, switched)
        resumed = self.intake.resume(switched, now)
        if resumed.changed:
            await tx.save_draft(sender.user_id, sender.chat_id, resumed.draft)
        return Response(
            lead=(Msg("language.changed"),), prompt=resumed.prompt, revision=resumed.draft.revision
        )

    async def cases_of(self, user_id: int) -> list[Case]:
        """Return a constituent's own cases, oldest first."""
        async with self.store.transaction() as tx:
            return [stored.case for stored in await tx.list_cases_for_user(user_id)]

    async def choose(self, sender: Sender, action: str, revision: int) -> Response:
        """Carry on with the draft under way, or delete it and start again."""
        now = self.clock()
        async with self.store.transaction() as tx:
            draft = await tx.get_draft(sender.user_id)
            language = language_of_action(action, self.languages)
            if language is not None and (draft is None or draft.revision == revision):
                response = await self._switch(tx, sender, draft, language, now)
                await owe_response(tx, sender.chat_id, response, now)
                return response
            if draft is None or draft.revision != revision or language is not None:
                return Response(stale=True)
            response = await self._choose(tx, sender, draft, action, now)
            await owe_response(tx, sender.chat_id, response, now)
        return response

    async def _choose(
        self, tx: Tx, sender: Sender, draft: Draft, action: str, now: datetime
    ) -> Response:
        if action == RESUME:
            resumed = self.intake.resume(draft, now)
            if resumed.changed:
                await tx.save_draft(sender.user_id, sender.chat_id, resumed.draft)
            lead = () if resumed.notice is None else (resumed.notice,)
            return Response(lead=lead, prompt=resumed.prompt, revision=resumed.draft.revision)
        ask = self.intake.begin(now, sender.profile)
        fresh = ask.draft.restarted_from(draft).in_language(draft.language)
        await tx.save_draft(sender.user_id, sender.chat_id, fresh)
        await tx.count_outcome(now.date().isoformat(), "started")
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
        turn = None if self.outbox_turn is None else self.outbox_turn()
        try:
            response, relayed, lane = await self._handle(
                sender, reply, revision, reply_to, now, turn is not None
            )
        except AlreadyProcessed:  # a second delivery: nothing of it was committed
            return Response(stale=True)
        response = _with_lane(response, lane, turn)
        if response.erased:
            await self.store.scrub()
        if relayed is not None or response.case is not None:
            self.on_outbox()
        return response

    async def _handle(
        self,
        sender: Sender,
        reply: Reply,
        revision: int | None,
        reply_to: int | None,
        now: datetime,
        read_lane: bool,
    ) -> tuple[Response, Response | None, Callable[[], ChatLane | None] | None]:
        """Apply a reply in one transaction; return the response, the relay's if relayed, and
        (if ``read_lane``) what the chat is owed, read with the commit."""
        relayed: Response | None = None
        concerns = concerns_of(reply)
        async with self.store.transaction() as tx:
            # Marked in the same transaction as its effect: a redelivered update is a no-op,
            # and an update whose effect was lost in a crash is processed again.
            if sender.update_id is None:
                draft = await tx.get_draft(sender.user_id)
            else:
                fresh, draft = await tx.claim_draft(sender.update_id, sender.user_id, now)
                if not fresh:
                    return Response(stale=True), None, None
            if concerns and draft is not None:
                draft = draft.with_concerns(concerns)
                await tx.save_draft(sender.user_id, sender.chat_id, draft)
            if revision is None:
                has_draft = draft is not None
                relayed = await self.relay.to_case(tx, sender, reply, reply_to, has_draft, concerns)
            response = relayed or await self._advance(tx, sender, draft, reply, revision, now)
            if concerns:
                # Help first, before anything else the bot says.
                help_now = Msg(f"safeguarding.{concerns[0]}", self.intake.params)
                response = replace(response, lead=(help_now, *response.lead))
            # The reply is owed with the answer it follows: a failed send or a restart delays
            # the next question, never loses it.
            await owe_response(tx, sender.chat_id, response, now)
            lane = tx.lane_with_commit(sender.chat_id, LANE_READ) if read_lane else None
        return response, relayed, lane

    async def _advance(
        self,
        tx: Tx,
        sender: Sender,
        draft: Draft | None,
        reply: Reply,
        revision: int | None,
        now: datetime,
    ) -> Response:
        """Apply the reply to the draft inside the caller's transaction."""
        if draft is None:
            return Response(lead=(Msg("intake.no_draft"),), stale=revision is not None)
        if (
            revision is not None
            and revision != draft.revision
            and not _still_gathering(draft, reply)
        ):
            return Response(stale=True)
        outcome = self.intake.advance(draft, reply, now)
        if isinstance(outcome, Ended):
            await tx.delete_draft(sender.user_id)
            await tx.count_outcome(now.date().isoformat(), outcome.reason)
            return Response(lead=(outcome.message,), remove_keyboard=True, erased=True)
        if isinstance(outcome, Finished):
            return Response(case=await self._send(tx, sender, outcome.draft, now))
        if outcome.changed:
            await tx.save_draft(sender.user_id, sender.chat_id, outcome.draft)
        return self._ask_response(draft, outcome, reply)

    def _ask_response(self, before: Draft, ask: Ask, reply: Reply) -> Response:
        lead = tuple(m for m in (ask.notice, ask.error) if m is not None)
        # A step the flow no longer has may have shown the share-phone keyboard.
        old = self.intake.flow.find(before.step)
        was_phone = old is None or old.kind is StepKind.PHONE
        left_phone = was_phone and ask.prompt.request_contact is False
        return Response(
            lead=lead,
            prompt=ask.prompt,
            echo=ask.echo,
            revision=ask.draft.revision,
            remove_keyboard=left_phone,
            closing=_closing(before, ask.draft, reply) if left_phone else None,
        )

    async def _send(self, tx: Tx, sender: Sender, draft: Draft, now: datetime) -> Case:
        return await self.create_case(tx, draft, now, owner=(sender.user_id, sender.chat_id))

    async def create_case(
        self,
        tx: Tx,
        draft: Draft,
        now: datetime,
        *,
        owner: tuple[int, int],
        channel: CaseChannel = CaseChannel.TELEGRAM,
        taken_by: int | None = None,
        consent_how: str | None = None,
    ) -> Case:
        """Make the case of a finished draft in the caller's transaction, and hand it over.

        A case taken down by a caseworker (``taken_by``) records the channel it came by and
        how its consent was given; its constituent has no chat with the bot to be told in.
        """
        answers = self.intake.answers(draft)
        deadline = answers.get(roles.DEADLINE)
        texts = [a.value for step, a in answers.items() if step in URGENT_TEXT_STEPS and a.value]
        urgency = assess_urgency(
            date.fromisoformat(deadline.value) if deadline and deadline.value else None,
            texts,
            now.date(),
            self.rules.urgency.deadline_days,
            self.rules.urgency.keywords,
        )
        category = answers[roles.CATEGORY].value if roles.CATEGORY in answers else None
        specialist = route(category or "", self.rules.routes, self.staff)
        for _ in range(20):
            case = build_case(
                answers,
                draft.attachments,
                reference=make_reference(self.rules.reference_prefix, self.random_number()),
                owner=owner,
                flow=(draft.flow_id, draft.flow_version),
                now=now,
                urgency=urgency,
                linked_to=draft.linked_to,
                assignee=specialist.user_id if specialist else None,
                concerns=draft.concerns,
                consent_wording=self.consent_wording(draft.language),
                language=draft.language,
                reply_by=working_days(self.rules.nation).reply_by(now, self.rules.response_days),
                channel=channel,
                consent_via=(channel.value, taken_by),
                consent_how=consent_how,
            )
            try:
                case_id = await tx.create_case(case)
            except DuplicateReferenceError:
                continue
            if taken_by is None:
                await tx.delete_draft(owner[0])
                await tx.count_outcome(now.date().isoformat(), "sent")
            await self._hand_over(tx, case_id, case, now, taken_by)
            return case
        raise RuntimeError("no free reference number after 20 tries")

    async def _hand_over(
        self, tx: Tx, case_id: int, case: Case, now: datetime, taken_by: int | None = None
    ) -> None:
        """Owe the constituent a confirmation and the team a card, in the case's transaction."""
        if case.channel is CaseChannel.TELEGRAM:
            await tx.owe(case.chat_id, self._confirmation(case), now, case_id)
        await tx.owe_card(case_id, self.staff.staff_chat_id, now)
        if case.concerns:
            await tx.owe(self._alerted(case), safeguarding_alert(case), now, case_id)
        detail = f"category={case.category} urgent={'yes' if case.urgency.urgent else 'no'}"
        if case.channel is not CaseChannel.TELEGRAM:
            detail += f" channel={case.channel.value}"
        await tx.record(now, taken_by, "created", case.reference, detail)
        if case.assignee is not None:
            await tx.record(now, None, "assigned", case.reference, f"to={case.assignee}")
            note = Msg("staff.assigned_to_you", {"reference": case.reference})
            await tx.owe(case.assignee, note, now, case_id)

    def consent_wording(self, language: str = ENGLISH) -> str | None:
        """Return the consent question as the person was shown it, in plain words."""
        step = self.intake.flow.find(roles.CONSENT)
        if step is None:
            return None
        catalogue = self.consent_texts.get(language, self.catalogue)
        text = catalogue.render(Msg(step.text, self.intake.params), _as_is)
        return without_markup(text)

    def _alerted(self, case: Case) -> int:
        """Return who is told at once of a safeguarding concern: the assignee, or the team."""
        return case.assignee if case.assignee is not None else self.staff.staff_chat_id

    def _confirmation(self, case: Case) -> Msg:
        key = (
            "confirmation.sent" if case.consent.answer == "yes" else "confirmation.sent_no_consent"
        )
        return Msg(key, {**self.intake.params, "reference": case.reference})


def _as_is(text: str) -> str:
    """Fill a text's values as they are (the result is made plain text as a whole)."""
    return text


def _still_gathering(draft: Draft, reply: Reply) -> bool:
    """Tell whether an older "That is everything" still means the answer being gathered.

    Each message of a long answer makes new buttons; the one pressed may be under an earlier
    message of the same answer.
    """
    if not isinstance(reply, FinishText) or reply.step != draft.step:
        return False
    return draft.collected_at(reply.step) is not None


def _closing(before: Draft, after: Draft, reply: Reply) -> Msg:
    """Return what to say as the share-phone keyboard goes: saved only if a number was."""
    answer = after.answers.get(before.step)
    if answer is not None and answer.value and answer != before.answers.get(before.step):
        return Msg("notice.phone_saved")
    if isinstance(reply, Back):
        return Msg("notice.went_back")
    return Msg("notice.keyboard_closed")


async def owe_response(tx: Tx, chat_id: int, response: Response, now: datetime) -> None:
    """Owe the person the messages of ``response``, in the caller's transaction."""
    for part in messages_of(response):
        await tx.owe_message(chat_id, OwedMessage.of_reply(part), now)


def _with_lane(
    response: Response, lane: Callable[[], ChatLane | None] | None, turn: int | None
) -> Response:
    """Return ``response`` carrying the chat's lane as read with its commit, if it was read."""
    owed = None if lane is None else lane()
    return (
        response if owed is None or turn is None else replace(response, owed=LaneRead(owed, turn))
    )


def _resume_prompt() -> Prompt:
    return Prompt(
        text=Msg("intake.resume"),
        buttons=(
            (Button(Msg("button.resume"), RESUME),),
            (Button(Msg("button.restart"), RESTART),),
        ),
    )
