"""The desk's export: every export field, every answer in full, notes and messages apart.

CSV is one table a file (cases, notes or messages), JSON one document with all three, and
XLSX one workbook with a sheet each. Cells a spreadsheet would run as formulas are kept as
text in both CSV and XLSX.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from typing import Final

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from bot.core.case import Case
from bot.core.display import shown_answer
from bot.core.export import EXPORT_FIELDS, _safe_cell, _timestamp
from bot.core.flow import Flow

MESSAGE_FIELDS: Final = ("reference", "at", "kind", "author", "text")
TABLES: Final = ("cases", "notes", "messages")
FORMATS: Final = ("csv", "json", "xlsx")


def answer_fields(flow: Flow) -> list[str]:
    """Return a column for every question of the flow that has an answer label."""
    return [f"answer.{step.id}" for step in flow.steps if step.label is not None]


def case_fields(flow: Flow) -> list[str]:
    """Return the columns of the cases table: the export fields, then every answer."""
    return [*EXPORT_FIELDS, "consent_withdrawn", "consent_wording", *answer_fields(flow)]


def desk_row(
    case: Case, base: dict[str, str], flow: Flow, label: Callable[[str], str]
) -> dict[str, str]:
    """Return one case's row: the export row, its consent in full, and every answer as shown.

    ``label`` renders an option's label key, so a choice reads as the button the person
    pressed.
    """
    row = dict(base)
    withdrawn = case.consent.withdrawn_at
    row["consent_withdrawn"] = _timestamp(withdrawn) if withdrawn else ""
    row["consent_wording"] = case.consent.wording or ""
    for step in flow.steps:
        if step.label is None:
            continue
        value = case.answers.get(step.id)
        option = step.option(value) if value is not None else None
        shown = label(option.label) if option else shown_answer(step.validator, value or "")
        row[f"answer.{step.id}"] = shown
    return row


def to_table_csv(fields: Sequence[str], rows: Sequence[Sequence[str]]) -> bytes:
    """Write one table as UTF-8 CSV with a BOM for Excel, cells safe from formulas."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(fields)
    for row in rows:
        writer.writerow([_safe_cell(f, v) for f, v in zip(fields, row, strict=True)])
    return buffer.getvalue().encode("utf-8-sig")


def to_document_json(tables: dict[str, tuple[Sequence[str], Sequence[Sequence[str]]]]) -> bytes:
    """Write tables as one JSON document: for each, its fields and its rows as objects."""
    document = {
        name: {"fields": list(fields), "rows": [dict(zip(fields, r, strict=True)) for r in rows]}
        for name, (fields, rows) in tables.items()
    }
    return (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def to_workbook(tables: dict[str, tuple[Sequence[str], Sequence[Sequence[str]]]]) -> bytes:
    """Write tables as an XLSX workbook, one sheet each, every cell as text."""
    book = Workbook(write_only=True)
    for name, (fields, rows) in tables.items():
        sheet = book.create_sheet(title=name.capitalize())
        for values in (fields, *rows):
            cells = []
            for value in values:
                cell = WriteOnlyCell(sheet, value=value)
                cell.data_type = "s"  # never a formula, whatever it starts with
                cells.append(cell)
            sheet.append(cells)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
