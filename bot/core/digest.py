"""The daily digest: what falls due today and what is overdue, by assignee, as one text."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from bot.core.catalogue import Msg
from bot.core.dates import long_date

DueKind = Literal["reply", "chase"]
# Enough rows for a busy office's morning; the rest are one /queue overdue away.
DIGEST_ROWS = 40


@dataclass(frozen=True, slots=True)
class DueCase:
    """An open case the office owes action on by ``due_on``: a reply, or chasing an organisation."""

    reference: str
    category: str
    assignee: int | None
    due_on: date
    kind: DueKind


@dataclass(frozen=True, slots=True)
class AssigneeDue:
    """One person's (or nobody's) cases due today and overdue."""

    assignee: int | None
    due_today: tuple[DueCase, ...]
    overdue: tuple[DueCase, ...]


@dataclass(frozen=True, slots=True)
class Digest:
    """What falls due on ``today`` and what is overdue, grouped by assignee (nobody last)."""

    today: date
    groups: tuple[AssigneeDue, ...]

    @property
    def due_count(self) -> int:
        """Return how many cases fall due today."""
        return sum(len(group.due_today) for group in self.groups)

    @property
    def overdue_count(self) -> int:
        """Return how many cases are overdue."""
        return sum(len(group.overdue) for group in self.groups)


def build_digest(cases: Sequence[DueCase], today: date, order: Sequence[int]) -> Digest:
    """Group the cases due by ``today`` by assignee, in the staff's ``order``, nobody's last."""
    by_assignee: dict[int | None, list[DueCase]] = {}
    for case in cases:
        if case.due_on <= today:
            by_assignee.setdefault(case.assignee, []).append(case)
    rank = {user_id: number for number, user_id in enumerate(order)}

    def position(assignee: int | None) -> tuple[int, int]:
        if assignee is None:
            return (2, 0)
        return (0, rank[assignee]) if assignee in rank else (1, assignee)

    groups = []
    for assignee in sorted(by_assignee, key=position):
        found = sorted(by_assignee[assignee], key=lambda c: (c.due_on, c.reference))
        groups.append(
            AssigneeDue(
                assignee,
                tuple(c for c in found if c.due_on == today),
                tuple(c for c in found if c.due_on < today),
            )
        )
    return Digest(today, tuple(groups))


def digest_text(
    digest: Digest, name: Callable[[int | None], str | Msg], category: Callable[[str], Msg | str]
) -> Msg:
    """Return the digest as one catalogue text (its lines joined), at most DIGEST_ROWS rows."""
    shown_date = long_date(digest.today)
    if not digest.groups:
        return Msg("digest.nothing", {"date": shown_date})
    counts = {"due": str(digest.due_count), "overdue": str(digest.overdue_count)}
    lines = [Msg("digest.title", {"date": shown_date, **counts})]
    rows, left = 0, 0
    for group in digest.groups:
        cases = [*group.overdue, *group.due_today]
        room = max(0, DIGEST_ROWS - rows)
        if room == 0:
            left += len(cases)
            continue
        lines.append(Msg("digest.person", {"name": name(group.assignee)}))
        for case in cases[:room]:
            lines.append(_row(case, digest.today, category))
        rows += min(room, len(cases))
        left += max(0, len(cases) - room)
    if left:
        lines.append(Msg("digest.more", {"count": str(left)}))
    return join_lines(lines)


def _row(case: DueCase, today: date, category: Callable[[str], Msg | str]) -> Msg:
    params: dict[str, str | Msg] = {
        "reference": case.reference,
        "category": category(case.category),
        "what": Msg(f"digest.what.{case.kind}"),
    }
    if case.due_on == today:
        return Msg("digest.due_row", params)
    return Msg("digest.overdue_row", {**params, "date": long_date(case.due_on)})


def join_lines(lines: Sequence[Msg]) -> Msg:
    """Return catalogue texts as one, each on its own line."""
    if not lines:
        raise ValueError("nothing to join")
    joined = lines[-1]
    for line in reversed(lines[:-1]):
        joined = Msg("text.lines", {"line": line, "rest": joined})
    return joined
