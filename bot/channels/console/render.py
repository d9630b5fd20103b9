"""Render the office's texts for a terminal: catalogue HTML as plain text, buttons numbered."""

from __future__ import annotations

import html
import re
from datetime import datetime

from bot.core import roles
from bot.core.cards import card_body, card_notes, language_line
from bot.core.case import Case
from bot.core.catalogue import Catalogue, Msg
from bot.core.display import shown_time
from bot.core.flow import Flow
from bot.core.prompts import Button, Prompt
from bot.core.staff import StaffDirectory
from bot.service.types import Response

_TAG = re.compile(r"<[^>]*>")


def plain(text: str) -> str:
    """Return catalogue HTML as it reads in a terminal: no tags, entities resolved."""
    return html.unescape(_TAG.sub("", text))


class ConsoleRenderer:
    """Turn responses, cards and owed messages into terminal text."""

    def __init__(self, catalogue: Catalogue, flow: Flow, staff: StaffDirectory) -> None:
        """Render with the office's catalogue, flow (for labels) and staff names."""
        self.catalogue, self.flow, self.staff = catalogue, flow, staff

    def text(self, msg: Msg) -> str:
        """Render a catalogue text as plain text (the person's words escaped, then shown)."""
        return plain(self.catalogue.render(msg, lambda value: html.escape(value, quote=False)))

    def label(self, label: Msg | str) -> str:
        """Return a button's label."""
        return self.text(label) if isinstance(label, Msg) else label

    def response(self, response: Response) -> tuple[list[str], list[Button]]:
        """Return the blocks of text to show, and the buttons to number, for ``response``."""
        blocks = [self.text(m) for m in response.lead]
        if response.echo:
            blocks.append(self.text(Msg("notice.echo", {"text": response.echo[:200]})))
        buttons: list[Button] = []
        if response.prompt is not None:
            blocks.append(self.prompt(response.prompt))
            buttons = [button for row in response.prompt.buttons for button in row]
        return blocks, buttons

    def prompt(self, prompt: Prompt) -> str:
        """Return a question with its hint and, on check-your-answers, every answer."""
        parts = [self.text(prompt.text)]
        if prompt.hint is not None:
            parts.append(f"({self.text(prompt.hint)})")
        for row in prompt.summary:
            value = self.text(row.value) if isinstance(row.value, Msg) else row.value
            parts.append(f"{self.text(row.label)}: {value}")
        return "\n".join(parts) if prompt.summary else "\n\n".join(parts)

    def card(self, case: Case, now: datetime) -> str:
        """Return the staff group's card for a case."""
        if case.urgency.urgent:
            head = self.text(Msg("card.urgent", {"reasons": "; ".join(case.urgency.reasons)}))
        else:
            head = self.text(Msg("card.not_urgent"))
        option = self.flow.step(roles.CATEGORY).option(case.category)
        minutes = max(0, int((now - case.created_at).total_seconds() // 60))
        body = card_body(
            case,
            category=self.text(Msg(option.label)) if option else case.category,
            assignee=self.staff.name_of(case.assignee) or Msg("card.unassigned"),
            received=shown_time(case.created_at),
            age=f"{minutes}m",
        )
        lines = [head, self.text(body)]
        relationship = case.answers.get(roles.OTHER_RELATIONSHIP) or ""
        step, value = self.flow.find(roles.OTHER_AGREES), case.answers.get(roles.OTHER_AGREES)
        agrees = step.option(value) if step is not None and value is not None else None
        agreement = self.text(Msg(agrees.label)) if agrees is not None else ""
        notes = card_notes(case, relationship=relationship, agreement=agreement)
        lines += [self.text(note) for note in notes]
        if (language := language_line(case)) is not None:
            lines.append(self.text(language))
        buttons = ("button.claim", "button.show", "button.close")
        lines.append("  ".join(f"[{self.text(Msg(key))}]" for key in buttons))
        return "\n".join(lines)
