"""Which languages an office offers, and the faults in LANGUAGES that stop it at start-up."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pydantic import ValidationError
from support.intake import make_settings

from bot.core.flow import FlowError
from bot.loading import FLOWS_DIR
from bot.office import SetupError, prepare
from bot.settings import describe_errors


def test_wales_offers_welsh_and_england_does_not(tmp_path: Path) -> None:
    database = tmp_path / "casework.sqlite3"
    assert prepare(make_settings(database, constituency_code="W07000082")).languages == (
        "en",
        "cy",
    )
    assert prepare(make_settings(database)).languages == ("en",)
    assert prepare(make_settings(database, languages="en,cy")).languages == ("en", "cy")
    english_only = make_settings(database, constituency_code="W07000082", languages="en")
    assert prepare(english_only).languages == ("en",)


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("cy,en", "start with en"),
        ("en,cy,cy", "given twice"),
        ("en,Cymraeg", "not a language code"),
    ],
)
def test_a_malformed_languages_setting_is_one_plain_line(
    tmp_path: Path, value: str, said: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        make_settings(tmp_path / "casework.sqlite3", languages=value)
    [line] = describe_errors(caught.value)
    assert line.startswith("Setting LANGUAGES is not valid")
    assert said in line


def test_a_language_without_texts_stops_start_up(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "casework.sqlite3", languages="en,pl")
    with pytest.raises(SetupError, match="no pl texts"):
        prepare(settings)


def test_a_missing_welsh_text_stops_an_office_in_wales(tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    shutil.copytree(FLOWS_DIR, flows)
    path = flows / "locales" / "cy" / "bot.yaml"
    path.write_text(path.read_text("utf-8").replace("button.send:", "button.sned:"), "utf-8")
    welsh = make_settings(tmp_path / "a.sqlite3", constituency_code="W07000082", flows_dir=flows)
    with pytest.raises(FlowError, match="button"):
        prepare(welsh)
    # An office that does not offer Welsh does not need its texts.
    assert prepare(make_settings(tmp_path / "b.sqlite3", flows_dir=flows)).languages == ("en",)


def test_a_language_needs_its_name(tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    shutil.copytree(FLOWS_DIR, flows)
    path = flows / "locales" / "en" / "bot.yaml"
    path.write_text(path.read_text("utf-8").replace("button.language.cy:", "#"), "utf-8")
    welsh = make_settings(tmp_path / "a.sqlite3", constituency_code="W07000082", flows_dir=flows)
    with pytest.raises((SetupError, FlowError), match=r"button\.language\.cy"):
        prepare(welsh)
