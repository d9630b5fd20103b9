"""Finding the category staff mean, table-driven."""

from __future__ import annotations

import pytest

from bot.core.categories import Categories, normalise

CATEGORIES = Categories.of(
    {
        "benefits": "Benefits and pensions",
        "health": "NHS and social care",
        "housing": "Housing",
        "council": "Council services",
        "tax": "Tax and child maintenance",
    },
    {"health": ["nhs", "social care", "gp"], "council": ["bins", "council tax"]},
)


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("health", "health"),
        ("Health", "health"),
        ("nhs", "health"),
        ("NHS and social care", "health"),
        ("nhs & social care", "health"),
        ("  NHS,  and social care ", "health"),
        ("gp", "health"),
        ("benefits", "benefits"),
        ("benefit", "benefits"),  # the start of a name
        ("pensions", "benefits"),  # every word in the label
        ("hous", "housing"),
        ("council tax", "council"),  # an alias beats the label of "tax"
        ("tax", "tax"),
        ("child maintenance", "tax"),
        ("co", None),  # too short to be the start of a name
        ("services", "council"),
        ("plumbing", None),
        ("", None),
        ("and", None),  # in several labels
    ],
)
def test_a_category_is_found_by_any_of_its_names(typed: str, found: str | None) -> None:
    category = CATEGORIES.find(typed)
    assert (category.value if category else None) == found


def test_names_are_compared_without_case_punctuation_or_ampersands() -> None:
    assert normalise("NHS & Social-Care!") == "nhs and social care"
    assert CATEGORIES.label_of("health") == "NHS and social care"
    assert CATEGORIES.label_of("unknown") == "unknown"
