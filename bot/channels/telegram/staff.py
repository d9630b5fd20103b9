"""Staff commands and buttons: check who is asking, call the staff service, show the result."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from telegram import InputFile, LinkPreviewOptions, Message, Update
from telegram.error import BadRequest

from bot.channels.telegram.context import Context, Runtime
from bot.channels.telegram.staff_render import STAFF_PREFIX, when
from bot.core.case import QueueFilter
from bot.core.catalogue import Msg
from bot.core.references import parse_reference
from bot.service.staff import Actor, CaseView, Caseworker, Done, NotStaffError, StaffService

log = logging.getLogger(__name__)


def _actor(update: Update) -> Actor:
    user, chat = update.effective_user, update.effective_chat
    return Actor(user.id if user else None, chat.id if chat else None, update.update_id)


def _words(message: Message, parts: int) -> list[str]:
    """Split a command's text after the command into at most ``parts`` pieces (text kept whole)."""
    text = message.text or ""
    _, _, rest = text.partition(" ")
    return rest.strip().split(maxsplit=parts - 1) if rest.strip() else []


async def _reply(message: Message, texts: list[str]) -> None:
    for text in texts:
        await message.reply_text(text)


async def _answer(message: Message, found: Runtime, done: Done) -> None:
    """Tell the caseworker what an action did (nothing, for an update already processed)."""
    if not done.duplicate:
        await _reply(message, [found.staff_renderer.text(done.msg)])


async def _refuse(message: Message, found: Runtime) -> None:
    await message.reply_text(found.staff_renderer.text(Msg("staff.refused")))


Act = Callable[[StaffService, Caseworker, str, list[str]], Awaitable[Done]]


@dataclass(frozen=True, slots=True)
class CaseCommand:
    """A staff command on one case: how many words it takes, and the action it runs."""

    parts: int
    act: Act


CASE_COMMANDS: dict[str, CaseCommand] = {
    "claim": CaseCommand(1, lambda s, who, ref, rest: s.claim(who, ref)),
    "assign": CaseCommand(2, lambda s, who, ref, rest: s.assign(who, ref, rest[0])),
    "note": CaseCommand(2, lambda s, who, ref, rest: s.note(who, ref, rest[0])),
    "status": CaseCommand(
        3, lambda s, who, ref, rest: s.set_status(who, ref, rest[0], " ".join(rest[1:]))
    ),
    "close": CaseCommand(2, lambda s, who, ref, rest: s.close(who, ref, rest[0])),
    "reply": CaseCommand(2, lambda s, who, ref, rest: s.reply(who, ref, rest[0])),
    "block": CaseCommand(1, lambda s, who, ref, rest: s.block(who, ref, blocked=True)),
    "unblock": CaseCommand(1, lambda s, who, ref, rest: s.block(who, ref, blocked=False)),
}


async def _run(update: Update, context: Context, command: str) -> None:
    """Run one staff command, checking once, here, that the sender is staff in a staff chat."""
    message = update.effective_message
    if message is None:
        return
    found = context.bot_data.runtime
    try:
        who = await found.staff.authorise(_actor(update), command)
    except NotStaffError:
        await _refuse(message, found)
        return
    await _dispatch(message, found, who, command)


async def _dispatch(message: Message, found: Runtime, who: Caseworker, command: str) -> None:
    staff, render = found.staff, found.staff_renderer
    if command == "queue":
        which, category = _queue_filter(_words(message, 1), found)
        page = await staff.queue(who, which, category)
        text, markup = render.queue(page)
        await message.reply_text(text, reply_markup=markup)
        return
    if command == "export":
        words = [w.casefold() for w in _words(message, 3)]
        since = _since(words)
        if not words or (len(words) > 1 and since is None):
            await _reply(message, [render.text(Msg("staff.usage.export"))])
            return
        done = await staff.export(who, words[0], since, render.category)
        await _reply(message, [render.text(done.msg)])
        if "data" in done.extra:
            document = InputFile(done.extra["data"], filename=done.extra["filename"])
            await message.reply_document(document)
        return
    spec = CASE_COMMANDS.get(command)
    words = _words(message, spec.parts if spec else 1)
    if len(words) < (2 if spec and spec.parts > 1 else 1):
        await _reply(message, [render.text(Msg(f"staff.usage.{command}"))])
        return
    reference, rest = words[0], words[1:]
    if command == "case":
        await show_case(message, found, who, reference)
    elif command == "erase":
        # Erasing cannot be undone, so the command asks first.
        question, choices = render.erase_question(reference)
        await message.reply_text(question, reply_markup=choices)
    elif command == "audit":
        result = await staff.audit(who, reference)
        texts = (
            [render.text(result.msg)]
            if isinstance(result, Done)
            else render.audit(
                parse_reference(reference, found.reference_prefix) or reference, result
            )
        )
        await _reply(message, texts)
    elif spec is not None:
        await _answer(message, found, await spec.act(staff, who, reference, rest))


async def show_case(message: Message, found: Runtime, who: Caseworker, reference: str) -> None:
    """Send the whole case, then re-send its letters and documents by file id."""
    result = await found.staff.view(who, reference)
    if isinstance(result, Done):
        await _reply(message, [found.staff_renderer.text(result.msg)])
        return
    await _send_view(message, found, result)


async def _send_view(message: Message, found: Runtime, view: CaseView) -> None:
    await _reply(message, found.staff_renderer.case(view))
    for attachment in view.stored.case.attachments:
        if attachment.kind == "photo":
            await message.reply_photo(attachment.file_id)
        else:
            await message.reply_document(attachment.file_id)


def _queue_filter(words: list[str], found: Runtime) -> tuple[QueueFilter, str | None]:
    word = words[0].casefold() if words else "all"
    if word in {f.value for f in QueueFilter} - {QueueFilter.CATEGORY.value}:
        return QueueFilter(word), None
    return QueueFilter.CATEGORY, word


def _since(words: list[str]) -> datetime | None:
    if len(words) == 3 and words[1] == "since":
        try:
            return datetime.fromisoformat(words[2]).replace(tzinfo=UTC)
        except ValueError:
            return None
    return None


async def _drop_question(message: Message) -> None:
    try:
        await message.edit_reply_markup(reply_markup=None)
    except BadRequest:  # already answered by a double tap
        log.debug("close question already answered")


async def on_staff_command(update: Update, context: Context) -> None:
    """Handle /queue, /case, /claim, /assign, /note, /close, /reply, /export and /audit."""
    message = update.effective_message
    if message is None or not message.text:
        return
    command = message.text.split()[0].lstrip("/").split("@")[0].casefold()
    await _run(update, context, command)


async def on_status(update: Update, context: Context) -> None:
    """For staff, change a case's status; for a constituent, list their own; refuse the rest."""
    message = update.effective_message
    found = context.bot_data.runtime
    actor = _actor(update)
    if message is None:
        return
    chat = update.effective_chat
    constituent = actor.user_id is not None and found.staff.staff.get(actor.user_id) is None
    if constituent and chat is not None and chat.type == "private" and not _words(message, 1):
        assert actor.user_id is not None
        await _reply(message, [await _my_cases(found, actor.user_id)])
        return
    await _run(update, context, "status")


async def _my_cases(found: Runtime, user_id: int) -> str:
    render = found.staff_renderer
    cases = await found.intake.cases_of(user_id)
    if not cases:
        return render.text(Msg("mystatus.none"))
    lines = [render.text(Msg("mystatus.title"))]
    for case in cases:
        params: dict[str, str | Msg] = {
            "reference": case.reference,
            "category": render.category(case.category),
            "status": Msg(f"status.{case.status.value}"),
            "updated": when(case.updated_at),
        }
        lines.append(render.text(Msg("mystatus.row", params)))
    return "\n".join(lines)


async def on_staff_button(update: Update, context: Context) -> None:
    """Handle Claim / Show case / Close on cards and queue pages, checking who pressed."""
    query = update.callback_query
    assert query is not None
    found = context.bot_data.runtime
    actor = _actor(update)
    parts = (query.data or "").split(":")
    try:
        who = await found.staff.authorise(actor, "button")
    except NotStaffError:
        await query.answer(found.staff_renderer.label("staff.refused"), show_alert=True)
        return
    if len(parts) < 3 or parts[0] != STAFF_PREFIX:
        await query.answer()
        return
    action, reference = parts[1], parts[2]
    message = query.message if isinstance(query.message, Message) else None
    await query.answer()
    if message is None:
        return
    if action == "claim":
        await _answer(message, found, await found.staff.claim(who, reference))
    elif action == "close":
        # Closing tells the constituent, so the card's button asks first.
        question, choices = found.staff_renderer.close_question(reference)
        await message.reply_text(question, reply_markup=choices)
    elif action in ("closed", "unable"):
        done = await found.staff.close(who, reference, "unable" if action == "unable" else "")
        await _drop_question(message)
        await _answer(message, found, done)
    elif action == "erase":
        done = await found.staff.erase(who, reference)
        await _drop_question(message)
        await _answer(message, found, done)
    elif action == "keep":
        await _drop_question(message)
    elif action == "show":
        await show_case(message, found, who, reference)
    elif action == "q" and len(parts) == 5 and parts[4].isdigit():
        which = (
            QueueFilter(parts[2]) if parts[2] in {f.value for f in QueueFilter} else QueueFilter.ALL
        )
        category = None if parts[3] == "-" else parts[3]
        page = await found.staff.queue(who, which, category, int(parts[4]))
        text, markup = found.staff_renderer.queue(page)
        try:
            await message.edit_text(text, reply_markup=markup)
        except BadRequest as exc:
            # A double tap that raced: the page already shows what was asked for.
            if "not modified" not in exc.message.lower():
                raise


async def on_desk(update: Update, context: Context) -> None:
    """Send a caseworker, in their private chat, a one-time link that signs in to the desk."""
    message = update.effective_message
    if message is None:
        return
    found = context.bot_data.runtime
    actor = _actor(update)
    render = found.staff_renderer
    is_staff = found.staff.staff.get(actor.user_id) is not None
    if is_staff and actor.chat_id != actor.user_id:
        await message.reply_text(render.text(Msg("staff.desk_private")))
        return
    if is_staff and context.bot_data.desk is None:
        await message.reply_text(render.text(Msg("staff.desk_off")))
        return
    try:
        link = await found.services.desk.login_link(actor)
    except NotStaffError:
        await _refuse(message, found)
        return
    # No preview: a preview fetch would be a request for the link, by Telegram.
    await message.reply_text(
        render.text(Msg("staff.desk_link", {"link": link})),
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )
