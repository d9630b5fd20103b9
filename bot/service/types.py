"""What channels pass to the services and get back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.core.case import Case
from bot.core.catalogue import Msg
from bot.core.prompts import Prompt
from bot.storage.records import ChatLane


@dataclass(frozen=True, slots=True)
class Sender:
    """Who sent an update: their id, the chat to answer in, and what the channel knows of them."""

    user_id: int
    chat_id: int
    profile: Mapping[str, str] = field(default_factory=dict)
    update_id: int | None = None


@dataclass(frozen=True, slots=True)
class LaneRead:
    """A chat's lane as read with a commit, and the outbox's turn from before it began.

    The outbox uses it only if no delivery to the chat began since that turn; else it reads
    the lane again.
    """

    lane: ChatLane
    turn: int


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
    # What the chat was owed as the answer committed, for the outbox to deliver at once.
    owed: LaneRead | None = None
