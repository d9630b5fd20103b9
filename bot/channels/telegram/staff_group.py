"""At start-up: whether the staff group is a forum the bot can run topics in, and command menus."""

from __future__ import annotations

import asyncio
import logging

from telegram import Bot, BotCommand, BotCommandScopeChat, ChatMemberAdministrator, ChatMemberOwner
from telegram.error import BadRequest, NetworkError, TelegramError

from bot.core.catalogue import Catalogue, Msg
from bot.core.staff import StaffDirectory
from bot.loading import STAFF_MENU

log = logging.getLogger(__name__)

# Commands of the staff menu offered only in a caseworker's own chat with the bot.
PRIVATE_ONLY = frozenset({"export", "desk"})
# A failed check of the staff group is tried again this many times before it runs flat.
CHECK_ATTEMPTS = 3


async def runs_topics(bot: Bot, chat_id: int) -> bool:
    """Tell whether the staff group is a forum whose topics the bot may manage.

    Otherwise the bot runs the group as one flat chat, and says why with a warning: there
    its messages can only be deleted for 48 hours, so an erased case can leave messages.
    """
    for attempt in range(1, CHECK_ATTEMPTS + 1):
        try:
            chat = await bot.get_chat(chat_id)
            if not chat.is_forum:
                log.warning(
                    "the staff group has no topics: cases go into it as one flat chat; turn"
                    " on Topics and let the bot manage them to give each case its own topic"
                )
                return False
            member = await bot.get_chat_member(chat_id, bot.id)
            break
        except BadRequest as exc:  # a NetworkError to PTB, but looking again cannot help
            return _unchecked(exc)
        except NetworkError as exc:  # Telegram unreachable for a moment: look again
            if attempt == CHECK_ATTEMPTS:
                return _unchecked(exc)
            await asyncio.sleep(attempt)
        except TelegramError as exc:
            return _unchecked(exc)
    if isinstance(member, ChatMemberOwner) or (
        isinstance(member, ChatMemberAdministrator) and member.can_manage_topics
    ):
        log.info("the staff group is a forum: each case gets its own topic")
        return True
    log.warning(
        "the staff group is a forum, but the bot may not manage its topics: cases go into it"
        " as one flat chat; make the bot an admin with the right to manage topics"
    )
    return False


def _unchecked(exc: TelegramError) -> bool:
    log.warning(
        "could not check the staff group (%s): cases go into it as one flat chat",
        type(exc).__name__,
    )
    return False


def _menu(catalogue: Catalogue, names: tuple[str, ...]) -> list[BotCommand]:
    return [BotCommand(n, catalogue.render(Msg(f"staff.command.{n}"), str)) for n in names]


async def set_staff_menus(
    bot: Bot, catalogue: Catalogue, staff: StaffDirectory, *, desk: bool = False
) -> None:
    """Show staff their commands in the staff group and in their own chats with the bot.

    /export and /desk are offered in private chats only (/desk when the desk is on). A menu
    is a convenience: one Telegram refuses (a staff member who never opened a private chat
    with the bot) is logged and skipped.
    """
    offered = tuple(c for c in STAFF_MENU if desk or c != "desk")
    in_group = _menu(catalogue, tuple(c for c in offered if c not in PRIVATE_ONLY))
    in_private = _menu(catalogue, offered)
    menus = [
        (in_group, BotCommandScopeChat(staff.staff_chat_id)),
        *((in_private, BotCommandScopeChat(member.user_id)) for member in staff.members),
    ]
    for commands, scope in menus:
        try:
            await bot.set_my_commands(commands, scope=scope)
        except TelegramError as exc:
            log.warning("could not set a command menu (%s): %s", scope.type, type(exc).__name__)
