"""The per-sender flood limit."""

from __future__ import annotations

import pytest

from bot.core.flood import FloodLimit, Verdict


@pytest.mark.parametrize(
    ("times", "expected"),
    [
        ([0, 1, 2], ["allow", "allow", "allow"]),
        ([0, 1, 2, 3], ["allow", "allow", "allow", "warn"]),
        ([0, 1, 2, 3, 4, 100], ["allow", "allow", "allow", "warn", "drop", "drop"]),
        ([0, 1, 2, 3, 304], ["allow", "allow", "allow", "warn", "allow"]),
        ([0, 1, 2, 61, 62], ["allow"] * 5),
    ],
)
def test_a_flood_gets_one_warning_then_is_dropped(times: list[float], expected: list[str]) -> None:
    limit = FloodLimit(count=3, period=60, pause=300)
    assert [limit.check(1, t).value for t in times] == expected


def test_one_sender_flooding_does_not_block_another() -> None:
    limit = FloodLimit(count=2, period=60, pause=300)
    verdicts = [limit.check(1, t) for t in (0, 1, 2, 3)]
    assert verdicts[-1] is Verdict.DROP
    assert limit.check(2, 4) is Verdict.ALLOW


def test_memory_is_bounded_by_forgetting_the_quietest_senders() -> None:
    limit = FloodLimit(count=1, period=60, pause=300, max_senders=10)
    for sender in range(100):
        limit.check(sender, 0)
    assert limit.check(99, 1) is Verdict.WARN
    assert limit.check(0, 1) is Verdict.ALLOW
