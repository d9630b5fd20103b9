"""The desk's pure parts: queue views from addresses, slipped references, tokens, exports."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from bot.core.case import CaseStatus
from bot.core.desk import (
    NOBODY,
    DeskQuery,
    Sort,
    Tab,
    desk_text_keys,
    form_token,
    read_query,
    same_token,
    secret_hash,
)
from bot.core.desk_export import to_document_json, to_table_csv, to_workbook
from bot.core.references import (
    ALPHABET,
    REFERENCE_SPACE,
    make_reference,
    near_references,
    parse_reference,
)
from bot.core.staff import StaffDirectory, StaffMember
from bot.loading import FLOWS_DIR, load_catalogue

STAFF = StaffDirectory([StaffMember(9001, "Sam"), StaffMember(9002, "Priya")], -100777)
CATEGORIES = frozenset({"housing", "benefits"})
WEB = Path(__file__).resolve().parents[2] / "bot" / "channels" / "web"


def test_a_queue_view_is_read_from_its_address() -> None:
    params = {
        "tab": "waiting",
        "category": "housing",
        "status": "open",
        "assignee": "9002",
        "from": "2026-11-01",
        "to": "2026-11-30",
        "sort": "newest",
        "page": "3",
    }
    query, bad = read_query(params, STAFF, CATEGORIES)
    assert bad == []
    assert query == DeskQuery(
        Tab.WAITING,
        "housing",
        CaseStatus.OPEN,
        9002,
        date(2026, 11, 1),
        date(2026, 11, 30),
        Sort.NEWEST,
        3,
    )
    assert query.params() == params
    assert read_query(query.params(), STAFF, CATEGORIES) == (query, [])


def test_values_the_desk_does_not_offer_are_left_out_and_named() -> None:
    params = {"tab": "all", "category": "x", "assignee": "5001", "from": "31/12", "page": "-1"}
    query, bad = read_query(params, STAFF, CATEGORIES)
    assert query == DeskQuery()
    assert bad == ["tab", "category", "assignee", "from"]
    assert read_query({"assignee": "0"}, STAFF, CATEGORIES)[0].assignee == NOBODY
    assert DeskQuery().params() == {"tab": "mine"}


def test_days_received_are_london_days() -> None:
    summer = DeskQuery(received_from=date(2026, 7, 1), received_to=date(2026, 7, 1))
    assert summer.since() == datetime(2026, 6, 30, 23, 0, tzinfo=UTC)
    assert summer.until() == datetime(2026, 7, 1, 23, 0, tzinfo=UTC)
    winter = DeskQuery(received_from=date(2026, 12, 1))
    assert winter.since() == datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    assert winter.until() is None


def test_a_tab_keeps_the_filters_and_starts_again_at_its_first_page() -> None:
    query = DeskQuery(Tab.MINE, category="housing", page=4)
    assert query.on(Tab.URGENT) == DeskQuery(Tab.URGENT, category="housing")


@given(st.integers(0, REFERENCE_SPACE - 1), st.integers(0, 6), st.sampled_from(ALPHABET))
def test_one_wrong_character_is_offered_the_reference_meant(
    number: int, position: int, character: str
) -> None:
    reference = make_reference("SOT", number)
    compact = reference.replace("-", "")
    index = 3 + position
    slipped = compact[:index] + character + compact[index + 1 :]
    near = near_references(slipped, "SOT")
    if slipped == compact:
        assert near == []
    else:
        assert reference in near
        assert all(parse_reference(found, "SOT") == found for found in near)
        assert len(near) <= 40


@given(st.integers(0, REFERENCE_SPACE - 1), st.integers(0, 6))
def test_a_missing_extra_or_swapped_character_is_offered_too(number: int, position: int) -> None:
    reference = make_reference("SOT", number)
    body = reference.split("-")[1]
    missing = body[:position] + body[position + 1 :]
    extra = body[:position] + "7" + body[position:]
    assert reference in near_references("SOT-" + missing, "SOT")
    assert reference in near_references("SOT " + extra, "SOT")
    if position < 6 and body[position] != body[position + 1]:
        swapped = body[:position] + body[position + 1] + body[position] + body[position + 2 :]
        assert reference in near_references(swapped, "SOT")  # the prefix left out


@pytest.mark.parametrize("text", ["", "Olwen Jones", "ST4 1HH", "07911 123456", "SOT-22"])
def test_text_unlike_a_reference_offers_nothing(text: str) -> None:
    assert near_references(text, "SOT") == []


def test_a_correct_reference_offers_nothing() -> None:
    assert near_references(make_reference("SOT", 4242), "SOT") == []


def test_form_tokens_are_bound_to_the_key_the_purpose_and_the_secret() -> None:
    token = form_token("key", "session", "abc")
    assert re.fullmatch(r"[0-9a-f]{64}", token)
    others = {
        form_token("other", "session", "abc"),
        form_token("key", "login", "abc"),
        form_token("key", "session", "abd"),
    }
    assert token not in others
    assert same_token(token, form_token("key", "session", "abc"))
    assert not same_token("", token)
    assert secret_hash("abc") != "abc"
    assert len(secret_hash("abc")) == 64


def test_cells_that_look_like_formulas_stay_text() -> None:
    fields = ("reference", "text")
    rows = [["SOT-1", '=HYPERLINK("http://x")'], ["SOT-2", "+44 7911"]]
    csv_text = to_table_csv(fields, rows).decode("utf-8-sig")
    assert "'=HYPERLINK" in csv_text
    assert "'+44 7911" in csv_text
    book = load_workbook(io.BytesIO(to_workbook({"notes": (fields, rows)})))
    sheet = book["Notes"]
    assert sheet.cell(2, 2).value == '=HYPERLINK("http://x")'
    assert sheet.cell(2, 2).data_type == "s"
    document = to_document_json({"notes": (fields, rows)})
    assert b'"=HYPERLINK' in document


def test_every_desk_text_is_in_the_catalogue() -> None:
    catalogue = load_catalogue(FLOWS_DIR / "locales")
    missing = [key for key in desk_text_keys() if key not in catalogue]
    assert missing == []


def test_every_text_the_desk_names_is_checked_at_start_up() -> None:
    named: set[str] = set()
    for path in [*WEB.glob("*.py"), *(WEB / "templates").glob("*.html")]:
        named |= set(re.findall(r"""t\(\s*["'](desk\.[a-z_.]+)["']""", path.read_text("utf-8")))
    assert named
    assert named - set(desk_text_keys()) == set()
