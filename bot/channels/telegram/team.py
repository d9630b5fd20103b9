"""The /staff command: the office's staff list, and an office manager adding or removing someone."""

from __future__ import annotations

from telegram import Message, Update

from bot.channels.telegram.context import Context, Runtime
from bot.core.catalogue import Msg
from bot.core.digest import join_lines
from bot.core.staff import StaffMember, StaffRole
from bot.service.staff import Actor, Caseworker, NotStaffError
from bot.service.team import TeamError


async def on_staff(update: Update, context: Context) -> None:
    """Handle /staff, /staff add ID NAME [manager] [noexport] [categories], /staff remove WHO."""
    message = update.effective_message
    user, chat = update.effective_user, update.effective_chat
    if message is None:
        return
    found = context.bot_data.runtime
    actor = Actor(user.id if user else None, chat.id if chat else None, update.update_id)
    try:
        who = await found.staff.authorise(actor, "staff")
    except NotStaffError:
        await message.reply_text(found.staff_renderer.text(Msg("staff.refused")))
        return
    await message.reply_text(found.staff_renderer.text(await _act(found, who, message)))


async def _act(found: Runtime, who: Caseworker, message: Message) -> Msg:
    words = (message.text or "").split()[1:]
    if not words:
        return _listing(found.services.team.list_staff())
    verb, rest = words[0].casefold(), words[1:]
    try:
        if verb == "add" and len(rest) >= 2 and rest[0].isdigit():
            role, may_export, specialisms = _options(rest[2:])
            member = await found.services.team.save_member(
                who,
                int(rest[0]),
                rest[1],
                role=role,
                may_export=may_export,
                specialisms=specialisms,
            )
            return Msg("team.added", {"name": member.name})
        if verb == "remove" and len(rest) == 1:
            target = found.staff.staff.find(rest[0])
            if target is None:
                return Msg("staff.unknown_staff", {"who": rest[0][:40]})
            member = await found.services.team.remove_member(who, target.user_id)
            return Msg("team.removed", {"name": member.name})
    except TeamError as exc:
        return exc.msg
    return Msg("team.usage")


def _options(words: list[str]) -> tuple[StaffRole, bool, list[str]]:
    """Read what follows the name: ``manager``, ``noexport`` and categories (comma-separated)."""
    role, may_export, specialisms = StaffRole.CASEWORKER, True, []
    for word in words:
        key = word.casefold()
        if key == "manager":
            role = StaffRole.MANAGER
        elif key == "noexport":
            may_export = False
        else:
            specialisms += [part for part in key.split(",") if part]
    return role, may_export, specialisms


def _listing(members: list[StaffMember]) -> Msg:
    rows = [
        Msg(
            "team.row",
            {
                "name": m.name,
                "user_id": str(m.user_id),
                "role": Msg(f"team.role.{m.role.value}"),
                "export": Msg(f"team.export.{'yes' if m.may_export else 'no'}"),
                "specialisms": ", ".join(m.specialisms) or Msg("team.no_specialisms"),
            },
        )
        for m in members
    ]
    return Msg("team.list", {"rows": join_lines(rows)}) if rows else Msg("team.usage")
