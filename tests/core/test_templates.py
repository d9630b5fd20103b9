"""Reply templates: names and placeholders checked, values filled from the case."""

from __future__ import annotations

import pytest

from bot.core.templates import TemplateError, check_body, check_name, fill

GOOD = [
    "Dear {first_name}, about {reference}.",
    "I wrote to {organisation}. {caseworker}",
    "{mp_name} ({constituency}): {office_phone}, {office_email}, {office_address}",
    "No placeholders at all.",
    "Braces doubled stay: {{like this}}",
]


@pytest.mark.parametrize("body", GOOD)
def test_known_placeholders_are_accepted(body: str) -> None:
    assert check_body(body) == body


@pytest.mark.parametrize(
    ("body", "key", "named"),
    [
        ("Dear {firstname},", "template.unknown_placeholder", "{firstname}"),
        ("Dear {First_Name},", "template.unknown_placeholder", "{First_Name}"),
        ("Ref {reference:>10}", "template.unknown_placeholder", "{reference:>10}"),
        ("Ref {reference!r}", "template.unknown_placeholder", "{reference!r}"),
        ("Ref {0}", "template.unknown_placeholder", "{0}"),
        ("Ref {}", "template.unknown_placeholder", "{}"),
        ("Dear {first_name", "template.stray_brace", None),
        ("Dear first_name}", "template.stray_brace", None),
        ("   ", "template.empty", None),
        ("x" * 3001, "template.too_long", None),
    ],
)
def test_a_bad_template_is_refused_naming_the_fault(body: str, key: str, named: str | None) -> None:
    with pytest.raises(TemplateError) as caught:
        check_body(body)
    assert caught.value.msg.key == key
    if named is not None:
        assert caught.value.msg.params["placeholder"] == named


@pytest.mark.parametrize(
    ("name", "stored"),
    [("benefits-written", "benefits-written"), ("#Chase-DWP", "chase-dwp"), (" a1 ", "a1")],
)
def test_names(name: str, stored: str) -> None:
    assert check_name(name) == stored


@pytest.mark.parametrize("name", ["", "-start", "with space", "under_score", "x" * 41, "é"])
def test_bad_names(name: str) -> None:
    with pytest.raises(TemplateError) as caught:
        check_name(name)
    assert caught.value.msg.key == "template.bad_name"


def test_fill_puts_each_value_in_place() -> None:
    values = {"first_name": "Ada", "reference": "SOT-1", "organisation": "DWP", "caseworker": "Sam"}
    assert fill("Dear {first_name}, {reference} {organisation} {caseworker} {mp_name}", values) == (
        "Dear Ada, SOT-1 DWP Sam "
    )
    # A value with braces in it is not a placeholder.
    assert fill("Dear {first_name}", {"first_name": "{reference}"}) == "Dear {reference}"
