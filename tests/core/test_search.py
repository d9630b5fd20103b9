"""What a case is found by, and the terms of a search, table-driven."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.core.case import Case, Consent, Urgency
from bot.core.search import MAX_TERMS, case_text, search_terms

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("query", "terms"),
    [
        ("Lovelace", ["lovelace"]),
        ("Ada  LOVELACE", ["ada", "lovelace"]),
        ("ST4 1HH", ["st4", "1hh"]),
        ("07911 123 456", ["07911123456"]),
        ("+44 7911 123456", ["447911123456"]),
        ("(01782) 232-000", ["01782232000"]),
        ("damp 12 flat", ["damp", "12", "flat"]),
        ("SOT-7K4X9Q5", ["sot-7k4x9q5"]),
        ('say "hello"', ["say", '"hello"']),
        ("-- ...", []),
        ("", []),
        (" ".join(f"w{i}" for i in range(20)), [f"w{i}" for i in range(MAX_TERMS)]),
    ],
)
def test_a_search_becomes_terms(query: str, terms: list[str]) -> None:
    assert search_terms(query) == terms


def test_a_case_is_found_by_its_answers_and_the_forms_people_type_them_in() -> None:
    case = Case(
        reference="SOT-7K4X9Q5",
        user_id=1,
        chat_id=1,
        created_at=NOW,
        updated_at=NOW,
        flow_id="intake",
        flow_version=1,
        category="housing",
        constituency_code="E14001520",
        constituency_name="Stoke-on-Trent Central",
        answers={
            "full_name": "Ada Lovelace",
            "postcode": "ST4 1HH",
            "phone": "+447911123456",
            "what_happened": "Damp\u200b in the flat",
            "email": None,
        },
        consent=Consent(version="v1", answer="yes", recorded_at=NOW),
        urgency=Urgency(urgent=False),
    )
    lines = case_text(case).split("\n")
    for expected in (
        "SOT-7K4X9Q5",
        "SOT7K4X9Q5",
        "housing",
        "Ada Lovelace",
        "ST41HH",
        "447911123456",
        "07911123456",
        "Damp in the flat",  # cleaned of hidden characters
    ):
        assert expected in lines
