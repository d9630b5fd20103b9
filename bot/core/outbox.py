"""What the office owes someone: a catalogue text rendered at delivery time, maybe with a file."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from bot.core.catalogue import Msg, msg_from_data, msg_to_data


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

    @classmethod
    def of(
        cls,
        msg: Msg,
        *,
        attachment: FileRef | None = None,
        case_message_id: int | None = None,
        notice: bool = False,
        edit_message_id: int | None = None,
    ) -> OwedMessage:
        """Return a message owing ``msg``."""
        return cls(
            msg=msg_to_data(msg),
            attachment=attachment,
            case_message_id=case_message_id,
            notice=notice,
            edit_message_id=edit_message_id,
        )

    @property
    def text(self) -> Msg:
        """Return the catalogue text to render."""
        return msg_from_data(self.msg)
