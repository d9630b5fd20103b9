"""What a constituent can send to the intake, whatever the channel."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.draft import Attachment


@dataclass(frozen=True, slots=True)
class TextReply:
    """Typed text."""

    text: str


@dataclass(frozen=True, slots=True)
class ChoiceReply:
    """A press of the option button with this value."""

    value: str


@dataclass(frozen=True, slots=True)
class ContactReply:
    """A shared phone number (Telegram's share-contact button)."""

    phone: str


@dataclass(frozen=True, slots=True)
class FileReply:
    """A photo or document."""

    attachment: Attachment


@dataclass(frozen=True, slots=True)
class OtherReply:
    """Something the intake cannot use, such as a sticker or a voice note."""

    what: str


@dataclass(frozen=True, slots=True)
class Skip:
    """Leave an optional question unanswered."""


@dataclass(frozen=True, slots=True)
class UseSuggestion:
    """Take the one-tap suggested answer (such as the Telegram name)."""


@dataclass(frozen=True, slots=True)
class AttachmentsDone:
    """Finish adding attachments."""


@dataclass(frozen=True, slots=True)
class Back:
    """Go back to the previous question."""


@dataclass(frozen=True, slots=True)
class Change:
    """From check-your-answers, change the answer to one step."""

    step: str


@dataclass(frozen=True, slots=True)
class Send:
    """Send the finished intake to the office."""


@dataclass(frozen=True, slots=True)
class Cancel:
    """Ask to stop and delete the intake."""


@dataclass(frozen=True, slots=True)
class ConfirmCancel:
    """Answer the are-you-sure question after Cancel."""

    confirmed: bool


@dataclass(frozen=True, slots=True)
class ConfirmPostcode:
    """Answer whether a postcode out of the area (or not in the data) is the right one."""

    confirmed: bool


@dataclass(frozen=True, slots=True)
class TakeSuggestion:
    """Take (or turn down) the correction offered for what was typed."""

    accepted: bool


@dataclass(frozen=True, slots=True)
class FinishText:
    """Say that the long answer sent so far at ``step`` is all of it ("That is everything")."""

    step: str


@dataclass(frozen=True, slots=True)
class ShowChanges:
    """At check-your-answers, show the list of answers to change (or go back to the summary)."""

    show: bool


Reply = (
    TextReply
    | ChoiceReply
    | ContactReply
    | FileReply
    | OtherReply
    | Skip
    | UseSuggestion
    | AttachmentsDone
    | Back
    | Change
    | Send
    | Cancel
    | ConfirmCancel
    | ConfirmPostcode
    | TakeSuggestion
    | FinishText
    | ShowChanges
)

_SIMPLE: dict[str, Reply] = {
    "skip": Skip(),
    "suggest": UseSuggestion(),
    "done": AttachmentsDone(),
    "back": Back(),
    "send": Send(),
    "cancel": Cancel(),
    "cx.yes": ConfirmCancel(confirmed=True),
    "cx.no": ConfirmCancel(confirmed=False),
    "pc.yes": ConfirmPostcode(confirmed=True),
    "pc.no": ConfirmPostcode(confirmed=False),
    "sg.yes": TakeSuggestion(accepted=True),
    "sg.no": TakeSuggestion(accepted=False),
    "chg": ShowChanges(show=True),
    "rv": ShowChanges(show=False),
}


def action_for(reply: Reply) -> str:
    """Return the short action string a button carries for ``reply``."""
    if isinstance(reply, ChoiceReply):
        return f"o.{reply.value}"
    if isinstance(reply, Change):
        return f"c.{reply.step}"
    if isinstance(reply, FinishText):
        return f"fin.{reply.step}"
    for action, simple in _SIMPLE.items():
        if simple == reply:
            return action
    raise ValueError(f"no button action for {reply!r}")


def reply_for_action(action: str) -> Reply | None:
    """Return the reply a button's action string stands for, or None if it is not one."""
    if action in _SIMPLE:
        return _SIMPLE[action]
    kind, _, rest = action.partition(".")
    if rest and kind == "o":
        return ChoiceReply(rest)
    if rest and kind == "c":
        return Change(rest)
    if rest and kind == "fin":
        return FinishText(rest)
    return None
