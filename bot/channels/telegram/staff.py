"""Staff commands and buttons: check who is asking, call the staff service, show the result."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from telegram import InputFile, Message, Update
from telegram.error import BadRequest

from bot.channels.telegram.context import Context, Runtime
from bot.channels.telegram.staff_render import STAFF_PREFIX, when
from bot.core.case import QueueFilter
from bot.core.catalogue import Msg
from bot.core.references import parse_reference
from bot.service.staff import Actor, CaseView, Done, NotStaffError

log = logging.getLogger(__name__)


def _actor(update: Update) -> Actor:
    user, chat = update.effective_user, update.effective_chat
    return Actor(user.id if user else None, chat.id if chat else None)


def _words(message: Message, parts: int) -> list[str]:
    """Split a command's text after the command into at most ``parts`` pieces (text kept whole)."""
    text = message.text or ""
    _, _, rest = text.partition(" ")
    return rest.strip().split(maxsplit=parts - 1) if rest.strip() else []


async def _reply(message: Message, texts: list[str]) -> None:
    for text in texts:
        await message.reply_text(text)


async def _refuse(message: Message, found: Runtime) -> None:
    await message.reply_text(found.staff_renderer.text(Msg("staff.refused")))


async def _run(update: Update, context: Context, command: str) -> None:
    """Run one staff command; anyone who is not staff in a staff chat is refused."""
    message = update.effective_message
    if message is None:
        return
    found = context.bot_data.runtime
    try:
        await _dispatch(message, found, _actor(update), command)
    except NotStaffError:
        await _refuse(message, found)


async def _dispatch(message: Message, found: Runtime, actor: Actor, command: str) -> None:
    staff, render = found.staff, found.staff_renderer
    if command == "queue":
        await staff.check(actor, "queue")
        which, category = _queue_filter(_words(message, 1), found)
        page = await staff.queue(actor, which, category)
        text, markup = render.queue(page)
        await message.reply_text(text, reply_markup=markup)
        return
    if command == "export":
        await staff.check(actor, "export")
        words = [w.casefold() for w in _words(message, 3)]
        since = _since(words)
        if not words or (len(words) > 1 and since is None):
            await _reply(message, [render.text(Msg("staff.usage.export"))])
            return
        done = await staff.export(actor, words[0], since, render.category)
        await _reply(message, [render.text(done.msg)])
        if "data" in done.extra:
            document = InputFile(done.extra["data"], filename=done.extra["filename"])
            await message.reply_document(document)
        return
    await staff.check(actor, command)
    limits = {
        "case": 1,
        "claim": 1,
        "audit": 1,
        "block": 1,
        "unblock": 1,
        "assign": 2,
        "status": 3,
        "note": 2,
        "close": 2,
        "reply": 2,
    }
    words = _words(message, limits[command])
    needed = 1 if command in ("case", "claim", "audit", "block", "unblock") else 2
    if len(words) < needed:
        await _reply(message, [render.text(Msg(f"staff.usage.{command}"))])
        return
    reference, rest = words[0], words[1:]
    if command == "case":
        await show_case(message, found, actor, reference)
    elif command == "audit":
        result = await staff.audit(actor, reference)
        texts = (
            [render.text(result.msg)]
            if isinstance(result, Done)
            else render.audit(
                parse_reference(reference, found.reference_prefix) or reference, result
            )
        )
        await _reply(message, texts)
    else:
        done = await _act(found, actor, command, reference, rest)
        await _reply(message, [render.text(done.msg)])


async def _act(found: Runtime, actor: Actor, command: str, reference: str, rest: list[str]) -> Done:
    staff = found.staff
    if command == "claim":
        return await staff.claim(actor, reference)
    if command == "assign":
        return await staff.assign(actor, reference, rest[0])
    if command == "note":
        return await staff.note(actor, reference, rest[0])
    if command == "status":
        return await staff.set_status(actor, reference, rest[0], " ".join(rest[1:]))
    if command == "close":
        return await staff.close(actor, reference, rest[0])
    if command in ("block", "unblock"):
        return await staff.block(actor, reference, blocked=command == "block")
    return await staff.reply(actor, reference, rest[0])


async def show_case(message: Message, found: Runtime, actor: Actor, reference: str) -> None:
    """Send the whole case, then re-send its letters and documents by file id."""
    result = await found.staff.view(actor, reference)
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
    if found.staff.staff.may_act(actor.user_id, actor.chat_id):
        await _run(update, context, "status")
        return
    chat = update.effective_chat
    if chat is None or chat.type != "private" or actor.user_id is None or _words(message, 1):
        await _run(update, context, "status")
        return
    await _reply(message, [await _my_cases(found, actor.user_id)])


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
        await found.staff.check(actor, "button")
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
        done = await found.staff.claim(actor, reference)
        await _reply(message, [found.staff_renderer.text(done.msg)])
    elif action == "close":
        # Closing tells the constituent, so the card's button asks first.
        question, choices = found.staff_renderer.close_question(reference)
        await message.reply_text(question, reply_markup=choices)
    elif action in ("closed", "unable"):
        done = await found.staff.close(actor, reference, "unable" if action == "unable" else "")
        await _drop_question(message)
        await _reply(message, [found.staff_renderer.text(done.msg)])
    elif action == "keep":
        await _drop_question(message)
    elif action == "show":
        await show_case(message, found, actor, reference)
    elif action == "q" and len(parts) == 5 and parts[4].isdigit():
        which = (
            QueueFilter(parts[2]) if parts[2] in {f.value for f in QueueFilter} else QueueFilter.ALL
        )
        category = None if parts[3] == "-" else parts[3]
        page = await found.staff.queue(actor, which, category, int(parts[4]))
        text, markup = found.staff_renderer.queue(page)
        try:
            await message.edit_text(text, reply_markup=markup)
        except BadRequest as exc:
            # A double tap that raced: the page already shows what was asked for.
            if "not modified" not in exc.message.lower():
                raise
