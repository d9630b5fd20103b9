"""Build one office's services once, over one store, for any channel to call."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bot.core.catalogue import fills_in
from bot.core.datacopy import DataCopy
from bot.core.engine import Intake
from bot.core.flood import FloodLimit
from bot.core.roles import CATEGORY
from bot.core.staff import StaffDirectory
from bot.core.validators import VALIDATORS
from bot.core.workdays import working_days
from bot.office import Office, random_reference_number, utc_now
from bot.service.desk import DeskService
from bot.service.digest import DigestService
from bot.service.guard import Guard
from bot.service.intake import IntakeService
from bot.service.outbox import OutboxWorker
from bot.service.privacy import PrivacyService
from bot.service.staff import StaffService
from bot.service.stats import StatsService
from bot.service.taken import TakenCaseService
from bot.service.team import TeamService
from bot.service.templates import TemplateService
from bot.storage.sqlite.backup import Copy, backup, inspect, restore
from bot.storage.sqlite.database import SqliteStore
from bot.storage.sqlite.health import path_problem
from bot.storage.store import Store, StoreError


@dataclass(frozen=True, slots=True)
class Services:
    """Everything one running office does, whatever the channel that asks."""

    office: Office
    store: Store
    intake: IntakeService
    staff: StaffService
    privacy: PrivacyService
    guard: Guard
    outbox: OutboxWorker
    digest: DigestService
    templates: TemplateService
    team: TeamService
    taken: TakenCaseService
    stats: StatsService
    desk: DeskService


async def open_store(path: Path) -> Store:
    """Open the office's store: the embedded SQLite database at ``path``."""
    return await SqliteStore.open(path)


def build_services(
    office: Office,
    store: Store,
    clock: Callable[[], datetime] = utc_now,
    random_number: Callable[[], int] = random_reference_number,
    *,
    monotonic: Callable[[], float] = time.monotonic,
    delivery_backoff: float = 2.0,
    desk_url: str = "http://127.0.0.1:8080",
) -> Services:
    """Wire every service of ``office`` over ``store``, with the time and randomness given."""
    # Each running office keeps its own directory, changed in place as the staff change;
    # the office's own stays as the settings give it, to seed a new store from.
    staff = StaffDirectory(
        office.staff.members, office.staff.staff_chat_id, topics=office.staff.topics
    )
    rules = office.rules
    # The bank holiday calendar takes a moment to make: made now, not as the first case is sent.
    working_days(rules.nation)
    outbox = OutboxWorker(
        store,
        staff_chat_id=staff.staff_chat_id,
        staff_ids=[m.user_id for m in staff.members],
        clock=clock,
        monotonic=monotonic,
        backoff=delivery_backoff,
        topics=staff.topics,
    )
    # Option labels as the person reads them, so a typed "benefits" picks its button.
    labels = {
        option.label: " ".join(found.raw(option.label) for found in office.catalogues.values())
        or office.catalogue.raw(option.label)
        for step in office.flow.steps
        for option in step.options
    }
    engine = Intake(
        office.flow,
        office.postcodes,
        office.constituency.code,
        VALIDATORS,
        office.params,
        labels,
        fills=fills_in(office.catalogues.values() or [office.catalogue]),
    )
    intake = IntakeService(
        store,
        engine,
        staff,
        rules,
        office.catalogue,
        clock=clock,
        random_number=random_number,
        on_outbox=outbox.wake,
        languages=office.languages,
        consent_texts=office.catalogues,
        outbox_turn=outbox.turn,
    )
    flood = rules.flood
    guard = Guard(
        store,
        FloodLimit(flood.messages, flood.seconds, flood.pause_seconds),
        clock,
        monotonic,
        frozenset(m.user_id for m in staff.members),
    )
    staff_service = StaffService(
        store,
        staff,
        clock=clock,
        reference_prefix=rules.reference_prefix,
        office_params=office.params,
        on_outbox=outbox.wake,
        on_block=guard.note_block,
    )
    copy = DataCopy(office.catalogue, office.flow, office.params)
    copies = {
        code: DataCopy(texts, office.flow, office.params)
        for code, texts in office.catalogues.items()
    }
    privacy = PrivacyService(
        store, staff, rules.retention, clock, outbox.wake, copy, office.params, copies
    )
    digest = DigestService(store, staff, office.flow, clock=clock, on_outbox=outbox.wake)
    templates = TemplateService(
        store,
        staff,
        office.catalogue,
        clock=clock,
        reference_prefix=rules.reference_prefix,
        office_params=office.params,
        seed=office.templates,
    )

    def staff_changed() -> None:
        # Who the outbox tells of failures and who the flood limit spares follow the staff.
        ids = [m.user_id for m in staff.members]
        outbox.staff_ids = tuple(ids)
        guard.exempt = frozenset(ids)

    categories = [o.value for o in office.flow.step(CATEGORY).options]
    team = TeamService(store, staff, categories, clock=clock, on_change=staff_changed)
    taken = TakenCaseService(store, intake, clock=clock, on_outbox=outbox.wake)
    desk = DeskService(
        store,
        staff_service,
        clock=clock,
        public_url=desk_url,
        flow=office.flow,
        catalogue=office.catalogue,
    )
    return Services(
        office,
        store,
        intake,
        staff_service,
        privacy,
        guard,
        outbox,
        digest,
        templates,
        team,
        taken,
        StatsService(store, staff, office.flow, office.catalogue, clock=clock),
        desk,
    )


async def start_services(services: Services) -> None:
    """Bring the store's office data up to date before any channel serves (StoreError if not).

    The staff and the reply templates are seeded on the first run (then read from the
    store), and every stored template is checked.
    """
    await services.team.start()
    await services.templates.start()


def store_problem(path: Path) -> str | None:
    """Return what stops ``path`` from being the office's database, without touching it."""
    problem = path_problem(path)
    if problem is None and path.is_file() and path.stat().st_size > 0:
        try:
            inspect(path, f"DATABASE_PATH {path}")
        except StoreError as exc:
            return str(exc)
    return problem


def backup_store(path: Path, target: Path) -> Copy:
    """Copy the office's database to ``target`` while it may be in use; check the copy."""
    return backup(path, target)


def restore_store(copy: Path, path: Path) -> tuple[Copy, Path | None]:
    """Put the backup ``copy`` in place of the database at ``path`` (the bot stopped)."""
    return restore(copy, path)


def describe_store(path: Path) -> Copy | None:
    """Return what the database at ``path`` holds, or None if it does not exist yet."""
    return inspect(path) if path.is_file() and path.stat().st_size > 0 else None


async def migrate_store(path: Path) -> list[int]:
    """Open the office's database, applying any migration it lacks; return those applied."""
    store = await SqliteStore.open(path, watch_every=None)
    await store.close()
    return store.applied
