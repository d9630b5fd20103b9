"""Office staff: who may act on cases, the names constituents see, and routing by category."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StaffMember:
    """A caseworker: their Telegram user id and the first name the office shows."""

    user_id: int
    name: str


class StaffDirectory:
    """The office's staff, looked up by user id or (case-insensitively) by name."""

    def __init__(
        self, members: Iterable[StaffMember], staff_chat_id: int, *, topics: bool = False
    ) -> None:
        """Keep the staff and the staff group's chat id (``topics``: it is a forum we manage)."""
        self.members = tuple(members)
        self.staff_chat_id = staff_chat_id
        # Each case has its own topic in the staff group; otherwise the group is one flat chat.
        self.topics = topics
        self._by_id = {m.user_id: m for m in self.members}

    def with_topics(self, topics: bool) -> StaffDirectory:
        """Return the same staff, the staff group run with one forum topic per case or not."""
        return StaffDirectory(self.members, self.staff_chat_id, topics=topics)

    def is_staff_chat(self, chat_id: int) -> bool:
        """Tell whether a chat is on the staff side: the staff group or a staff member's own."""
        return chat_id == self.staff_chat_id or chat_id in self._by_id

    def get(self, user_id: int | None) -> StaffMember | None:
        """Return the staff member with ``user_id``, if they are staff."""
        return None if user_id is None else self._by_id.get(user_id)

    def find(self, who: str) -> StaffMember | None:
        """Return the staff member named or numbered ``who`` (``@`` and case ignored)."""
        key = who.strip().lstrip("@").casefold()
        if key.isdigit():
            return self._by_id.get(int(key))
        return next((m for m in self.members if m.name.casefold() == key), None)

    def may_act(self, user_id: int | None, chat_id: int | None) -> bool:
        """Tell whether this person may use staff commands in this chat.

        Staff act in the staff group or in their own private chat with the bot; anyone
        else, or staff anywhere else, is refused.
        """
        if self.get(user_id) is None or chat_id is None:
            return False
        return chat_id in (self.staff_chat_id, user_id)

    def name_of(self, user_id: int | None) -> str | None:
        """Return the shown name of a staff member, or None."""
        member = self.get(user_id)
        return None if member is None else member.name


def parse_staff(spec: str) -> list[StaffMember]:
    """Read ``"123456789:Sam, 987654321:Priya"`` (a name is optional) into staff members."""
    members = []
    for item in spec.split(","):
        if not item.strip():
            continue
        number, _, name = item.strip().partition(":")
        if not number.strip().isdigit():
            raise ValueError(f"{item.strip()!r} is not a Telegram user id")
        user_id = int(number)
        members.append(StaffMember(user_id, name.strip() or f"Staff {user_id}"))
    if len({m.user_id for m in members}) != len(members):
        raise ValueError("a user id is listed twice")
    return members


def parse_routes(spec: str) -> dict[str, str]:
    """Read ``"immigration:Priya, benefits:Sam"`` into category -> staff name or id."""
    routes = {}
    for item in spec.split(","):
        if not item.strip():
            continue
        category, _, who = item.strip().partition(":")
        if not category.strip() or not who.strip():
            raise ValueError(f"{item.strip()!r} is not category:staff")
        routes[category.strip()] = who.strip()
    return routes


def route(category: str, routes: Mapping[str, str], staff: StaffDirectory) -> StaffMember | None:
    """Return the specialist a new case in ``category`` goes to, if one is set."""
    who = routes.get(category)
    return None if who is None else staff.find(who)
