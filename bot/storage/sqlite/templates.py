"""Reply templates: the office's standard replies by name."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from datetime import datetime

from bot.core.templates import ReplyTemplate
from bot.storage.sqlite.rows import Connection, all_rows, first_row

_SELECT = "SELECT name, body, updated_at, updated_by FROM reply_templates"


def _template(row: sqlite3.Row) -> ReplyTemplate:
    at = datetime.fromisoformat(row[2]) if row[2] else None
    return ReplyTemplate(row[0], row[1], at, row[3])


class TemplateRows:
    """Reply templates."""

    db: Connection

    async def seed_templates(self, templates: Mapping[str, str]) -> int:
        """Store ``templates`` if none were ever seeded; return how many were stored."""
        cursor = await self.db.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('templates_seeded', 'yes')"
        )
        if cursor.rowcount != 1:
            return 0
        await self.db.executemany(
            "INSERT OR IGNORE INTO reply_templates (name, body) VALUES (?, ?)",
            list(templates.items()),
        )
        return len(templates)

    async def list_templates(self) -> list[ReplyTemplate]:
        """Return every template, by name."""
        return [_template(r) for r in await all_rows(self.db, f"{_SELECT} ORDER BY name")]

    async def get_template(self, name: str) -> ReplyTemplate | None:
        """Return the template called ``name``, if there is one."""
        row = await first_row(self.db, f"{_SELECT} WHERE name = ?", (name,))
        return None if row is None else _template(row)

    async def save_template(self, template: ReplyTemplate) -> None:
        """Store a template, replacing the one of the same name."""
        at = template.updated_at.isoformat() if template.updated_at else None
        await self.db.execute(
            "INSERT INTO reply_templates (name, body, updated_at, updated_by) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (name) DO UPDATE SET body = excluded.body,"
            " updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            (template.name, template.body, at, template.updated_by),
        )

    async def delete_template(self, name: str) -> bool:
        """Delete the template called ``name``; return False if there was none."""
        cursor = await self.db.execute("DELETE FROM reply_templates WHERE name = ?", (name,))
        return cursor.rowcount == 1
