"""What channels pass to the services and get back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.core.case import Case
from bot.core.catalogue import Msg
from bot.core.prompts import Prompt


@dataclass(frozen=True, slots=True)
class Sender:
    """Who sent an update: their id, the chat to answer in, and what the channel knows of them."""

    user_id: int
    chat_id: int
    profile: Mapping[str, str] = field(default_factory=dict)
    update_id: int | None = None


@dataclass(frozen=True, slots=True)
class Response:
    """What to send back: leading lines, then the question with its buttons."""

    lead: tuple[Msg, ...] = ()
    prompt: Prompt | None = None
    echo: str | None = None
    revision: int | None = None
    stale: bool = False
    remove_keyboard: bool = False
    # What the message that takes the share-phone keyboard away says, when there is no lead.
    closing: Msg | None = None
    case: Case | None = None
    # The person's answers were deleted (out of area, cancelled): scrub the store after.
    erased: bool = False
