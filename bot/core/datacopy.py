"""A copy of everything held about a constituent that they can read, not only a machine.

/mydata sends this beside the JSON: each question's label and the answer as given, dates and
times as people write them (UK time, with the year), the consent wording they agreed to, the
messages both ways, the documents by file name, and who at the office looked at or worked on
each case, and when. Internal notes are withheld, as in the JSON.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.core.case import Case
from bot.core.catalogue import Catalogue, Msg
from bot.core.dates import dates_in_language, long_date
from bot.core.display import LONDON, shown_answer
from bot.core.draft import Draft
from bot.core.flow import Flow
from bot.core.text import without_markup


@dataclass(frozen=True, slots=True)
class Event:
    """One thing someone at the office did on a case (from the audit log)."""

    at: datetime
    who: str
    action: str


@dataclass(frozen=True, slots=True)
class Exchange:
    """One message between the office and the constituent."""

    at: datetime
    to_constituent: bool
    text: str


@dataclass(frozen=True, slots=True)
class CaseCopy:
    """A case as the constituent may see it."""

    case: Case
    messages: Sequence[Exchange]
    events: Sequence[Event]


def when(moment: datetime) -> str:
    """Return a moment as people write it, in UK time: 23 November 2026, 09:30."""
    local = moment.astimezone(LONDON)
    return f"{long_date(local.date())}, {local:%H:%M}"


class DataCopy:
    """Render a constituent's data as plain text with one office's texts and flow."""

    def __init__(self, catalogue: Catalogue, flow: Flow, params: dict[str, str]) -> None:
        """Use the office's texts for every heading and question label."""
        self.catalogue, self.flow, self.params = catalogue, flow, params

    def text(self, key: str, **values: str) -> str:
        """Return a catalogue text as plain words, filled with ``values``."""
        return without_markup(self.catalogue.render(Msg(key, {**self.params, **values}), _as_is))

    def _when(self, moment: datetime) -> str:
        """Return a moment as the copy's language writes it."""
        return dates_in_language(when(moment), self.catalogue.locale)

    def render(self, draft: Draft | None, cases: Sequence[CaseCopy], now: datetime) -> str:
        """Return the whole copy as plain text."""
        lines = [self.text("mydata.title"), self.text("mydata.made", when=when(now)), ""]
        for copy in cases:
            lines += self._case(copy)
        if draft is not None:
            lines += [self.text("mydata.unsent", started=when(draft.started_at))]
            lines += self._answers({k: a.value for k, a in draft.answers.items()})
            lines.append("")
        if not cases and draft is None:
            lines.append(self.text("mydata.nothing"))
        return "\n".join(lines).rstrip() + "\n"

    def _case(self, copy: CaseCopy) -> list[str]:
        case = copy.case
        status = self.text(f"status.{case.status.value}")
        lines = [self.text("mydata.case", reference=case.reference, when=when(case.created_at))]
        lines += [self.text("mydata.status", status=status), ""]
        lines += self._answers(case.answers)
        lines += ["", *self._consent(case), ""]
        if case.attachments:
            names = [a.file_name or self.text(f"mydata.{a.kind}") for a in case.attachments]
            lines += [self.text("mydata.documents", names=", ".join(names)), ""]
        if copy.messages:
            lines.append(self.text("mydata.messages"))
            for m in copy.messages:
                key = "mydata.from_office" if m.to_constituent else "mydata.from_you"
                lines.append(f"  {self._when(m.at)}, {self.text(key)}: {m.text}")
            lines.append("")
        lines.append(self.text("mydata.seen_by"))
        for event in copy.events:
            lines.append(f"  {self._when(event.at)}  {event.who}: {self._action(event.action)}")
        if not copy.events:
            lines.append("  " + self.text("mydata.seen_by_nobody"))
        return [*lines, "", ""]

    def _answers(self, answers: dict[str, str | None]) -> list[str]:
        lines = []
        for step in self.flow.steps:
            if step.id not in answers or step.label is None:
                continue
            value = answers[step.id]
            option = step.option(value) if value is not None else None
            if value is None:
                shown = self.text("summary.not_given")
            elif option is not None:
                shown = self.text(option.label)
            else:
                shown = shown_answer(step.validator, value)
            lines.append(f"  {self.text(step.label)}: {shown}")
        return lines

    def _consent(self, case: Case) -> list[str]:
        consent = case.consent
        answer = self.text(f"mydata.consent_{consent.answer}")
        lines = [
            self.text(
                "mydata.consent",
                answer=answer,
                when=when(consent.recorded_at),
                version=consent.version,
            )
        ]
        if consent.wording:
            wording = [f"  {line}".rstrip() for line in consent.wording.splitlines()]
            lines += [self.text("mydata.consent_wording"), *wording]
        if consent.withdrawn_at is not None:
            lines.append(self.text("mydata.consent_withdrawn", when=when(consent.withdrawn_at)))
        return lines

    def _action(self, action: str) -> str:
        key = f"mydata.action.{action}"
        return self.text(key) if key in self.catalogue else self.text("mydata.action.other")


def _as_is(text: str) -> str:
    return text
