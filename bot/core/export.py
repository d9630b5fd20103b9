"""Cases as rows for an office's case-management system, written as CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from bot.core.case import Case
from bot.core.roles import (
    ADDRESS,
    DATE_OF_BIRTH,
    EMAIL,
    FOR_WHOM,
    FULL_NAME,
    HELPER_ADDRESS,
    ORGANISATION,
    OTHER_AGREES,
    OTHER_AUTHORITY,
    OTHER_NAME,
    OTHER_RELATIONSHIP,
    PHONE,
    POSTCODE,
    SOMEONE_ELSE,
)

EXPORT_FIELDS: tuple[str, ...] = (
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
    # Added later, at the end so that existing import mappings keep their columns.
    "date_of_birth",
    "postcode_checked",
    "helper_name",
    "helper_relationship",
    "helper_address",
    "agreement",
    # The language the constituent chose (en, cy): reply to them in it.
    "language",
)

# Characters that make a spreadsheet read a cell as a formula (OWASP "CSV Injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A phone number as the phone validator stores it (E.164); ASCII digits only, so that
# Unicode digits do not slip through as "numbers".
_E164 = re.compile(r"\+[0-9]{7,15}")
_KNOWN = frozenset(EXPORT_FIELDS)


def split_name(full_name: str) -> tuple[str, str]:
    """Split a full name into (first names, last name) at the last space.

    Names do not split reliably (GOV.UK asks for a full name for that reason), so the
    split is only what a case-management import needs: every word but the last is the
    first name, and a one-word name is all first name, e.g. "Prince" -> ("Prince", "").
    Whitespace runs collapse to single spaces; nothing else is changed.
    """
    words = full_name.split()
    if len(words) < 2:
        return (" ".join(words), "")
    return (" ".join(words[:-1]), words[-1])


def export_row(
    case: Case, *, assignee_name: str | None, category_label: str, summary: str
) -> dict[str, str]:
    """Return one case as a row with every field in EXPORT_FIELDS, missing ones as ""."""
    answers = case.answers
    # The constituent is the person the case is about: for someone else, not the writer, whose
    # name, relationship and address have their own columns (phone and email reach them).
    for_other = answers.get(FOR_WHOM) == SOMEONE_ELSE
    on_behalf_of = answers.get(OTHER_NAME) if for_other else None
    constituent = on_behalf_of if for_other else answers.get(FULL_NAME)
    first_name, last_name = split_name(constituent or "")
    helper = {
        "helper_name": answers.get(FULL_NAME) or "",
        "helper_relationship": answers.get(OTHER_RELATIONSHIP) or "",
        "helper_address": answers.get(HELPER_ADDRESS) or "",
        "agreement": "; ".join(
            value for key in (OTHER_AGREES, OTHER_AUTHORITY) if (value := answers.get(key))
        ),
    }
    row = {
        "reference": case.reference,
        "created": _timestamp(case.created_at),
        "first_name": first_name,
        "last_name": last_name,
        "email": answers.get(EMAIL) or "",
        "phone": answers.get(PHONE) or "",
        "address": answers.get(ADDRESS) or "",
        "postcode": answers.get(POSTCODE) or "",
        "constituency": case.constituency_name,
        "category": category_label,
        "organisation": answers.get(ORGANISATION) or "",
        "status": case.status.value,
        "assignee": assignee_name or "",
        "summary": summary,
        "deadline": case.deadline.isoformat() if case.deadline else "",
        "urgent": "yes" if case.urgency.urgent else "no",
        "urgent_reasons": "; ".join(case.urgency.reasons),
        "consent_version": case.consent.version,
        "consent_time": _timestamp(case.consent.recorded_at),
        "consent_answer": case.consent.answer,
        "on_behalf_of": on_behalf_of or "",
        "linked_to": case.linked_to or "",
        "last_update": _timestamp(case.updated_at),
        "date_of_birth": answers.get(DATE_OF_BIRTH) or "",
        "postcode_checked": "yes" if case.postcode_verified else "no",
        **(helper if for_other else dict.fromkeys(helper, "")),
        "language": case.language,
    }
    return {field: row[field] for field in EXPORT_FIELDS}


def to_csv(rows: Iterable[Mapping[str, str]]) -> bytes:
    """Write rows as UTF-8 CSV with a BOM for Excel, cells safe from formula injection."""
    buffer = io.BytesIO()
    # Encoding as we go keeps one copy of the output, as bytes, not a str and then bytes.
    text = io.TextIOWrapper(buffer, encoding="utf-8-sig", newline="")
    writer = csv.writer(text, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(EXPORT_FIELDS)
    for row in rows:
        writer.writerow([_safe_cell(field, value) for field, value in _cells(row)])
    text.flush()
    text.detach()
    return buffer.getvalue()


def to_json(rows: Iterable[Mapping[str, str]]) -> bytes:
    """Write rows as UTF-8 JSON, {"fields": [...], "cases": [...]}, one case a line.

    Values are exact: JSON is read by programs, not spreadsheets, so nothing is escaped
    against formulas.
    """
    buffer = io.BytesIO()
    text = io.TextIOWrapper(buffer, encoding="utf-8", newline="")
    text.write('{"fields": ')
    text.write(json.dumps(list(EXPORT_FIELDS), ensure_ascii=False))
    text.write(', "cases": [')
    separator = "\n"
    for row in rows:
        text.write(separator)
        text.write(json.dumps(dict(_cells(row)), ensure_ascii=False))
        separator = ",\n"
    text.write("\n]}\n")
    text.flush()
    text.detach()
    return buffer.getvalue()


def _cells(row: Mapping[str, str]) -> list[tuple[str, str]]:
    """Return a row's (field, value) pairs in EXPORT_FIELDS order; a missing field is ""."""
    unknown = row.keys() - _KNOWN
    if unknown:
        raise ValueError(f"not export fields: {sorted(unknown)}")
    return [(field, row.get(field) or "") for field in EXPORT_FIELDS]


def _safe_cell(field: str, value: str) -> str:
    """Prefix a cell a spreadsheet would run as a formula with an apostrophe."""
    if not value.startswith(_FORMULA_STARTS):
        return value
    if field == "phone" and _E164.fullmatch(value):
        return value
    return "'" + value


def _timestamp(moment: datetime) -> str:
    """Return a moment as ISO 8601 UTC to the second, e.g. 2026-11-23T09:30:00Z.

    The bot stores only UTC times, so a naive datetime is read as UTC rather than as the
    machine's local time.
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(tzinfo=None, microsecond=0).isoformat() + "Z"
