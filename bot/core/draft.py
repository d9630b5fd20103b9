"""A constituent's intake in progress: the answers so far and where they are."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Attachment(BaseModel):
    """A photo or document the constituent sent, kept by its Telegram file id."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["photo", "document"]
    file_id: str
    file_unique_id: str | None = None
    file_name: str | None = None
    mime_type: str | None = None
    caption: str | None = None

    def with_text(self, *, caption: str | None, file_name: str | None) -> Attachment:
        """Return the attachment with this caption and file name (cleaned ones, say)."""
        return self.model_copy(update={"caption": caption, "file_name": file_name})


class Answer(BaseModel):
    """One accepted answer; ``value`` is None when an optional question was skipped."""

    model_config = ConfigDict(frozen=True)

    value: str | None
    extra: dict[str, str] = Field(default_factory=dict)
    answered_at: datetime


class PendingPostcode(BaseModel):
    """A postcode waiting for the person's word: out of the area, or not in the data."""

    model_config = ConfigDict(frozen=True)

    postcode: str
    kind: Literal["out_of_area", "unverified"]
    constituency_code: str = ""
    constituency_name: str = ""


class Suggestion(BaseModel):
    """A likely correction offered for what was typed at one step (once)."""

    model_config = ConfigDict(frozen=True)

    step: str
    typed: str
    value: str


class Collected(BaseModel):
    """The messages of a long answer so far, joined, until the person says it is all."""

    model_config = ConfigDict(frozen=True)

    step: str
    text: str


class Draft(BaseModel):
    """Everything needed to resume an intake exactly where it was left."""

    model_config = ConfigDict(frozen=True)

    flow_id: str
    flow_version: int
    step: str
    answers: dict[str, Answer] = Field(default_factory=dict)
    attachments: list[Attachment] = Field(default_factory=list)
    profile: dict[str, str] = Field(default_factory=dict)
    reviewing: bool = False
    prefilled: bool = False
    reminded: bool = False
    linked_to: str | None = None
    confirming_cancel: bool = False
    pending_postcode: PendingPostcode | None = None
    postcode_misses: int = 0
    suggestion: Suggestion | None = None
    collected: Collected | None = None
    revision: int = 0
    # Safeguarding concerns raised by what the person wrote (bot/core/safeguarding.py).
    concerns: list[str] = Field(default_factory=list)
    # The language the person chose ("en", "cy"): every text they are sent is in it.
    language: str = "en"
    started_at: datetime
    updated_at: datetime

    def value(self, step_id: str) -> str | None:
        """Return the stored answer to ``step_id``, or None."""
        answer = self.answers.get(step_id)
        return None if answer is None else answer.value

    # Typed changes: pydantic's model_copy(update=...) would take a misspelt field silently.

    def at(
        self,
        step: str,
        *,
        reviewing: bool,
        answers: Mapping[str, Answer] | None = None,
        now: datetime | None = None,
    ) -> Draft:
        """Return the draft moved to ``step``; ``reviewing`` returns to check-answers after it.

        What waited for the person's word at the step left (a postcode, a correction) goes.
        With ``answers``, they replace its own; with ``now``, it is touched then (in one copy).
        """
        update: dict[str, object] = {"step": step, "reviewing": reviewing}
        if step != self.step:
            update |= {"pending_postcode": None, "postcode_misses": 0, "suggestion": None}
        if answers is not None:
            update["answers"] = dict(answers)
        if now is not None:
            update |= self._touch(now)
        return self.model_copy(update=update)

    def with_answers(self, answers: Mapping[str, Answer]) -> Draft:
        """Return the draft holding ``answers`` in place of its own."""
        return self.model_copy(update={"answers": dict(answers)})

    def with_attachment(self, attachment: Attachment) -> Draft:
        """Return the draft with ``attachment`` added after the others."""
        return self.model_copy(update={"attachments": [*self.attachments, attachment]})

    def with_pending_postcode(self, pending: PendingPostcode | None, *, misses: int = 0) -> Draft:
        """Return the draft with a postcode awaiting the person's word (or none), and misses."""
        return self.model_copy(update={"pending_postcode": pending, "postcode_misses": misses})

    def with_suggestion(self, suggestion: Suggestion | None) -> Draft:
        """Return the draft offering ``suggestion`` (None: offering nothing)."""
        return self.model_copy(update={"suggestion": suggestion})

    def with_collected(self, collected: Collected | None) -> Draft:
        """Return the draft holding the messages of a long answer so far (None: none)."""
        return self.model_copy(update={"collected": collected})

    def collected_at(self, step: str) -> str | None:
        """Return the long answer gathered so far at ``step``, if there is one."""
        found = self.collected
        return found.text if found is not None and found.step == step else None

    def cancelling(self, *, asked: bool) -> Draft:
        """Return the draft with the are-you-sure question after Cancel asked (or answered)."""
        return self.model_copy(update={"confirming_cancel": asked})

    def on_flow_version(self, version: int, *, skip_answered: bool) -> Draft:
        """Return the draft carried over to ``version`` of its flow.

        With ``skip_answered``, moving on skips the questions it already has answers to, as
        for a pre-filled draft.
        """
        prefilled = self.prefilled or skip_answered
        return self.model_copy(update={"flow_version": version, "prefilled": prefilled})

    def touched(self, now: datetime) -> Draft:
        """Return the draft as changed at ``now``: its next revision, so older buttons are stale."""
        return self.model_copy(update=self._touch(now))

    def _touch(self, now: datetime) -> dict[str, object]:
        return {"revision": self.revision + 1, "updated_at": now}

    def restarted_from(self, old: Draft) -> Draft:
        """Return this new draft numbered after ``old``, so buttons made for ``old`` are stale."""
        return self.model_copy(update={"revision": old.revision + 1})

    def with_concerns(self, concerns: Iterable[str]) -> Draft:
        """Return the draft flagged with ``concerns`` as well as those it had."""
        merged = [*self.concerns, *(c for c in concerns if c not in self.concerns)]
        return self.model_copy(update={"concerns": merged})

    def in_language(self, language: str) -> Draft:
        """Return the draft to be continued in ``language``, every answer kept."""
        return self.model_copy(update={"language": language})

    def as_reminded(self) -> Draft:
        """Return the draft marked as sent its one reminder."""
        return self.model_copy(update={"reminded": True})
