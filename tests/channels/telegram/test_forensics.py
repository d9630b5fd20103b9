"""Where the product promises data is gone, no byte of it is left in the database's files.

Each test plays a persona with distinctive answers through the real Application, keeps every
update in the fetched-updates store first (as polling does), takes one deletion path, then
searches the raw bytes of the SQLite file, its -wal and its -shm for every answer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from support.intake import SAM, STAFF_CHAT, Action, Clock, Harness, make_settings, services_of
from support.telegram import FakeUser
from telegram import Update

from bot.office import prepare

NAME = "Zebulon Quarrington-Fitch"
POSTCODE_IN = "ST4 2TP"
POSTCODE_OUT = "ST6 1AA"
ADDRESS = "77 Marigold Crescent, Hanley"
PHONE_TYPED = "07911 123 987"
PHONE_STORED = "+447911123987"
EMAIL = "zebulon.qf@example.org"
ORGANISATION = "Quarrington Lettings Ltd"
STORY = "The landlord at Marigold Crescent turned the heating off in October, xyzzyplugh."
OUTCOME = "Please ask them to restore the heating, frobnicatewell."
PERSONA = (NAME, ADDRESS, PHONE_TYPED, PHONE_STORED, EMAIL, ORGANISATION, STORY, OUTCOME)


def intake(postcode: str, consent: str = "Yes, I give permission") -> list[Action]:
    """Return a whole intake for the persona, up to check-your-answers."""
    return [
        ("command", "/start"),
        ("tap", "Start"),
        ("tap", "It is about me"),
        ("text", NAME),
        ("text", postcode),
        ("text", ADDRESS),
        ("text", PHONE_TYPED),
        ("tap", "Email"),
        ("text", EMAIL),
        ("tap", "Skip this question"),
        ("tap", "Housing"),
        ("text", ORGANISATION),
        ("tap", "Skip this question"),
        ("tap", "Yes"),
        ("text", STORY),
        ("tap", "That is everything"),
        ("text", OUTCOME),
        ("tap", "That is everything"),
        ("tap", "Skip this question"),
        ("tap", "I have no documents"),
        ("tap", consent),
    ]


class Persona:
    """The persona's chat with the bot: every update kept before it is processed."""

    def __init__(self, harness: Harness) -> None:
        self.harness = harness
        self.user = FakeUser(7301, "Zebulon", "Quarrington-Fitch")

    async def send(self, update: Update) -> list[str]:
        """Keep the update as polling does, then process it; return what the bot sent."""
        data = update.to_dict()
        await services_of(self.harness.app).guard.keep([data])
        return await self.harness.send(update, chat_id=self.user.user_id)

    async def play(self, actions: list[Action]) -> list[str]:
        """Play actions in order; return what the bot sent after the last."""
        texts: list[str] = []
        updates = self.harness.updates
        for kind, value in actions:
            if kind == "command":
                update = updates.command(self.user, value)
            elif kind == "tap":
                update = updates.press(self.user, value)
            else:
                update = updates.text(self.user, value)
            texts = await self.send(update)
        return texts

    async def send_case(self, consent: str = "Yes, I give permission") -> str:
        """Send a whole intake; return the case's reference."""
        await self.play([*intake(POSTCODE_IN, consent), ("tap", "Send to the office")])
        [case] = await services_of(self.harness.app).intake.cases_of(self.user.user_id)
        return case.reference

    async def staff(self, command: str, *args: str) -> list[str]:
        """Send a staff command from Sam in the staff group."""
        update = self.harness.updates.group_command(SAM, STAFF_CHAT, command, *args)
        return await self.harness.send(update)


@pytest.fixture
async def persona(tmp_path: Path, clock: Clock) -> AsyncIterator[Persona]:
    """Return the persona's chat with a bot on a fresh database."""
    settings = make_settings(tmp_path / "data" / "casework.sqlite3")
    async with Harness.running(prepare(settings), clock) as harness:
        yield Persona(harness)


def left_behind(database: Path, values: tuple[str, ...] = PERSONA) -> dict[str, list[str]]:
    """Return, for each of the database's files, the persona values found in its bytes."""
    found: dict[str, list[str]] = {}
    for suffix in ("", "-wal", "-shm", "-journal"):
        path = database.with_name(database.name + suffix)
        if not path.exists():
            continue
        data = path.read_bytes()
        hits = [v for v in values if v.encode() in data or v.casefold().encode() in data]
        if hits:
            found[path.name] = hits
    return found


def database_of(persona: Persona) -> Path:
    """Return the path of the persona's bot's database."""
    return services_of(persona.harness.app).office.settings.database_path


async def test_the_checks_see_answers_that_are_kept(persona: Persona) -> None:
    await persona.send_case()
    kept = left_behind(database_of(persona))
    assert set().union(*kept.values()) >= {NAME, ADDRESS, PHONE_STORED, EMAIL, STORY}


async def test_an_out_of_area_intake_leaves_nothing(persona: Persona) -> None:
    asked = await persona.play(intake(POSTCODE_OUT)[:5])
    assert f"Is {POSTCODE_OUT} right?" in "\n".join(asked)
    texts = await persona.play([("tap", "Yes, that is my postcode")])
    assert "we have not kept your details" in "\n".join(texts)
    assert left_behind(database_of(persona), (NAME, POSTCODE_OUT)) == {}


async def test_a_cancelled_intake_leaves_nothing(persona: Persona) -> None:
    await persona.play(intake(POSTCODE_IN)[:17])
    await persona.play([("command", "/cancel"), ("tap", "Yes, delete my answers")])
    assert left_behind(database_of(persona)) == {}


async def test_an_expired_intake_leaves_nothing(persona: Persona) -> None:
    await persona.play(intake(POSTCODE_IN)[:17])
    persona.harness.clock.advance(days=8)
    await services_of(persona.harness.app).privacy.sweep()
    assert left_behind(database_of(persona)) == {}


async def test_a_refused_consent_case_erased_later_leaves_nothing(persona: Persona) -> None:
    reference = await persona.send_case(consent="No")
    await persona.staff("/close", reference, "advice given")
    await persona.play([("command", "/delete"), ("tap", "Yes, delete my information")])
    assert left_behind(database_of(persona)) == {}


async def test_delete_of_a_closed_case_leaves_nothing(persona: Persona) -> None:
    reference = await persona.send_case()
    await persona.staff("/reply", reference, f"We have written to {ORGANISATION}.")
    await persona.play([("text", f"Thank you. {STORY}")])
    await persona.staff("/close", reference, "resolved")
    await persona.play([("command", "/delete"), ("tap", "Yes, delete my information")])
    assert left_behind(database_of(persona)) == {}


async def test_a_staff_erasure_of_an_open_case_leaves_nothing(persona: Persona) -> None:
    reference = await persona.send_case()
    await persona.play([("command", "/delete"), ("tap", "Yes, delete my information")])
    assert left_behind(database_of(persona)) != {}  # an open case waits for the office
    await persona.staff("/erase", reference)
    await persona.harness.send(
        persona.harness.updates.press(SAM, "Erase it now", chat_id=STAFF_CHAT)
    )
    assert left_behind(database_of(persona)) == {}
    told = persona.harness.request.sent_texts(persona.user.user_id)
    assert any("has deleted everything it held" in t for t in told)


async def test_a_retention_deletion_leaves_nothing(persona: Persona) -> None:
    reference = await persona.send_case()
    await persona.staff("/close", reference, "resolved")
    persona.harness.clock.advance(days=365 * 2 + 1)
    await services_of(persona.harness.app).privacy.sweep()
    assert left_behind(database_of(persona)) == {}


# Single words of the persona's, as the search index keeps them (a word at a time).
WORDS = ("xyzzyplugh", "frobnicatewell", "Quarrington", "Marigold", "zebulon")


async def test_an_erased_case_leaves_no_word_of_it_in_the_search_index(persona: Persona) -> None:
    reference = await persona.send_case()
    await persona.staff("/note", reference, "Rang Quarrington about the boiler, plumbwobble")
    await persona.play([("text", "The boiler is still off, wibblesnort.")])
    found = await persona.staff("/search", "xyzzyplugh")
    assert any(reference in text for text in found)
    kept = left_behind(database_of(persona), (*WORDS, "plumbwobble", "wibblesnort"))
    assert set().union(*kept.values()) >= {*WORDS, "plumbwobble", "wibblesnort"}
    await persona.staff("/erase", reference)
    await persona.harness.send(
        persona.harness.updates.press(SAM, "Erase it now", chat_id=STAFF_CHAT)
    )
    assert left_behind(database_of(persona), (*WORDS, "plumbwobble", "wibblesnort")) == {}
    found = await persona.staff("/search", "xyzzyplugh")
    assert found[0].startswith("No case matches.")


async def test_a_retention_deletion_leaves_no_word_in_the_search_index(persona: Persona) -> None:
    reference = await persona.send_case()
    await persona.staff("/close", reference, "resolved")
    persona.harness.clock.advance(days=365 * 2 + 1)
    await services_of(persona.harness.app).privacy.sweep()
    assert left_behind(database_of(persona), WORDS) == {}
