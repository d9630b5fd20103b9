"""Translators' .po files: exported with every text and plural form, imported only when sound."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from babel.messages.pofile import read_po, write_po

from bot.__main__ import main
from bot.core.flow import FlowError
from bot.core.languages import plural_category
from bot.loading import FLOWS_DIR, constituent_keys, load_catalogue, load_translation
from bot.translations import export_po, import_po, plural_order


@pytest.fixture
def flows(tmp_path: Path) -> Path:
    """Return a copy of the shipped flows, to translate."""
    folder = tmp_path / "flows"
    shutil.copytree(FLOWS_DIR, folder)
    return folder


def test_the_plural_forms_are_in_gettext_order() -> None:
    assert plural_order("cy") == ("zero", "one", "two", "few", "many", "other")
    assert plural_order("en") == ("one", "other")
    assert plural_order("pl") == ("one", "few", "many")
    # Each gettext index of Welsh names the category of the numbers Babel maps to it.
    assert [plural_category("cy", n) for n in (0, 1, 2, 3, 6, 5)] == list(plural_order("cy"))


def test_export_has_every_constituent_text_with_its_welsh(flows: Path, tmp_path: Path) -> None:
    target = tmp_path / "cy.po"
    done = export_po(flows / "locales", "cy", target)
    with target.open("rb") as file:
        catalog = read_po(file)
    assert catalog.plural_forms.startswith("nplurals=6;")
    by_key = {m.context: m for m in catalog if m.context}
    assert set(by_key) == constituent_keys(flows / "locales")
    assert done.texts == len(by_key)
    assert done.untranslated == 0
    assert by_key["question.address"].id == "What is your address?"
    assert by_key["question.address"].string == "Beth yw eich cyfeiriad?"
    day = by_key["duration.day"]
    assert day.id == ("{count} day", "{count} days")
    assert isinstance(day.string, tuple)
    assert day.string[2] == "{count} ddiwrnod"
    assert "card.body" not in by_key  # staff texts stay in the office's language


def test_a_translators_changes_come_back_into_the_yaml(flows: Path, tmp_path: Path) -> None:
    target = tmp_path / "cy.po"
    export_po(flows / "locales", "cy", target)
    with target.open("rb") as file:
        catalog = read_po(file)
    for message in catalog:
        if message.context == "question.address":
            message.string = "Beth yw'ch cyfeiriad chi?"
    with target.open("wb") as file:
        write_po(file, catalog)
    assert import_po(flows / "locales", "cy", target) > 300
    english = load_catalogue(flows / "locales")
    welsh = load_translation(flows / "locales", "cy", english)
    assert welsh.raw("question.address") == "Beth yw'ch cyfeiriad chi?"
    assert welsh.raw("question.consent") == load_translation(
        FLOWS_DIR / "locales", "cy", load_catalogue(FLOWS_DIR / "locales")
    ).raw("question.consent")
    assert welsh.plural_forms("duration.day") == {
        "zero": "{count} diwrnod",
        "one": "{count} diwrnod",
        "two": "{count} ddiwrnod",
        "few": "{count} diwrnod",
        "many": "{count} diwrnod",
        "other": "{count} diwrnod",
    }
    first = (flows / "locales" / "cy" / "intake.yaml").read_text("utf-8").splitlines()[0]
    assert first == "# Welsh (Cymraeg) texts. Status: needs review by a Welsh speaker."


def test_an_import_with_a_broken_placeholder_changes_nothing(flows: Path, tmp_path: Path) -> None:
    target = tmp_path / "cy.po"
    export_po(flows / "locales", "cy", target)
    with target.open("rb") as file:
        catalog = read_po(file)
    for message in catalog:
        if message.context == "confirmation.sent":
            message.string = str(message.string).replace("{reference}", "{cyfeirnod}")
    with target.open("wb") as file:
        write_po(file, catalog)
    before = (flows / "locales" / "cy" / "bot.yaml").read_text("utf-8")
    with pytest.raises(FlowError, match=r"confirmation\.sent"):
        import_po(flows / "locales", "cy", target)
    assert (flows / "locales" / "cy" / "bot.yaml").read_text("utf-8") == before


def test_a_new_language_starts_from_an_empty_po(flows: Path, tmp_path: Path) -> None:
    target = tmp_path / "pl.po"
    done = export_po(flows / "locales", "pl", target)
    assert done.untranslated == done.texts
    with target.open("rb") as file:
        catalog = read_po(file)
    assert catalog.num_plurals == 3
    # An incomplete translation is refused: a constituent would meet English halfway through.
    for message in catalog:
        if message.context == "question.address":
            message.string = "Jaki jest Twój adres?"
    with target.open("wb") as file:
        write_po(file, catalog)
    with pytest.raises(FlowError, match="no pl text"):
        import_po(flows / "locales", "pl", target)
    assert not (flows / "locales" / "pl").exists()


def test_the_command_line_exports_and_imports(
    flows: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "cy.po"
    assert main(["translations", "export", "cy", str(target), "--flows", str(flows)]) == 0
    assert "without a cy translation yet" in capsys.readouterr().out
    assert main(["translations", "import", "cy", str(target), "--flows", str(flows)]) == 0
    assert "all checked" in capsys.readouterr().out
    missing = tmp_path / "nowhere" / "cy.po"
    assert main(["translations", "export", "cy", str(missing), "--flows", str(flows)]) == 2
    assert main(["translations", "import", "xx-nonsense", str(target)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2
    assert "cannot be written" in lines[0]
