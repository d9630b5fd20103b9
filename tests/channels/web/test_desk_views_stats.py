"""How the desk's statistics page writes numbers and shares."""

from __future__ import annotations

import pytest

from bot.channels.web.views import shown_number, shown_share


@pytest.mark.parametrize(
    ("value", "shown"),
    [(0.0, "0"), (3.0, "3"), (9.25, "9.2"), (9.26, "9.3"), (1234.0, "1,234"), (0.5, "0.5")],
)
def test_numbers_whole_plain_others_to_one_place(value: float, shown: str) -> None:
    assert shown_number(value) == shown


@pytest.mark.parametrize(
    ("share", "shown"), [(None, ""), (0.0, "0%"), (0.5, "50%"), (2 / 3, "67%"), (1.0, "100%")]
)
def test_shares_as_whole_percentages(share: float | None, shown: str) -> None:
    assert shown_share(share) == shown
