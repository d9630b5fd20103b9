"""Read Telegram updates into the channel-free replies the intake understands."""

from __future__ import annotations

from telegram import Message, Update, User

from bot.core.draft import Attachment
from bot.core.replies import ContactReply, FileReply, OtherReply, Reply, TextReply
from bot.service.types import Sender

CALLBACK_PREFIX = "i1"

_OTHER_KINDS = (
    "sticker",
    "voice",
    "video_note",
    "video",
    "audio",
    "animation",
    "location",
    "venue",
    "poll",
    "dice",
    "game",
    "story",
)


def sender_of(update: Update) -> Sender:
    """Return who sent ``update`` and where to answer."""
    user = update.effective_user
    chat = update.effective_chat
    # Handlers are only registered for updates with both.
    assert user is not None
    assert chat is not None
    return Sender(
        user_id=user.id, chat_id=chat.id, profile=_profile(user), update_id=update.update_id
    )


def _profile(user: User) -> dict[str, str]:
    # The Bot API allows an empty first name (PTB then reads the full name as None).
    parts = (user.first_name or "", user.last_name or "")
    name = " ".join(part.strip() for part in parts if part and part.strip())
    return {"telegram_name": name} if name else {}


def reply_of(message: Message) -> Reply:
    """Return the reply a message stands for; anything unusable becomes an OtherReply."""
    if message.contact is not None:
        number = message.contact.phone_number.strip()
        # Telegram sends shared numbers in international form, usually without the "+".
        return ContactReply(number if number.startswith("+") else f"+{number}")
    if message.photo:
        photo = message.photo[-1]
        return FileReply(
            Attachment(
                kind="photo",
                file_id=photo.file_id,
                file_unique_id=photo.file_unique_id,
                caption=message.caption,
            )
        )
    if message.document is not None:
        document = message.document
        return FileReply(
            Attachment(
                kind="document",
                file_id=document.file_id,
                file_unique_id=document.file_unique_id,
                file_name=document.file_name,
                mime_type=document.mime_type,
                caption=message.caption,
            )
        )
    if message.text is not None:
        return TextReply(message.text)
    kind = next((k for k in _OTHER_KINDS if getattr(message, k, None)), "message")
    return OtherReply(kind)


def callback_data(revision: int, action: str) -> str:
    """Return a button's callback data: version, draft revision and action (at most 64 bytes)."""
    data = f"{CALLBACK_PREFIX}:{revision}:{action}"
    if len(data.encode()) > 64:
        raise ValueError(f"callback data too long: {data!r}")
    return data


def parse_callback(data: str | None) -> tuple[int, str] | None:
    """Return (revision, action) from callback data, or None if it is not ours or malformed."""
    if not data:
        return None
    prefix, _, rest = data.partition(":")
    revision, _, action = rest.partition(":")
    if prefix != CALLBACK_PREFIX or not revision.isdigit() or not action or len(revision) > 9:
        return None
    return int(revision), action
