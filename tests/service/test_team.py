"""The staff in the store: seeded from the settings once, changed by office managers, audited."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from support.intake import Clock
from support.services import RecordingTransport, running_services, send_intake

from bot.core.staff import StaffRole
from bot.service.staff import Actor, Caseworker, NotStaffError
from bot.service.team import TeamError
from bot.wiring import Services, build_services, open_store, start_services

STAFF_CHAT = -100777
SAM, PRIYA, OMAR = 9001, 9002, 9003


@pytest.fixture
async def office(
    tmp_path: Path, clock: Clock
) -> AsyncIterator[tuple[Services, RecordingTransport]]:
    async with running_services(
        tmp_path, clock, category_routes="housing:Priya", office_managers="Sam"
    ) as running:
        await start_services(running[0])
        yield running


async def manager(services: Services) -> Caseworker:
    return await services.staff.authorise(Actor(SAM, STAFF_CHAT), "staff")


async def test_the_settings_seed_the_staff_with_roles_and_specialisms(
    office: tuple[Services, RecordingTransport],
) -> None:
    services, _ = office
    staff = services.team.list_staff()
    assert [(m.user_id, m.name, m.role, m.specialisms) for m in staff] == [
        (SAM, "Sam", StaffRole.MANAGER, ()),
        (PRIYA, "Priya", StaffRole.CASEWORKER, ("housing",)),
    ]
    assert (await manager(services)).manager
    priya = await services.staff.authorise(Actor(PRIYA, STAFF_CHAT), "queue")
    assert not priya.manager


async def test_without_office_managers_the_first_listed_manages(
    tmp_path: Path, clock: Clock
) -> None:
    async with running_services(tmp_path, clock) as (services, _):
        await start_services(services)
        assert [m.manager for m in services.team.list_staff()] == [True, False]


async def test_a_caseworker_added_may_act_at_once_and_gets_routed_cases(
    office: tuple[Services, RecordingTransport],
) -> None:
    services, _ = office
    with pytest.raises(NotStaffError):
        await services.staff.authorise(Actor(OMAR, STAFF_CHAT), "queue")
    await services.team.save_member(
        await manager(services), PRIYA, "Priya", specialisms=["benefits"]
    )
    omar = await services.team.save_member(
        await manager(services), OMAR, " Omar ", specialisms=["housing"], may_export=False
    )
    assert omar.name == "Omar"
    who = await services.staff.authorise(Actor(OMAR, STAFF_CHAT), "queue")
    assert who.user_id == OMAR
    # A new housing case now goes to Omar, the housing specialist.
    case = await send_intake(services)
    assert case.assignee == OMAR
    # Omar may not export.
    private = await services.staff.authorise(Actor(OMAR, OMAR), "export")
    done = await services.staff.export(private, "csv", None, str)
    assert done.msg.key == "staff.export_not_allowed"
    assert "data" not in done.extra
    async with services.store.transaction() as tx:
        assert await tx.count_audit("staff_added") == 1
        assert await tx.count_audit("staff_changed") == 1


async def test_a_removed_caseworker_is_refused_at_once_and_still_named_in_history(
    office: tuple[Services, RecordingTransport],
) -> None:
    services, _ = office
    priya = await services.staff.authorise(Actor(PRIYA, STAFF_CHAT), "queue")
    case = await send_intake(services)
    await services.staff.note(priya, case.reference, "Called the council")
    removed = await services.team.remove_member(await manager(services), PRIYA)
    assert removed.name == "Priya"
    with pytest.raises(NotStaffError):
        await services.staff.authorise(Actor(PRIYA, STAFF_CHAT), "queue")
    assert services.staff.staff.name_of(PRIYA) == "Priya"
    assert PRIYA not in services.outbox.staff_ids
    assert PRIYA not in services.guard.exempt
    async with services.store.transaction() as tx:
        assert await tx.count_audit("staff_removed") == 1
    # A restart reads the staff from the store, not the settings.
    store = await open_store(services.office.settings.database_path)
    try:
        again = build_services(services.office, store)
        await start_services(again)
        assert [m.user_id for m in again.team.list_staff()] == [SAM]
        with pytest.raises(NotStaffError):
            await again.staff.authorise(Actor(PRIYA, STAFF_CHAT), "queue")
    finally:
        await store.close()


async def test_only_a_manager_changes_the_staff_and_one_manager_always_stays(
    office: tuple[Services, RecordingTransport],
) -> None:
    services, _ = office
    priya = await services.staff.authorise(Actor(PRIYA, STAFF_CHAT), "staff")
    with pytest.raises(TeamError) as caught:
        await services.team.save_member(priya, OMAR, "Omar")
    assert caught.value.msg.key == "team.managers_only"
    forged = Caseworker(PRIYA, STAFF_CHAT, manager=True)
    with pytest.raises(TeamError):
        await services.team.remove_member(forged, SAM)
    sam = await manager(services)
    with pytest.raises(TeamError) as caught:
        await services.team.remove_member(sam, SAM)
    assert caught.value.msg.key == "team.last_manager"
    with pytest.raises(TeamError) as caught:
        await services.team.save_member(sam, SAM, "Sam", role=StaffRole.CASEWORKER)
    assert caught.value.msg.key == "team.last_manager"
    assert [m.user_id for m in services.team.list_staff()] == [SAM, PRIYA]


@pytest.mark.parametrize(
    ("user_id", "name", "specialisms", "key"),
    [
        (OMAR, "", (), "team.bad_member"),
        (OMAR, "12345", (), "team.bad_member"),
        (0, "Omar", (), "team.bad_member"),
        (OMAR, "x" * 41, (), "team.bad_member"),
        (OMAR, "priya", (), "team.name_taken"),
        (OMAR, "Omar", ("gardening",), "team.unknown_category"),
    ],
)
async def test_a_bad_staff_change_is_refused_and_changes_nothing(
    office: tuple[Services, RecordingTransport],
    user_id: int,
    name: str,
    specialisms: tuple[str, ...],
    key: str,
) -> None:
    services, _ = office
    with pytest.raises(TeamError) as caught:
        await services.team.save_member(
            await manager(services), user_id, name, specialisms=specialisms
        )
    assert caught.value.msg.key == key
    assert [m.user_id for m in services.team.list_staff()] == [SAM, PRIYA]
    async with services.store.transaction() as tx:
        assert await tx.count_audit("staff_added") == 0
