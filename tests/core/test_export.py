"""Tests for exporting cases as CSV and JSON rows for case-management systems."""

from __future__ import annotations

import csv
import io
import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from bot.core.case import Case, CaseStatus, Consent, Urgency
from bot.core.export import EXPORT_FIELDS, export_row, split_name, to_csv, to_json

BOM = b"\xef\xbb\xbf"
CREATED = datetime(2026, 11, 23, 9, 30, 5, 123456, tzinfo=UTC)
ANSWERS: dict[str, str | None] = {
    "welcome": "start",
    "for_whom": "self",
    "full_name": "Mary Ann O'Neil",
    "postcode": "ST4 1HH",
    "address": "1 Station Road, Stoke-on-Trent",
    "phone": "+447911123456",
    "email": "mary@example.org",
    "contact_by": "email",
    "date_of_birth": None,
    "category": "housing",
    "organisation": "Stoke-on-Trent City Council",
    "their_reference": None,
    "contacted_them": "yes",
    "what_happened": "Damp in the bedroom since March.",
    "desired_outcome": "Repairs.",
    "deadline": "2026-11-30",
    "consent": "yes",
}
# Values that break naive CSV or JSON writers, or that a careless export would mangle.
AWKWARD = [
    "Smith, John",
    'Jo "JJ" Jones',
    "line one\nline two",
    "line one\r\nline two",
    "<b>Bold</b> & <i>sons</i>",
    "Zoë 👩‍👩‍👧 Ünal 🏠",
    "محمد عبد الله",
    "שרה כהן",
    "mixed \u202eRLO\u202c text",
    "trailing space ",
    "",
]


def _case(**changes: Any) -> Case:
    """Return a sent housing case, with ``changes`` applied to its fields."""
    fields: dict[str, Any] = {
        "reference": "MP-7K4X9Q5",
        "user_id": 1001,
        "chat_id": 1001,
        "created_at": CREATED,
        "updated_at": CREATED + timedelta(days=2, hours=1),
        "status": CaseStatus.OPEN,
        "flow_id": "intake",
        "flow_version": 1,
        "category": "housing",
        "constituency_code": "E14001527",
        "constituency_name": "Stoke-on-Trent Central",
        "answers": dict(ANSWERS),
        "consent": Consent(
            version="2026-11-v1", answer="yes", recorded_at=CREATED - timedelta(minutes=2)
        ),
        "deadline": date(2026, 11, 30),
        "urgency": Urgency(urgent=True, reasons=("deadline 2026-11-30", "mentions eviction")),
        "linked_to": "MP-2222222",
    }
    fields.update(changes)
    return Case(**fields)


def _row(case: Case | None = None, /, **changes: str) -> dict[str, str]:
    """Return the export row of ``case`` (a default one), with ``changes`` applied."""
    row = export_row(
        case or _case(), assignee_name="Priya", category_label="Housing", summary="Damp"
    )
    row.update(changes)
    return row


def _read_csv(data: bytes) -> list[dict[str, str]]:
    """Parse exported CSV as a spreadsheet import would, BOM stripped."""
    # newline="" as the csv module requires, so line breaks inside cells are kept exactly.
    text = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")
    reader = csv.DictReader(text)
    assert reader.fieldnames == list(EXPORT_FIELDS)
    return list(reader)


def test_export_fields_are_the_import_columns_in_order() -> None:
    """The columns are the ones offices import, in the agreed order."""
    assert EXPORT_FIELDS == (
        "reference",
        "created",
        "first_name",
        "last_name",
        "email",
        "phone",
        "address",
        "postcode",
        "constituency",
        "category",
        "organisation",
        "status",
        "assignee",
        "summary",
        "deadline",
        "urgent",
        "urgent_reasons",
        "consent_version",
        "consent_time",
        "consent_answer",
        "on_behalf_of",
        "linked_to",
        "last_update",
        "date_of_birth",
        "postcode_checked",
        "helper_name",
        "helper_relationship",
        "helper_address",
        "agreement",
        "language",
    )


def test_export_row_of_a_full_case() -> None:
    """Every column is present, in order, with the case's values in import formats."""
    row = _row()
    assert list(row) == list(EXPORT_FIELDS)
    assert row == {
        "reference": "MP-7K4X9Q5",
        "created": "2026-11-23T09:30:05Z",
        "first_name": "Mary Ann",
        "last_name": "O'Neil",
        "email": "mary@example.org",
        "phone": "+447911123456",
        "address": "1 Station Road, Stoke-on-Trent",
        "postcode": "ST4 1HH",
        "constituency": "Stoke-on-Trent Central",
        "category": "Housing",
        "organisation": "Stoke-on-Trent City Council",
        "status": "open",
        "assignee": "Priya",
        "summary": "Damp",
        "deadline": "2026-11-30",
        "urgent": "yes",
        "urgent_reasons": "deadline 2026-11-30; mentions eviction",
        "consent_version": "2026-11-v1",
        "consent_time": "2026-11-23T09:28:05Z",
        "consent_answer": "yes",
        "on_behalf_of": "",
        "linked_to": "MP-2222222",
        "last_update": "2026-11-25T10:30:05Z",
        "date_of_birth": "",
        "postcode_checked": "yes",
        "helper_name": "",
        "helper_relationship": "",
        "helper_address": "",
        "agreement": "",
        "language": "en",
    }


def test_export_row_says_the_constituents_language() -> None:
    """Staff reply in the language the constituent chose; their cases' rows say which."""
    assert _row(_case(language="cy"))["language"] == "cy"
    assert _row()["language"] == "en"


def test_export_row_of_a_minimal_case_leaves_missing_answers_empty() -> None:
    """Skipped and unasked questions, no deadline, no assignee: empty cells, never "None"."""
    answers: dict[str, str | None] = {
        "for_whom": "self",
        "full_name": "Prince",
        "postcode": "ST4 1HH",
        "email": None,
        "category": "policy_view",
        "consent": "no",
    }
    case = _case(
        answers=answers,
        status=CaseStatus.NEW,
        deadline=None,
        urgency=Urgency(urgent=False),
        linked_to=None,
        consent=Consent(version="2026-11-v1", answer="no", recorded_at=CREATED),
    )
    row = export_row(case, assignee_name=None, category_label="A view on policy", summary="")
    assert list(row) == list(EXPORT_FIELDS)
    assert {field for field, value in row.items() if value == ""} == {
        "last_name",
        "email",
        "phone",
        "address",
        "organisation",
        "assignee",
        "summary",
        "deadline",
        "urgent_reasons",
        "on_behalf_of",
        "linked_to",
        "date_of_birth",
        "helper_name",
        "helper_relationship",
        "helper_address",
        "agreement",
    }
    assert (row["first_name"], row["status"], row["urgent"]) == ("Prince", "new", "no")
    assert row["consent_answer"] == "no"


@pytest.mark.parametrize(
    ("for_whom", "other_name", "expected"),
    [
        ("other", "Ahmed Khan", "Ahmed Khan"),
        ("other", None, ""),
        # A name left over from changing the answer to "self" is not exported.
        ("self", "Ahmed Khan", ""),
    ],
)
def test_on_behalf_of(for_whom: str, other_name: str | None, expected: str) -> None:
    """The other person's name is exported only for an enquiry made on their behalf."""
    case = _case(answers=ANSWERS | {"for_whom": for_whom, "other_name": other_name})
    assert _row(case)["on_behalf_of"] == expected


@pytest.fixture
def far_from_utc() -> Iterator[None]:
    """Set the machine's local time zone far from UTC for one test, then restore it."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    yield
    if saved is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = saved
    time.tzset()


@pytest.mark.usefixtures("far_from_utc")
def test_timestamps_are_utc() -> None:
    """Times in another offset are converted; naive times are read as UTC, not local."""
    summer = timezone(timedelta(hours=1))
    case = _case(
        created_at=datetime(2026, 7, 1, 10, 0, tzinfo=summer),
        updated_at=datetime(2026, 7, 2, 8, 15, 59, 999999),
        consent=Consent(
            version="v", answer="yes", recorded_at=datetime(2026, 7, 1, 0, 30, tzinfo=summer)
        ),
    )
    row = _row(case)
    assert row["created"] == "2026-07-01T09:00:00Z"
    assert row["last_update"] == "2026-07-02T08:15:59Z"
    assert row["consent_time"] == "2026-06-30T23:30:00Z"


@pytest.mark.parametrize(
    ("full_name", "expected"),
    [
        ("Mary Ann O'Neil", ("Mary Ann", "O'Neil")),
        ("John Smith", ("John", "Smith")),
        ("Prince", ("Prince", "")),
        ("", ("", "")),
        ("   ", ("", "")),
        ("  Jean-Luc   Picard  ", ("Jean-Luc", "Picard")),
        ("Ludwig van Beethoven", ("Ludwig van", "Beethoven")),
        ("محمد عبد الله", ("محمد عبد", "الله")),
        ("Zoë\u00a0Ünal", ("Zoë", "Ünal")),
    ],
)
def test_split_name(full_name: str, expected: tuple[str, str]) -> None:
    """The last word is the last name; every other word stays in the first name."""
    assert split_name(full_name) == expected


def test_csv_layout() -> None:
    """A BOM, the header row, CRLF line endings and minimal quoting."""
    data = to_csv([_row(), _row(reference="MP-3333333")])
    assert data.startswith(BOM)
    lines = data[len(BOM) :].split(b"\r\n")
    assert lines[0] == ",".join(EXPORT_FIELDS).encode()
    assert len(lines) == 4
    assert lines[-1] == b""
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert b',"1 Station Road, Stoke-on-Trent",' in lines[1]
    assert b",MP-7K4X9Q5," not in lines[1]
    assert lines[1].startswith(b"MP-7K4X9Q5,2026-11-23T09:30:05Z,Mary Ann,O'Neil,")


def test_csv_of_no_rows_is_the_header() -> None:
    """An empty export still tells the importer its columns."""
    assert to_csv([]) == BOM + ",".join(EXPORT_FIELDS).encode() + b"\r\n"


@pytest.mark.parametrize("value", AWKWARD)
def test_csv_round_trip(value: str) -> None:
    """Commas, quotes, line breaks, markup, emoji and right-to-left text come back exactly."""
    rows = [_row(first_name=value, summary=value, address=value), _row()]
    assert _read_csv(to_csv(rows)) == rows


@pytest.mark.parametrize("value", AWKWARD)
def test_json_round_trip(value: str) -> None:
    """The same values come back exactly from JSON, in field order."""
    rows = [_row(first_name=value, summary=value, address=value), _row()]
    data = to_json(rows)
    document = json.loads(data.decode("utf-8"))
    assert document == {"fields": list(EXPORT_FIELDS), "cases": rows}
    assert all(list(case) == list(EXPORT_FIELDS) for case in document["cases"])


def test_json_is_readable_utf8_one_case_a_line() -> None:
    """Non-ASCII text is written as UTF-8, not \\u escapes, and each case has its own line."""
    rows = [_row(first_name="Zoë 👩‍👩‍👧"), _row(first_name="محمد"), _row()]
    data = to_json(rows)
    assert "Zoë 👩‍👩‍👧".encode() in data
    assert "محمد".encode() in data
    assert b"\\u" not in data
    assert not data.startswith(BOM)
    case_lines = [line for line in data.splitlines() if line.startswith(b'{"reference"')]
    assert [json.loads(line.rstrip(b",")) for line in case_lines] == rows
    assert json.loads(to_json([])) == {"fields": list(EXPORT_FIELDS), "cases": []}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("first_name", '=HYPERLINK("http://evil.example","Click")'),
        ("last_name", "+1+cmd|' /C calc'!A0"),
        ("summary", "-2+3"),
        ("address", "@SUM(1+1)"),
        ("organisation", "\t=1+1"),
        ("email", "\r=1+1"),
        ("assignee", "=1"),
        # Outside the phone column an E.164-looking value is still escaped.
        ("summary", "+447911123456"),
        # In the phone column only a whole E.164 number keeps its "+".
        ("phone", "+44 7911 123456"),
        ("phone", "+447911123456=1"),
        ("phone", "+123456"),
        ("phone", "+1234567890123456"),
        ("phone", "+٤٤٧٩١١١٢٣٤٥٦"),
        ("phone", "-447911123456"),
        ("phone", "=447911123456"),
    ],
)
def test_csv_escapes_formula_cells(field: str, value: str) -> None:
    """A cell a spreadsheet would run as a formula starts with an apostrophe instead."""
    row = _row(**{field: value})
    [read] = _read_csv(to_csv([row]))
    assert read[field] == "'" + value
    assert {name: text for name, text in read.items() if name != field} == {
        name: text for name, text in row.items() if name != field
    }


@pytest.mark.parametrize("phone", ["+447911123456", "+1234567", "+123456789012345"])
def test_csv_keeps_e164_phone_numbers(phone: str) -> None:
    """An E.164 phone number keeps its leading "+", so it imports as a number to dial."""
    [read] = _read_csv(to_csv([_row(phone=phone)]))
    assert read["phone"] == phone


@pytest.mark.parametrize("value", ["O'Neil", "a=b", "1+1", "email@example.org", " =1", "'=1"])
def test_csv_leaves_harmless_cells_alone(value: str) -> None:
    """Only a dangerous first character is escaped; the rest of the text is not touched."""
    [read] = _read_csv(to_csv([_row(summary=value)]))
    assert read["summary"] == value


def test_json_is_not_escaped() -> None:
    """JSON is read by programs, so formula-like values stay exactly as entered."""
    row = _row(summary="=1+1", phone="+44 7911 123456")
    assert json.loads(to_json([row]))["cases"] == [row]


def test_rows_in_another_order_or_with_missing_fields() -> None:
    """Cells are written in EXPORT_FIELDS order whatever the row's order; missing ones are ""."""
    row = _row()
    shuffled = dict(reversed(row.items()))
    partial = {"reference": "MP-3333333", "summary": "Damp"}
    expected_partial = dict.fromkeys(EXPORT_FIELDS, "") | partial
    assert _read_csv(to_csv([shuffled, partial])) == [row, expected_partial]
    assert json.loads(to_json([shuffled, partial]))["cases"] == [row, expected_partial]


def test_unknown_fields_are_refused() -> None:
    """A row with a column the import does not know is a programming error, not dropped."""
    with pytest.raises(ValueError, match="user_id"):
        to_csv([_row() | {"user_id": "1001"}])
    with pytest.raises(ValueError, match="user_id"):
        to_json([_row() | {"user_id": "1001"}])


def test_rows_are_read_once_from_a_generator() -> None:
    """Rows may come from a generator (a database cursor), read once, in order."""

    def rows() -> Iterator[dict[str, str]]:
        for number in range(3):
            yield _row(reference=f"MP-{number}")

    assert [row["reference"] for row in _read_csv(to_csv(rows()))] == ["MP-0", "MP-1", "MP-2"]
    references = [case["reference"] for case in json.loads(to_json(rows()))["cases"]]
    assert references == ["MP-0", "MP-1", "MP-2"]


def test_a_case_for_someone_else_exports_the_constituent_and_the_helper_apart() -> None:
    """The constituent fills the name columns; whoever wrote for them has columns of their own."""
    answers = ANSWERS | {
        "for_whom": "other",
        "other_name": "Grace Hopper",
        "other_relationship": "Her son",
        "other_agrees": "unable",
        "other_authority": "attorney",
        "full_name": "Alan Hopper",
        "helper_address": "1 Far Lane, Leeds LS1 1AA",
        "date_of_birth": "1950-03-14",
    }
    row = _row(_case(answers=answers))
    assert (row["first_name"], row["last_name"]) == ("Grace", "Hopper")
    assert row["on_behalf_of"] == "Grace Hopper"
    assert (row["helper_name"], row["helper_relationship"]) == ("Alan Hopper", "Her son")
    assert row["helper_address"] == "1 Far Lane, Leeds LS1 1AA"
    assert row["agreement"] == "unable; attorney"
    assert row["date_of_birth"] == "1950-03-14"
