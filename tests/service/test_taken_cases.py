"""Cases taken by phone, email or in person: the bot's own flow, checks and references."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
from support.intake import Clock
from support.services import RecordingTransport, running_services

from bot.core.case import CaseChannel, QueueFilter
from bot.core.references import parse_reference
from bot.core.taken import OutOfArea, Problem
from bot.service.staff import Actor, Caseworker
from bot.service.taken import Taken
from bot.wiring import Services, start_services

STAFF_CHAT = -100777
SAM = 9001

PHONED: dict[str, str] = {
    "for_whom": "self",
    "full_name": "Olwen Pritchard",
    "postcode": "st4 1hh",
    "address": "3 Example Lane, Stoke-on-Trent",
    "phone": "07911 123456",
    "contact_by": "phone",
    "category": "benefits",
    "organisation": "DWP",
    "contacted_them": "yes",
    "what_happened": "My PIP payments stopped in October without a letter.",
    "desired_outcome": "Ask DWP why and get them started again.",
    "consent": "yes",
}


@pytest.fixture
async def office(
    tmp_path: Path, clock: Clock
) -> AsyncIterator[tuple[Services, RecordingTransport]]:
    async with running_services(tmp_path, clock) as running:
        await start_services(running[0])
        yield running


async def sam(services: Services) -> Caseworker:
    return await services.staff.authorise(Actor(SAM, STAFF_CHAT), "take")


async def test_a_phoned_case_is_made_and_its_card_reaches_the_staff_group(
    office: tuple[Services, RecordingTransport], clock: Clock
) -> None:
    services, recorder = office
    result = await services.taken.take_case(
        await sam(services), CaseChannel.PHONE, PHONED, consent_how="Read the wording; she said yes"
    )
    assert isinstance(result, Taken)
    case = result.case
    assert parse_reference(case.reference, "SOT") == case.reference
    assert case.channel is CaseChannel.PHONE
    assert case.answers["phone"] == "+447911123456"  # the phone validator's form
    assert case.answers["postcode"] == "ST4 1HH"
    assert case.constituency_name == "Stoke-on-Trent Central"
    assert case.reply_by == date(2026, 12, 7)
    consent = case.consent
    assert (consent.answer, consent.given_via, consent.recorded_by) == ("yes", "phone", SAM)
    assert consent.how == "Read the wording; she said yes"
    assert consent.wording == services.taken.consent_wording()
    assert consent.wording
    assert "permission" in consent.wording.casefold()
    await services.outbox.drain(seconds=5)
    assert recorder.cards == [(STAFF_CHAT, case.reference)]
    # Nothing is owed to a chat that does not exist.
    assert [chat for chat, _ in recorder.messages if chat == 0] == []
    async with services.store.transaction() as tx:
        history = await tx.list_audit(case.reference)
    assert [(e.actor, e.action, e.detail) for e in history] == [
        (SAM, "created", "category=benefits urgent=no channel=phone")
    ]
    page = await services.staff.queue(await sam(services), QueueFilter.ALL)
    assert [row.reference for row in page.rows] == [case.reference]


async def test_an_out_of_area_postcode_is_refused_and_nothing_is_kept(
    office: tuple[Services, RecordingTransport],
) -> None:
    services, recorder = office
    answers = {**PHONED, "postcode": "ST6 1HH", "full_name": "Elsewhere Person"}
    result = await services.taken.take_case(
        await sam(services), CaseChannel.IN_PERSON, answers, consent_how="At the surgery"
    )
    assert isinstance(result, OutOfArea)
    assert result.msg.key == "postcode.other_constituency"
    assert result.msg.params["constituency"] == "Stoke-on-Trent North"
    await services.outbox.drain(seconds=5)
    assert recorder.cards == []
    path = services.office.settings.database_path
    await services.store.scrub()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM cases").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM drafts").fetchone() == (0,)
        counts = db.execute("SELECT outcome, count FROM intake_counts").fetchall()
    assert counts == [("out_of_area", 1)]
    for file in (path, path.with_name(path.name + "-wal")):
        if file.exists():
            assert b"Elsewhere Person" not in file.read_bytes()


@pytest.mark.parametrize(
    ("change", "step", "key"),
    [
        ({"postcode": "not a postcode"}, "postcode", "postcode.invalid_format"),
        ({"phone": "12"}, "phone", None),
        ({"email": "nope"}, "email", None),
        ({"category": "gardening"}, "category", None),
        ({"full_name": ""}, "full_name", "desk.missing"),
        ({"consent": ""}, "consent", "desk.missing"),
        ({"postcode": "ST4 IHH"}, "postcode", "postcode.did_you_mean"),
    ],
)
async def test_a_bad_or_missing_answer_names_its_step_and_keeps_nothing(
    office: tuple[Services, RecordingTransport],
    change: dict[str, str],
    step: str,
    key: str | None,
) -> None:
    services, _ = office
    answers = {**PHONED, **change}
    result = await services.taken.take_case(
        await sam(services), CaseChannel.EMAIL, answers, consent_how="By email, 1 December"
    )
    assert isinstance(result, Problem)
    assert result.step == step
    if key is not None:
        assert result.msg.key == key
    async with services.store.transaction() as tx:
        assert (await tx.list_queue(QueueFilter.ALL))[1] == 0


async def test_how_consent_was_given_must_be_recorded(
    office: tuple[Services, RecordingTransport],
) -> None:
    services, _ = office
    result = await services.taken.take_case(
        await sam(services), CaseChannel.PHONE, PHONED, consent_how="  "
    )
    assert isinstance(result, Problem)
    assert (result.step, result.msg.key) == ("consent", "desk.consent_how")
    async with services.store.transaction() as tx:
        assert (await tx.list_queue(QueueFilter.ALL))[1] == 0


async def test_a_reply_to_a_phoned_case_is_not_sent_through_the_bot(
    office: tuple[Services, RecordingTransport],
) -> None:
    services, _recorder = office
    who = await sam(services)
    result = await services.taken.take_case(who, CaseChannel.PHONE, PHONED, consent_how="Phone")
    assert isinstance(result, Taken)
    done = await services.staff.reply(who, result.case.reference, "We have written to DWP.")
    assert done.msg.key == "staff.reply_offline"
    async with services.store.transaction() as tx:
        stored = await tx.get_case(result.case.reference)
        assert stored is not None
        assert await tx.list_messages(stored.id) == []
