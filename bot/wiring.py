"""Build one office's services once, over one store, for any channel to call."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bot.core.datacopy import DataCopy
from bot.core.engine import Intake
from bot.core.flood import FloodLimit
from bot.core.validators import VALIDATORS
from bot.office import Office, random_reference_number, utc_now
from bot.service.guard import Guard
from bot.service.intake import IntakeService
from bot.service.outbox import OutboxWorker
from bot.service.privacy import PrivacyService
from bot.service.staff import StaffService
from bot.storage.sqlite.database import SqliteStore
from bot.storage.store import Store


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
) -> Services:
    """Wire every service of ``office`` over ``store``, with the time and randomness given."""
    staff, rules = office.staff, office.rules
    outbox = OutboxWorker(
        store,
        staff_chat_id=staff.staff_chat_id,
        staff_ids=[m.user_id for m in staff.members],
        clock=clock,
        monotonic=monotonic,
        backoff=delivery_backoff,
        topics=staff.topics,
    )
    engine = Intake(
        office.flow, office.postcodes, office.constituency.code, VALIDATORS, office.params
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
    )
    staff_service = StaffService(
        store,
        staff,
        clock=clock,
        reference_prefix=rules.reference_prefix,
        office_params=office.params,
        on_outbox=outbox.wake,
    )
    flood = rules.flood
    guard = Guard(
        store,
        FloodLimit(flood.messages, flood.seconds, flood.pause_seconds),
        clock,
        monotonic,
        frozenset(m.user_id for m in staff.members),
    )
    copy = DataCopy(office.catalogue, office.flow, office.params)
    privacy = PrivacyService(store, staff, rules.retention, clock, outbox.wake, copy)
    return Services(office, store, intake, staff_service, privacy, guard, outbox)
