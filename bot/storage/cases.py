"""Sent cases and their consent records."""

from __future__ import annotations

import sqlite3

from bot.core.case import Case
from bot.storage.database import Connection


class DuplicateReferenceError(Exception):
    """The reference is already taken; make another and try again."""


async def create_case(db: Connection, case: Case) -> int:
    """Store a new case with its consent record; return its row id."""
    try:
        cursor = await db.execute(
            "INSERT INTO cases (reference, user_id, chat_id, status, category, urgent,"
            " created_at, updated_at, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                case.reference,
                case.user_id,
                case.chat_id,
                case.status.value,
                case.category,
                int(case.urgency.urgent),
                case.created_at.isoformat(),
                case.updated_at.isoformat(),
                case.model_dump_json(),
            ),
        )
    except sqlite3.IntegrityError as exc:
        if "cases.reference" in str(exc):
            raise DuplicateReferenceError(case.reference) from exc
        raise
    case_id = cursor.lastrowid
    assert case_id is not None
    await db.execute(
        "INSERT INTO consents (case_id, version, answer, recorded_at) VALUES (?, ?, ?, ?)",
        (
            case_id,
            case.consent.version,
            case.consent.answer,
            case.consent.recorded_at.isoformat(),
        ),
    )
    return case_id


async def get_case(db: Connection, reference: str) -> Case | None:
    """Return the case with ``reference``, if there is one."""
    async with db.execute("SELECT data FROM cases WHERE reference = ?", (reference,)) as cursor:
        row = await cursor.fetchone()
    return None if row is None else Case.model_validate_json(row[0])


async def list_cases_for_user(db: Connection, user_id: int) -> list[Case]:
    """Return a constituent's own cases, oldest first."""
    async with db.execute(
        "SELECT data FROM cases WHERE user_id = ? ORDER BY created_at, id", (user_id,)
    ) as cursor:
        return [Case.model_validate_json(row[0]) async for row in cursor]
