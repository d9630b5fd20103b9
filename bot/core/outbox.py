"""What the office owes someone: a catalogue text rendered at delivery time, maybe with a file."""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from bot.core.catalogue import Msg, msg_from_data, msg_to_data

# Relayed messages of one case combined into one, up to this many characters of their text.
JOINED_LIMIT = 3500
# Messages one deletion takes at most (Telegram's deleteMessages).
DELETE_BATCH = 100


class Priority(IntEnum):
    """Which lanes of a chat go first: urgent notices, then new cases' cards, then the rest."""

    URGENT = 0
    NEW_CASE = 1
    NORMAL = 2
    BACKGROUND = 3


class FileRef(BaseModel):
    """A photo or document to send again, by the channel's own file id."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["photo", "document"]
    file_id: str


class OwedMessage(BaseModel):
    """A message owed to one chat, stored with the change that owes it."""

    model_config = ConfigDict(frozen=True)

    msg: dict[str, Any]
    attachment: FileRef | None = None
    # The case message (a staff reply) this carries, so a reply to it finds the case.
    case_message_id: int | None = None
    # A notice about a failed delivery: if it fails too, it is only logged.
    notice: bool = False
    # Replace the text of this earlier message (its buttons removed) instead of sending anew.
    edit_message_id: int | None = None
    # A constituent's message relayed to staff: a reply to it answers them, and several
    # waiting in a row for one case (with no file) are sent as one.
    relayed: bool = False

    @classmethod
    def of(
        cls,
        msg: Msg,
        *,
        attachment: FileRef | None = None,
        case_message_id: int | None = None,
        notice: bool = False,
        edit_message_id: int | None = None,
        relayed: bool = False,
    ) -> OwedMessage:
        """Return a message owing ``msg``."""
        return cls(
            msg=msg_to_data(msg),
            attachment=attachment,
            case_message_id=case_message_id,
            notice=notice,
            edit_message_id=edit_message_id,
            relayed=relayed,
        )

    @property
    def text(self) -> Msg:
        """Return the catalogue text to render."""
        return msg_from_data(self.msg)

    @property
    def joinable(self) -> bool:
        """Tell whether this may be sent joined with the relayed messages waiting behind it."""
        return self.relayed and self.attachment is None


class Cleanup(BaseModel):
    """What to take out of a chat after a case is erased: its topic, or the bot's messages."""

    model_config = ConfigDict(frozen=True)

    topic_id: int | None = None
    message_ids: tuple[int, ...] = ()
    # The erased case's reference, for staff to be told if the cleanup cannot be done.
    reference: str = ""


def joinable_run(messages: Sequence[OwedMessage]) -> int:
    """Return how many of ``messages``, from the first, can be sent as one relayed message."""
    count, size = 0, 0
    for owed in messages:
        text = owed.text.params.get("text", "")
        if not owed.joinable or not isinstance(text, str):
            break
        size += len(text)
        if count and size > JOINED_LIMIT:
            break
        count += 1
    return count
