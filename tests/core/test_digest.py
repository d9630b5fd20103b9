"""The daily digest: grouped by assignee in the staff's order, nobody's last, rows capped."""

from __future__ import annotations

from datetime import date

from bot.core.catalogue import Catalogue, Msg
from bot.core.digest import DIGEST_ROWS, DueCase, build_digest, digest_text, join_lines
from bot.loading import FLOWS_DIR, load_catalogue

TODAY = date(2026, 12, 8)
SAM, PRIYA = 9001, 9002


def due(reference: str, assignee: int | None, day: date, kind: str = "reply") -> DueCase:
    return DueCase(reference, "housing", assignee, day, "reply" if kind == "reply" else "chase")


def render(msg: Msg) -> str:
    catalogue: Catalogue = load_catalogue(FLOWS_DIR / "locales")
    return catalogue.render(msg, lambda text: text)


def test_cases_are_grouped_by_assignee_in_the_staffs_order() -> None:
    cases = [
        due("A", None, TODAY),
        due("B", PRIYA, date(2026, 12, 1)),
        due("C", SAM, TODAY, "chase"),
        due("D", PRIYA, TODAY),
        due("E", SAM, date(2026, 12, 9)),  # not due yet: left out
        due("F", 4242, date(2026, 12, 7)),  # someone no longer on the staff list
    ]
    digest = build_digest(cases, TODAY, [SAM, PRIYA])
    assert [g.assignee for g in digest.groups] == [SAM, PRIYA, 4242, None]
    assert [c.reference for c in digest.groups[1].overdue] == ["B"]
    assert [c.reference for c in digest.groups[1].due_today] == ["D"]
    assert (digest.due_count, digest.overdue_count) == (3, 2)


def test_the_text_lists_overdue_first_under_each_name() -> None:
    cases = [due("SOT-1", SAM, TODAY, "chase"), due("SOT-2", SAM, date(2026, 12, 1))]
    digest = build_digest(cases, TODAY, [SAM])
    text = render(digest_text(digest, lambda who: "Sam", lambda value: "Housing"))
    assert text.splitlines() == [
        "<b>Today, 8 December 2026</b>: 1 due, 1 overdue",
        "<b>Sam</b>",
        "· ⏰ SOT-2 · Housing · due 1 December 2026 (reply)",
        "· SOT-1 · Housing · due today (chase)",
    ]


def test_a_quiet_day_says_so() -> None:
    text = render(digest_text(build_digest([], TODAY, []), str, str))
    assert text == "<b>Today, 8 December 2026</b>: nothing falls due and nothing is overdue."


def test_a_long_digest_is_capped_and_points_to_the_queue() -> None:
    cases = [due(f"R{n:03}", SAM, date(2026, 11, 1)) for n in range(DIGEST_ROWS + 5)]
    text = render(digest_text(build_digest(cases, TODAY, [SAM]), lambda who: "Sam", str))
    lines = text.splitlines()
    assert len([line for line in lines if line.startswith("· ")]) == DIGEST_ROWS
    assert lines[-1] == "… and 5 more: send /queue overdue"


def test_join_lines_keeps_the_order() -> None:
    joined = join_lines([Msg("digest.what.reply"), Msg("digest.what.chase")])
    assert render(joined) == "reply\nchase"
