"""An intake's response as the messages to send, each owed to the person in the outbox."""

from __future__ import annotations

from bot.core.catalogue import Msg
from bot.core.outbox import OwedReply
from bot.service.types import Response


def messages_of(response: Response) -> list[OwedReply]:
    """Return the messages that show ``response``, in order (none for a stale one)."""
    if response.stale:
        return []
    lead = list(response.lead)
    echo = response.echo
    parts: list[OwedReply] = []
    if response.remove_keyboard:
        # A keyboard of buttons that type (share-phone) goes only with a message of its own.
        closing = lead or [response.closing or Msg("notice.keyboard_closed")]
        parts.append(OwedReply.of(closing, echo=echo, remove_keyboard=True))
        lead, echo = [], None
    if response.prompt is not None:
        revision = response.revision or 0
        parts.append(OwedReply.of(lead, echo=echo, prompt=response.prompt, revision=revision))
    elif lead or echo:
        parts.append(OwedReply.of(lead, echo=echo))
    return parts
