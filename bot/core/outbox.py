"""What the office owes someone: a catalogue text or an intake's reply, rendered at delivery."""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.core.catalogue import Msg, msg_from_data, msg_to_data
from bot.core.prompts import Prompt, prompt_from_data, prompt_to_data

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


class OwedReply(BaseModel):
    """One message of the intake's answer to a person: lines, then maybe the next question.

    Stored whole (texts, buttons with their actions, the draft's revision), so that what the
    person is shown after a restart or a Telegram outage is what they were owed at the time.
    """

    model_config = ConfigDict(frozen=True)

    lead: tuple[dict[str, Any], ...] = ()
    echo: str | None = None
    prompt: dict[str, Any] | None = None
    revision: int = 0
    # The message takes away a keyboard that is not its own (the share-phone button).
    remove_keyboard: bool = False

    @classmethod
    def of(
        cls,
        lead: Sequence[Msg] = (),
        *,
        echo: str | None = None,
        prompt: Prompt | None = None,
        revision: int = 0,
        remove_keyboard: bool = False,
    ) -> OwedReply:
        """Return the message with these lines, echo and question."""
        return cls(
            lead=tuple(msg_to_data(m) for m in lead),
            echo=echo,
            prompt=None if prompt is None else prompt_to_data(prompt),
            revision=revision,
            remove_keyboard=remove_keyboard,
        )

    @property
    def lines(self) -> tuple[Msg, ...]:
        """Return the catalogue texts shown before the question."""
        return tuple(msg_from_data(m) for m in self.lead)

    @property
    def question(self) -> Prompt | None:
        """Return the question to show, if there is one."""
        return None if self.prompt is None else prompt_from_data(self.prompt)


class OwedMessage(BaseModel):
    """A message owed to one chat, stored with the change that owes it."""

    model_config = ConfigDict(frozen=True)

    msg: dict[str, Any] = Field(default_factory=dict)
    attachment: FileRef | None = None
    # The case message (a staff reply) this carries, so a reply to it finds the case.
    case_message_id: int | None = None
    # A message whose failure staff are not told of, only logged: a notice about a failed
    # delivery, or an intake's own reply (the person's answers are safe; staff can do nothing).
    notice: bool = False
    # Replace the text of this earlier message (its buttons removed) instead of sending anew.
    edit_message_id: int | None = None
    # An intake's reply, in place of ``msg``.
    reply: OwedReply | None = None
    # The language to render it in: the person's choice, looked up when it is delivered.
    language: str | None = None
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

    @classmethod
    def of_reply(cls, reply: OwedReply) -> OwedMessage:
        """Return a message owing one message of an intake's reply."""
        return cls(reply=reply, notice=True)

    @property
    def text(self) -> Msg:
        """Return the catalogue text to render."""
        return msg_from_data(self.msg)

    def in_language(self, language: str | None) -> OwedMessage:
        """Return the message to be rendered in ``language`` (None: the office's own)."""
        return self if language is None else self.model_copy(update={"language": language})

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
        if not owed.joinable:
            break
        text = owed.text.params.get("text", "")
        if not isinstance(text, str):
            break
        size += len(text)
        if count and size > JOINED_LIMIT:
            break
        count += 1
    return count
