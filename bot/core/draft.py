"""A constituent's intake in progress: the answers so far and where they are."""

from __future__ import annotations

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


class Answer(BaseModel):
    """One accepted answer; ``value`` is None when an optional question was skipped."""

    model_config = ConfigDict(frozen=True)

    value: str | None
    extra: dict[str, str] = Field(default_factory=dict)
    answered_at: datetime


class Draft(BaseModel):
    """Everything needed to resume an intake exactly where it was left."""

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
    revision: int = 0
    started_at: datetime
    updated_at: datetime

    def value(self, step_id: str) -> str | None:
        """Return the stored answer to ``step_id``, or None."""
        answer = self.answers.get(step_id)
        return None if answer is None else answer.value
