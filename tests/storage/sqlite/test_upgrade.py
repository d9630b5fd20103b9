"""A database written by the first schema upgrades on start-up without losing data."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

from support.intake import SAM, STAFF_CHAT, Clock, Harness
from support.telegram import FakeUser

from bot.office import Office
from bot.storage.sqlite.database import SqliteStore, migrations, statements

WHEN = datetime(2026, 11, 1, 10, 0, tzinfo=UTC)

# A case and a draft exactly as the first schema's code stored them.
OLD_CASE = (
    '{"reference":"SOT-2TQR7QK","user_id":5555,"chat_id":5555,'
    '"created_at":"2026-11-01T10:00:00Z","updated_at":"2026-11-01T10:00:00Z","status":"new",'
    '"flow_id":"intake","flow_version":1,"category":"housing","constituency_code":"E14001520",'
    '"constituency_name":"Stoke-on-Trent Central","answers":{"full_name":"Old Timer",'
    '"postcode":"ST4 1HH","what_happened":"Damp since June."},"attachments":[],'
    '"consent":{"version":"2026-11-v1","answer":"yes","recorded_at":"2026-11-01T09:59:00Z"},'
    '"deadline":null,"urgency":{"urgent":false,"reasons":[]},"linked_to":null}'
)
OLD_DRAFT = (
    '{"flow_id":"intake","flow_version":1,"step":"postcode","answers":{'
    '"welcome":{"value":"start","extra":{},"answered_at":"2026-11-01T10:00:00Z"},'
    '"for_whom":{"value":"self","extra":{},"answered_at":"2026-11-01T10:00:00Z"},'
    '"full_name":{"value":"Half Way","extra":{},"answered_at":"2026-11-01T10:00:00Z"}},'
    '"attachments":[],"profile":{},"reviewing":false,"confirming_cancel":false,"revision":3,'
    '"started_at":"2026-11-01T10:00:00Z","updated_at":"2026-11-01T10:00:00Z"}'
)


def write_first_schema(path: Path) -> None:
    """Create a database with only migration 1 applied, holding one case and one draft."""
    number, name, script = migrations()[0]
    assert number == 1
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
            " applied_at TEXT NOT NULL)"
        )
        for statement in statements(script):
            db.execute(statement)
        db.execute("INSERT INTO schema_migrations VALUES (1, ?, ?)", (name, WHEN.isoformat()))
        db.execute(
            "INSERT INTO cases (id, reference, user_id, chat_id, status, category, urgent,"
            " created_at, updated_at, data) VALUES (1, 'SOT-2TQR7QK', 5555, 5555, 'new',"
            " 'housing', 0, ?, ?, ?)",
            (WHEN.isoformat(), WHEN.isoformat(), OLD_CASE),
        )
        db.execute(
            "INSERT INTO consents (case_id, version, answer, recorded_at)"
            " VALUES (1, '2026-11-v1', 'yes', ?)",
            (WHEN.isoformat(),),
        )
        db.execute("INSERT INTO drafts VALUES (6666, 6666, ?, ?)", (OLD_DRAFT, WHEN.isoformat()))


def test_the_first_migration_is_the_one_this_test_writes() -> None:
    first = resources.files("bot.storage.sqlite") / "migrations" / "0001_initial.sql"
    assert migrations()[0][2] == first.read_text("utf-8")


async def test_an_old_database_upgrades_and_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    write_first_schema(path)
    database = await SqliteStore.open(path)
    await database.close()
    with sqlite3.connect(path) as db:
        versions = [r[0] for r in db.execute("SELECT version FROM schema_migrations ORDER BY 1")]
        case = db.execute("SELECT reference, is_open, assignee, data FROM cases").fetchone()
        consent = db.execute("SELECT version, answer, withdrawn_at FROM consents").fetchone()
        draft = db.execute("SELECT state FROM drafts").fetchone()
    assert versions == [number for number, _, _ in migrations()]
    assert case[:3] == ("SOT-2TQR7QK", 1, None)
    assert case[3] == OLD_CASE
    assert consent == ("2026-11-v1", "yes", None)
    assert draft == (OLD_DRAFT,)


async def test_the_bot_works_on_an_upgraded_database(office: Office, clock: Clock) -> None:
    write_first_schema(office.settings.database_path)
    clock.now = WHEN + timedelta(days=1)  # the half-way draft is not yet old enough to expire
    async with Harness.running(office, clock) as harness:
        shown = await harness.send(
            harness.updates.group_command(SAM, STAFF_CHAT, "/case", "SOT-2TQR7QK"),
            chat_id=STAFF_CHAT,
        )
        assert any("Old Timer" in text and "Damp since June." in text for text in shown)
        half_way = FakeUser(6666, "Half", "Way")
        texts = await harness.act(half_way, ("command", "/start"))
        assert "carry on" in texts[-1]
        texts = await harness.act(half_way, ("tap", "Carry on"))
        assert "What is your home postcode?" in texts[-1]
