"""The operator's commands besides running: check, back up, restore, migrate, translations."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.core.flow import FlowError
from bot.office import Office
from bot.settings import Settings
from bot.storage.lock import exclusive
from bot.storage.store import StoreError
from bot.translations import export_po, import_po
from bot.wiring import backup_store, describe_store, migrate_store, restore_store, store_problem


def check(office: Office) -> int:
    """Report an office whose settings, flow, texts and database path are all usable."""
    settings = office.settings
    path = settings.database_path
    problem = store_problem(path)
    if problem is not None:
        raise StoreError(problem)
    held = describe_store(path)
    database = f"{held.cases:,} cases" if held else "not created yet"
    mode = f"webhook at {settings.webhook_url}" if settings.webhook_url else "long polling"
    print(
        f"OK: {office.constituency.name} ({office.constituency.code}); flow"
        f" {office.flow.id!r} v{office.flow.version}, {len(office.flow.steps)} steps;"
        f" {len(list(office.catalogue.keys()))} texts from {settings.flows_dir};"
        f" database {path} ({database}); {mode}."
    )
    return 0


def translations(action: str, language: str, path: Path, flows: Path) -> int:
    """Export a language's texts to a .po file, or import a translated one (checked first)."""
    locales = flows / "locales"
    if action == "export":
        try:
            done = export_po(locales, language, path)
        except OSError as exc:
            raise FlowError(f"{path}: cannot be written: {exc.strerror}") from exc
        print(
            f"Wrote {done.texts:,} texts to {path} ({done.untranslated:,} without a"
            f" {language} translation yet)."
        )
        return 0
    if not path.is_file():
        raise FlowError(f"{path}: no such file")
    taken = import_po(locales, language, path)
    print(f"Took {taken:,} {language} texts from {path} into {locales / language}; all checked.")
    return 0


def backup(settings: Settings, target: Path) -> int:
    """Back up the database (the bot may be running) to ``target``, a new file or a folder."""
    copy = backup_store(settings.database_path, target)
    print(
        f"Backed up {settings.database_path} to {copy.path}: {copy.cases:,} cases,"
        f" {copy.drafts:,} unsent drafts, {copy.size / 1024:,.0f} KiB, integrity checked."
    )
    return 0


def restore(settings: Settings, copy: Path) -> int:
    """Replace the database with a backup; refused while a bot uses it."""
    path = settings.database_path
    with exclusive(path):
        restored, aside = restore_store(copy, path)
    kept = f"; the database it replaced is kept as {aside}" if aside else ""
    print(f"Restored {copy} to {path}: {restored.cases:,} cases{kept}.")
    return 0


def migrate(settings: Settings) -> int:
    """Bring the database's schema up to date, and say what was applied."""
    path = settings.database_path
    with exclusive(path):
        applied = asyncio.run(migrate_store(path))
    done = ", ".join(map(str, applied)) if applied else "none, it is up to date"
    print(f"Database {path}: migrations applied: {done}.")
    return 0
