"""An intake's response as the messages to send, each owed to the person in the outbox."""

from __future__ import annotations

from bot.core.catalogue import Msg
from bot.core.outbox import OwedReply
from bot.core.prompts import Prompt
from bot.service.types import Response

# A typed answer longer than this is shown in full in messages of its own before
# check-your-answers, which shows only its start.
LONG_ANSWER = 400
# Each of those messages holds at most this much of it (Telegram's limit is 4,096).
PIECE = 3500


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
        parts += in_full(response.prompt)
        revision = response.revision or 0
        parts.append(OwedReply.of(lead, echo=echo, prompt=response.prompt, revision=revision))
    elif lead or echo:
        parts.append(OwedReply.of(lead, echo=echo))
    return parts


def in_full(prompt: Prompt) -> list[OwedReply]:
    """Return the long answers of check-your-answers, whole, each in messages of its own."""
    parts = []
    for row in prompt.summary:
        if isinstance(row.value, str) and len(row.value) > LONG_ANSWER:
            for piece in pieces(row.value, PIECE):
                parts.append(
                    OwedReply.of([Msg("review.in_full", {"label": row.label, "text": piece})])
                )
    return parts


def pieces(text: str, size: int) -> list[str]:
    """Split text into pieces of at most ``size`` characters, at paragraph or word ends."""
    found = []
    while len(text) > size:
        cut = max(text.rfind("\n", 0, size), text.rfind(" ", 0, size))
        cut = cut if cut > size // 2 else size
        found.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return [*found, text] if text else found
