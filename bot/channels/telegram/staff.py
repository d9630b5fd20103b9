"""Staff commands and buttons: check who is asking, call the staff service, show the result."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from telegram import InlineKeyboardMarkup, InputFile, LinkPreviewOptions, Message, Update
from telegram.error import BadRequest

from bot.channels.telegram import constituent
from bot.channels.telegram.context import Context, Runtime
from bot.channels.telegram.staff_render import OPEN_WORDS, STAFF_PREFIX, when
from bot.core.case import QueueFilter
from bot.core.catalogue import Msg
from bot.core.references import parse_reference
from bot.core.roles import CATEGORY
from bot.core.templates import TemplateError
from bot.core.workdays import london_date, read_follow_up
from bot.service.staff import Actor, CaseView, Caseworker, Done, NotStaffError, StaffService

log = logging.getLogger(__name__)


def actor_of(update: Update) -> Actor:
    """Return who sent an update, from which chat, in which update."""
    user, chat = update.effective_user, update.effective_chat
    return Actor(user.id if user else None, chat.id if chat else None, update.update_id)


def _words(message: Message, parts: int) -> list[str]:
    """Split a command's text after the command into at most ``parts`` pieces (text kept whole)."""
    text = message.text or ""
    _, _, rest = text.partition(" ")
    return rest.strip().split(maxsplit=parts - 1) if rest.strip() else []


async def say(
    message: Message, found: Runtime, text: str, markup: InlineKeyboardMarkup | None = None
) -> Message:
    """Answer a message, counting the answer against the group's rate limit."""
    sent = await message.reply_text(text, reply_markup=markup)
    found.outbox.spent(message.chat.id)
    return sent


async def _reply(message: Message, found: Runtime, texts: list[str]) -> None:
    for text in texts:
        await say(message, found, text)


async def answer(message: Message, found: Runtime, done: Done) -> None:
    """Tell the caseworker what an action did (nothing, for an update already processed)."""
    if not done.duplicate:
        await _reply(message, found, [found.staff_renderer.text(done.msg)])


async def _refuse(message: Message, found: Runtime) -> None:
    await say(message, found, found.staff_renderer.text(Msg("staff.refused")))


Act = Callable[[StaffService, Caseworker, str, list[str]], Awaitable[Done]]


@dataclass(frozen=True, slots=True)
class CaseCommand:
    """A staff command on one case: how many words it takes, and the action it runs."""

    parts: int
    act: Act


async def _follow_up(staff: StaffService, who: Caseworker, ref: str, rest: list[str]) -> Done:
    """Read ``/followup REF 12 March 2027 [note]`` (or ``none``) and set the follow-up date."""
    wanted = read_follow_up(rest[0], london_date(staff.clock()))
    if wanted is None:
        return Done(Msg("staff.usage.followup"))
    return await staff.follow_up(who, ref, wanted.day, wanted.note)


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
    "followup": CaseCommand(2, _follow_up),
}


async def _run(update: Update, context: Context, command: str) -> None:
    """Run one staff command, checking once, here, that the sender is staff in a staff chat."""
    message = update.effective_message
    if message is None:
        return
    found = context.bot_data.runtime
    try:
        who = await found.staff.authorise(actor_of(update), command)
    except NotStaffError:
        await _refuse(message, found)
        return
    await _dispatch(message, found, who, command, await case_here(message, found, who))


async def case_here(message: Message, found: Runtime, who: Caseworker) -> str | None:
    """Return the reference of the case whose forum topic a message was written in, if any."""
    thread = message.message_thread_id
    staff_chat = found.services.office.staff.staff_chat_id
    if not message.is_topic_message or thread is None or message.chat.id != staff_chat:
        return None
    return await found.staff.case_in_topic(who, thread)


def _case_words(message: Message, parts: int, here: str | None, prefix: str) -> list[str]:
    """Split a case command's words; in a case's topic the reference may be left out."""
    words = _words(message, parts)
    if here is not None and (not words or parse_reference(words[0], prefix) is None):
        return [here, *_words(message, parts - 1)] if parts > 1 else [here]
    return words


async def _dispatch(
    message: Message, found: Runtime, who: Caseworker, command: str, here: str | None = None
) -> None:
    staff, render = found.staff, found.staff_renderer
    if command == "queue":
        words = _words(message, 1)
        chosen = _queue_filter(words, found)
        if chosen is None:
            await _reply(message, found, [render.unknown_category(words[0])])
            return
        page = await staff.queue(who, *chosen)
        text, markup = render.queue(page, summaries=message.chat.type == "private")
        await say(message, found, text, markup)
        return
    if command == "search":
        query = " ".join(_words(message, 1))
        searched = await staff.search(who, query)
        if isinstance(searched, Done):
            await _reply(message, found, [render.text(searched.msg)])
            return
        text, found_markup = render.found(searched)
        await say(message, found, text, found_markup)
        return
    if command == "export":
        words = [w.casefold() for w in _words(message, 3)]
        since = _since(words)
        if not words or (len(words) > 1 and since is None):
            await _reply(message, found, [render.text(Msg("staff.usage.export"))])
            return
        done = await staff.export(who, words[0], since, render.category)
        await _reply(message, found, [render.text(done.msg)])
        if "data" in done.extra:
            document = InputFile(done.extra["data"], filename=done.extra["filename"])
            await message.reply_document(document)
            found.outbox.spent(message.chat.id)
        return
    if command == "templates":
        await _reply(message, found, [render.text(await _template_list(found))])
        return
    spec = CASE_COMMANDS.get(command)
    words = _case_words(message, spec.parts if spec else 1, here, found.reference_prefix)
    if len(words) < (2 if spec and spec.parts > 1 else 1):
        await _reply(message, found, [render.text(Msg(f"staff.usage.{command}"))])
        return
    reference, rest = words[0], words[1:]
    if command == "case":
        await show_case(message, found, who, reference)
    elif command == "erase":
        # Erasing cannot be undone, so the command asks first.
        question, choices = render.erase_question(reference)
        await say(message, found, question, choices)
    elif command == "audit":
        result = await staff.audit(who, reference)
        texts = (
            [render.text(result.msg)]
            if isinstance(result, Done)
            else render.audit(
                parse_reference(reference, found.reference_prefix) or reference, result
            )
        )
        await _reply(message, found, texts)
    elif command == "reply" and rest and rest[0].startswith("#"):
        await answer(message, found, await _reply_with_template(found, who, reference, rest[0]))
    elif spec is not None:
        await answer(message, found, await spec.act(staff, who, reference, rest))


async def _template_list(found: Runtime) -> Msg:
    names = [f"#{t.name}" for t in await found.services.templates.list_templates()]
    return Msg("template.list", {"names": ", ".join(names)}) if names else Msg("template.none")


async def _reply_with_template(found: Runtime, who: Caseworker, reference: str, text: str) -> Done:
    """Send ``/reply REF #name``: the template filled for the case, as the caseworker's reply."""
    name = text.split()[0]
    try:
        filled = await found.services.templates.fill(who, reference, name)
    except TemplateError as exc:
        return Done(exc.msg)
    return await found.staff.reply(who, reference, filled.text)


async def show_case(message: Message, found: Runtime, who: Caseworker, reference: str) -> None:
    """Send the whole case, then re-send its letters and documents by file id."""
    result = await found.staff.view(who, reference)
    if isinstance(result, Done):
        await _reply(message, found, [found.staff_renderer.text(result.msg)])
        return
    await _send_view(message, found, result)


async def _send_view(message: Message, found: Runtime, view: CaseView) -> None:
    """Send the case view, remembering each message so erasing the case can delete it."""
    sent = [await say(message, found, text) for text in found.staff_renderer.case(view)]
    for attachment in view.stored.case.attachments:
        if attachment.kind == "photo":
            sent.append(await message.reply_photo(attachment.file_id))
        else:
            sent.append(await message.reply_document(attachment.file_id))
        found.outbox.spent(message.chat.id)
    thread = sent[0].message_thread_id if sent and sent[0].is_topic_message else None
    ids = [m.message_id for m in sent]
    await found.staff.posted(view.stored.id, message.chat.id, ids, thread)


def _queue_filter(words: list[str], found: Runtime) -> tuple[QueueFilter, str | None] | None:
    """Return the queue filter words name (a category by its name, label or alias), or None."""
    word = words[0].casefold() if words else "all"
    if word in {f.value for f in QueueFilter} - {QueueFilter.CATEGORY.value}:
        return QueueFilter(word), None
    category = found.staff_renderer.categories.find(" ".join(words))
    return None if category is None else (QueueFilter.CATEGORY, category.value)


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


async def on_help(update: Update, context: Context) -> None:
    """Explain the casework commands to staff (in the staff group or their own chat)."""
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    found = context.bot_data.runtime
    if message is None or user is None or chat is None:
        return
    if not found.staff.staff.may_act(user.id, chat.id):
        await constituent.on_help(update, context)
        return
    await say(message, found, found.staff_renderer.text(Msg("staff.help")))


async def on_staff_command(update: Update, context: Context) -> None:
    """Handle /queue, /search, /case, /claim, /assign, /note, /close, /reply, /export, /audit."""
    message = update.effective_message
    if message is None or not message.text:
        return
    command = message.text.split()[0].lstrip("/").split("@")[0].casefold()
    await _run(update, context, command)


async def on_status(update: Update, context: Context) -> None:
    """For staff, change a case's status; for a constituent, list their own; refuse the rest."""
    message = update.effective_message
    found = context.bot_data.runtime
    actor = actor_of(update)
    if message is None:
        return
    chat = update.effective_chat
    asker = actor.user_id is not None and found.staff.staff.get(actor.user_id) is None
    if asker and chat is not None and chat.type == "private" and not _words(message, 1):
        assert actor.user_id is not None
        await _reply(message, found, [await _my_cases(found, actor.user_id)])
        return
    await _run(update, context, "status")


async def _my_cases(found: Runtime, user_id: int) -> str:
    # A constituent's own list: in the language they chose, not the office's.
    render = found.renderer.in_language(await found.intake.language_of(user_id))
    categories = found.staff_renderer.flow.step(CATEGORY)
    cases = await found.intake.cases_of(user_id)
    if not cases:
        return render.text(Msg("mystatus.none"))
    lines = [render.text(Msg("mystatus.title"))]
    for case in cases:
        option = categories.option(case.category)
        params: dict[str, str | Msg] = {
            "reference": case.reference,
            "category": Msg(option.label) if option else case.category,
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
    actor = actor_of(update)
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
        await answer(message, found, await found.staff.claim(who, reference))
    elif action == "st":
        question, choices = found.staff_renderer.status_question(reference)
        await say(message, found, question, choices)
    elif action == "set" and len(parts) == 4 and parts[3] in OPEN_WORDS:
        done = await found.staff.set_status(who, reference, parts[3])
        await _drop_question(message)
        await answer(message, found, done)
    elif action == "close":
        # Closing tells the constituent, so the card's button asks first.
        question, choices = found.staff_renderer.close_question(reference)
        await say(message, found, question, choices)
    elif action in ("closed", "unable"):
        done = await found.staff.close(who, reference, "unable" if action == "unable" else "")
        await _drop_question(message)
        await answer(message, found, done)
    elif action == "erase":
        done = await found.staff.erase(who, reference)
        await _drop_question(message)
        if message.is_topic_message:
            # The case's topic is being deleted: say so in the group's General topic.
            text = found.staff_renderer.text(done.msg)
            await message.get_bot().send_message(message.chat.id, text)
            found.outbox.spent(message.chat.id)
        else:
            await answer(message, found, done)
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
            found.outbox.spent(message.chat.id)
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
    actor = actor_of(update)
    render = found.staff_renderer
    is_staff = found.staff.staff.get(actor.user_id) is not None
    if is_staff and actor.chat_id != actor.user_id:
        await message.reply_text(render.text(Msg("staff.desk_private")))
        return
    if is_staff and context.bot_data.desk_app is None:
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
