"""Migration 9 fills the working day's columns of cases stored before it, in London dates."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.storage.sqlite.database import SqliteStore, migrations, statements

CASE = (
    '{"reference":"SOT-%s","user_id":1,"chat_id":1,"created_at":"%s","updated_at":"%s",'
    '"status":"%s","flow_id":"intake","flow_version":1,"category":"housing",'
    '"constituency_code":"E14001520","constituency_name":"Stoke-on-Trent Central",'
    '"answers":{},"attachments":[],"consent":{"version":"v1","answer":"yes",'
    '"recorded_at":"%s"},"urgency":{"urgent":false,"reasons":[]}}'
)


def write_schema_5(path: Path, cases: list[tuple[str, str, str]]) -> None:
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
            " applied_at TEXT NOT NULL)"
        )
        for number, name, script in migrations():
            if number > 5:
                continue
            for statement in statements(script):
                db.execute(statement)
            db.execute("INSERT INTO schema_migrations VALUES (?, ?, 'then')", (number, name))
        for number, (reference, created, status) in enumerate(cases, start=1):
            data = CASE % (reference, created, created, status, created)
            db.execute(
                "INSERT INTO cases (id, reference, user_id, chat_id, status, category, urgent,"
                " created_at, updated_at, data, is_open) VALUES (?, ?, 1, 1, ?, 'housing', 0,"
                " ?, ?, ?, ?)",
                (number, f"SOT-{reference}", status, created, created, data, int(status == "new")),
            )
        db.execute(
            "INSERT INTO case_messages (case_id, at, kind, author, text)"
            " VALUES (1, '2026-07-02T09:00:00+00:00', 'to_constituent', 9001, 'Hello')"
        )


async def test_old_cases_get_london_dates_a_first_reply_and_a_close(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    write_schema_5(
        path,
        [
            ("SUMMER", "2026-07-01T23:30:00+00:00", "new"),  # 00:30 on 2 July in London
            ("WINTER", "2026-12-01T23:30:00+00:00", "closed"),  # still 1 December
            ("SPRING", "2026-03-28T23:30:00+00:00", "new"),  # before the clocks go forward
            ("AUTUMN", "2026-10-24T23:30:00+00:00", "new"),  # 00:30 BST on the 25th
            ("GMT", "2026-10-25T23:30:00+00:00", "new"),  # after they go back: the 25th
        ],
    )
    store = await SqliteStore.open(path)
    await store.close()
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "SELECT reference, received_on, first_reply_at, first_reply_on, closed_at"
            " FROM cases ORDER BY id"
        ).fetchall()
        data = db.execute("SELECT json_extract(data, '$.first_reply_at') FROM cases WHERE id = 1")
        first_in_data = data.fetchone()[0]
    assert rows == [
        ("SOT-SUMMER", "2026-07-02", "2026-07-02T09:00:00+00:00", "2026-07-02", None),
        ("SOT-WINTER", "2026-12-01", None, None, "2026-12-01T23:30:00+00:00"),
        ("SOT-SPRING", "2026-03-28", None, None, None),
        ("SOT-AUTUMN", "2026-10-25", None, None, None),
        ("SOT-GMT", "2026-10-25", None, None, None),
    ]
    assert first_in_data == "2026-07-02T09:00:00+00:00"
