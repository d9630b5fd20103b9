"""Cases taken by phone, email or in person: a caseworker's answers through the bot's own intake."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from bot.core.case import Case, CaseChannel
from bot.core.catalogue import Msg
from bot.core.engine import Finished
from bot.core.flow import Step, StepKind
from bot.core.safeguarding import concerns_in
from bot.core.taken import OutOfArea, Problem, take_down
from bot.core.text import clean_text
from bot.service.intake import IntakeService
from bot.service.staff import Caseworker
from bot.storage.store import Store

# A case taken down has no Telegram chat: nothing is ever owed to these ids.
NO_CHAT = 0
HOW_LIMIT = 500


@dataclass(frozen=True, slots=True)
class Taken:
    """The case made from a caseworker's answers (its card is owed to the staff group)."""

    case: Case


TakeResult = Taken | Problem | OutOfArea


class TakenCaseService:
    """Make cases from what a caseworker took down, with the checks the bot makes."""

    def __init__(
        self,
        store: Store,
        intake: IntakeService,
        *,
        clock: Callable[[], datetime],
        on_outbox: Callable[[], None],
    ) -> None:
        """Keep the store and the intake service whose flow, checks and references are used."""
        self.store = store
        self.intake = intake
        self.clock = clock
        self.on_outbox = on_outbox

    def questions(self) -> list[Step]:
        """Return the flow's questions a form asks (notices, uploads and review left out)."""
        skipped = (StepKind.NOTICE, StepKind.ATTACHMENTS, StepKind.REVIEW)
        return [step for step in self.intake.intake.flow.steps if step.kind not in skipped]

    def applies(self, step: Step, answers: Mapping[str, str]) -> bool:
        """Tell whether ``step`` is asked, given the answers so far (the flow's ``when``)."""
        condition = step.when
        return condition is None or condition.holds(answers.get(condition.step))

    def consent_wording(self) -> str | None:
        """Return the consent question as constituents are shown it, to read out or send."""
        return self.intake.consent_wording()

    async def take_case(
        self,
        who: Caseworker,
        channel: CaseChannel,
        answers: Mapping[str, str],
        *,
        consent_how: str,
    ) -> TakeResult:
        """Make a case from answers taken by ``channel``; audited, its card owed to the group.

        ``answers`` are by step id: typed text, or an option's value ("housing", "yes").
        A fault in one answer comes back as a Problem naming the step; a postcode in another
        constituency as OutOfArea. Either way nothing is kept but an anonymous count.
        """
        if channel is CaseChannel.TELEGRAM:
            raise ValueError("a case from Telegram is made by the intake itself")
        how = clean_text(consent_how)[:HOW_LIMIT]
        if not how:
            return Problem("consent", Msg("desk.consent_how"))
        now = self.clock()
        outcome = take_down(self.intake.intake, answers, now, {})
        if isinstance(outcome, OutOfArea):
            async with self.store.transaction() as tx:
                await tx.count_outcome(now.date().isoformat(), "out_of_area")
                await tx.record(now, who.user_id, "taken_out_of_area", None, channel.value)
            return outcome
        if isinstance(outcome, Problem):
            return outcome
        assert isinstance(outcome, Finished)
        draft = outcome.draft
        texts = [a.value for a in self.intake.intake.answers(draft).values() if a.value]
        concerns = [c.value for text in texts for c in concerns_in(text)]
        if concerns:
            draft = draft.with_concerns(list(dict.fromkeys(concerns)))
        async with self.store.transaction() as tx:
            case = await self.intake.create_case(
                tx,
                draft,
                now,
                owner=(NO_CHAT, NO_CHAT),
                channel=channel,
                taken_by=who.user_id,
                consent_how=how,
            )
        self.on_outbox()
        return Taken(case)
