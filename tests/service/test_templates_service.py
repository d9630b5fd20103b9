"""Reply templates in the store: seeded once, saved by managers (checked, audited), filled."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from support.intake import Clock
from support.services import RecordingTransport, running_services, send_intake

from bot.core.templates import TemplateError
from bot.service.staff import Caseworker
from bot.storage.store import StoreError
from bot.wiring import Services, build_services, open_store, start_services

STAFF_CHAT = -100777
SAM = 9001
MANAGER = Caseworker(SAM, STAFF_CHAT, manager=True)
CASEWORKER = Caseworker(9002, STAFF_CHAT)


@pytest.fixture
async def office(
    tmp_path: Path, clock: Clock
) -> AsyncIterator[tuple[Services, RecordingTransport]]:
    async with running_services(tmp_path, clock) as running:
        await start_services(running[0])
        yield running


async def test_the_shipped_templates_are_seeded_on_the_first_run_only(
    office: tuple[Services, RecordingTransport],
) -> None:
    services, _ = office
    names = [t.name for t in await services.templates.list_templates()]
    assert names == sorted(services.office.templates)
    assert "written-to-organisation" in names
    assert await services.templates.delete_template(MANAGER, "acknowledged")
    await start_services(services)  # a restart does not bring it back
    assert await services.templates.get_template("acknowledged") is None


async def test_a_manager_saves_a_template_and_it_is_audited(
    office: tuple[Services, RecordingTransport], clock: Clock
) -> None:
    services, _ = office
    saved = await services.templates.save_template(
        MANAGER, "#Chase-DWP", "Dear {first_name}, I have chased {organisation}. {caseworker}"
    )
    assert (saved.name, saved.updated_by, saved.updated_at) == ("chase-dwp", SAM, clock.now)
    again = await services.templates.save_template(MANAGER, "chase-dwp", "Dear {first_name}.")
    assert (await services.templates.get_template("#chase-dwp")) == again
    async with services.store.transaction() as tx:
        assert await tx.count_audit("template_added") == 1
        assert await tx.count_audit("template_changed") == 1


async def test_an_unknown_placeholder_is_refused_naming_it_and_nothing_is_saved(
    office: tuple[Services, RecordingTransport],
) -> None:
    services, _ = office
    with pytest.raises(TemplateError) as caught:
        await services.templates.save_template(MANAGER, "oops", "Dear {firstname},")
    rendered = services.office.catalogue.render(caught.value.msg, lambda text: text)
    assert rendered.startswith("{firstname} is not a placeholder a template can use. Use:")
    assert "{first_name}" in rendered
    assert await services.templates.get_template("oops") is None


async def test_only_an_office_manager_may_change_templates(
    office: tuple[Services, RecordingTransport],
) -> None:
    services, _ = office
    with pytest.raises(TemplateError) as caught:
        await services.templates.save_template(CASEWORKER, "mine", "Hello")
    assert caught.value.msg.key == "template.managers_only"
    with pytest.raises(TemplateError):
        await services.templates.delete_template(CASEWORKER, "acknowledged")
    assert await services.templates.get_template("mine") is None
    assert await services.templates.get_template("acknowledged") is not None


async def test_a_template_is_filled_from_the_case_and_the_caseworker(
    office: tuple[Services, RecordingTransport],
) -> None:
    services, _ = office
    case = await send_intake(services)
    filled = await services.templates.fill(CASEWORKER, case.reference.lower(), "#no-reply-yet")
    assert filled.reference == case.reference
    assert filled.text == (
        f"Dear Ada, Stoke-on-Trent City Council has not answered yet about {case.reference}."
        " I have chased them today and will tell you when they reply. Priya"
    )
    with pytest.raises(TemplateError) as caught:
        await services.templates.fill(CASEWORKER, case.reference, "missing")
    assert caught.value.msg.key == "template.not_found"
    with pytest.raises(TemplateError) as caught:
        await services.templates.fill(CASEWORKER, "SOT-2222222", "no-reply-yet")
    assert caught.value.msg.key == "staff.not_found"


async def test_a_broken_template_in_the_database_stops_start_up_in_one_line(
    tmp_path: Path, clock: Clock
) -> None:
    async with running_services(tmp_path, clock) as (services, _):
        await start_services(services)
        path = services.office.settings.database_path
    with sqlite3.connect(path) as db:
        db.execute("UPDATE reply_templates SET body = 'Dear {name}' WHERE name = 'acknowledged'")
    store = await open_store(path)
    try:
        with pytest.raises(StoreError) as caught:
            await start_services(build_services(services.office, store))
    finally:
        await store.close()
    assert str(caught.value) == (
        "Reply template 'acknowledged' in the database cannot be used: {name} is not a"
        " placeholder a template can use. Use: {first_name}, {reference}, {organisation},"
        " {caseworker}, {mp_name}, {constituency}, {office_phone}, {office_email},"
        " {office_address}."
    )
