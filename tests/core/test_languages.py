"""Welsh as people type it (dates, yes and no), plural forms, and translations checked at load."""

from __future__ import annotations

import re
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.core.catalogue import Msg
from bot.core.dates import date_parts, dates_in_language, long_date, real_date
from bot.core.flow import FlowError
from bot.core.languages import (
    offered_by_default,
    plural_category,
    welsh_long_date,
    welsh_month_number,
    welsh_ordinal,
    yes_or_no,
)
from bot.core.rules import spell_duration
from bot.core.validators import (
    Accepted,
    Rejected,
    ValidationContext,
    validate_date_of_birth,
    validate_deadline_date,
)
from bot.loading import FLOWS_DIR, load_catalogue, load_translation

TODAY = date(2026, 11, 23)
LOCALES = FLOWS_DIR / "locales"


def context() -> ValidationContext:
    """Return a validation context for today."""
    return ValidationContext(today=TODAY)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("14 Mawrth 1982", date(1982, 3, 14)),
        ("14eg Mawrth 1982", date(1982, 3, 14)),
        ("1af Ionawr 1990", date(1990, 1, 1)),
        ("2il Chwefror 1990", date(1990, 2, 2)),
        ("3ydd Ebrill 1990", date(1990, 4, 3)),
        ("5ed Mai 1990", date(1990, 5, 5)),
        ("7fed o Fehefin 1990", date(1990, 6, 7)),
        ("dydd Mawrth 11eg o Orffennaf 2000", date(2000, 7, 11)),
        ("12fed Awst 1975", date(1975, 8, 12)),
        ("22ain Medi 1975", date(1975, 9, 22)),
        ("9 Hydref 75", date(1975, 10, 9)),
        ("30 Tachwedd 1960", date(1960, 11, 30)),
        ("25 Rhagfyr 1960", date(1960, 12, 25)),
        ("25 Ragfyr 1960", date(1960, 12, 25)),
        ("8 Fedi 1960", date(1960, 9, 8)),
        ("8 Dachwedd 1960", date(1960, 11, 8)),
        ("14 March 1982", date(1982, 3, 14)),
    ],
)
def test_welsh_dates_of_birth_are_read(typed: str, meant: date) -> None:
    parts = date_parts(typed)
    assert parts is not None, typed
    assert real_date(parts, TODAY, past=True) == meant
    assert validate_date_of_birth(typed, context()) == Accepted(meant.isoformat())


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("14eg Mawrth", date(2027, 3, 14)),
        ("14 Mawrth", date(2027, 3, 14)),
        ("30 Tachwedd", date(2026, 11, 30)),
        ("23 Tachwedd", date(2026, 11, 23)),
        ("1af o Ragfyr 2026", date(2026, 12, 1)),
    ],
)
def test_a_deadline_without_a_year_is_the_next_such_day(typed: str, meant: date) -> None:
    assert validate_deadline_date(typed, context()) == Accepted(meant.isoformat())


def test_a_date_of_birth_needs_its_year() -> None:
    assert validate_date_of_birth("14eg Mawrth", context()) == Rejected(
        "error.date_of_birth.format"
    )


def test_what_is_not_a_welsh_month_is_not_read_as_one() -> None:
    assert welsh_month_number("dydd") is None
    assert welsh_month_number("ma") is None
    assert date_parts("14 Ffrwythau 1982") is None


def test_welsh_ordinals_and_long_dates() -> None:
    expected = "1af 2il 3ydd 4ydd 5ed 6ed 7fed 8fed 9fed 10fed 11eg 12fed 13eg 14eg"
    assert " ".join(welsh_ordinal(n) for n in range(1, 15)) == expected
    assert welsh_ordinal(21) == "21ain"
    assert welsh_long_date(date(1982, 3, 14)) == "14 Mawrth 1982"
    assert long_date(date(1982, 3, 14), "cy") == "14 Mawrth 1982"
    assert long_date(date(1982, 3, 14)) == "14 March 1982"
    assert dates_in_language("1 May 2026", "cy") == "1 Mai 2026"
    assert dates_in_language("23 November 2026, 09:30", "cy") == "23 Tachwedd 2026, 09:30"
    assert dates_in_language("1 May 2026", "en") == "1 May 2026"
    assert dates_in_language("23 Nov 2026 09:30", "cy") == "23 Tach 2026 09:30"
    # What a person wrote is theirs, even with a date in it.
    assert dates_in_language("since 1 May 2026", "cy") == "since 1 May 2026"


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("ie", "yes"),
        ("iawn", "yes"),
        ("do", "yes"),
        ("oes", "yes"),
        ("ydw", "yes"),
        ("ydy", "yes"),
        ("yes", "yes"),
        ("na", "no"),
        ("nage", "no"),
        ("naddo", "no"),
        ("nac oes", "no"),
        ("nac ydw", "no"),
        ("no", "no"),
        ("dwi ddim yn siŵr", None),
    ],
)
def test_welsh_yes_and_no(typed: str, said: str | None) -> None:
    assert yes_or_no(typed.split()) == said


def test_welsh_is_offered_in_wales_only_by_default() -> None:
    assert offered_by_default("W07000082") == ("en", "cy")
    assert offered_by_default("E14001520") == ("en",)


def test_welsh_has_six_plural_forms() -> None:
    forms = {n: plural_category("cy", n) for n in (0, 1, 2, 3, 4, 6, 7)}
    assert forms == {
        0: "zero",
        1: "one",
        2: "two",
        3: "few",
        4: "other",
        6: "many",
        7: "other",
    }
    assert {plural_category("en", n) for n in (0, 1, 2)} == {"one", "other"}


def test_durations_take_the_plural_forms_of_each_language() -> None:
    english = load_catalogue(LOCALES)
    welsh = load_translation(LOCALES, "cy", english)
    assert spell_duration(timedelta(days=1), english) == "1 day"
    assert spell_duration(timedelta(days=2), english) == "2 days"
    assert spell_duration(timedelta(days=1), welsh) == "1 diwrnod"
    assert spell_duration(timedelta(days=2), welsh) == "2 ddiwrnod"
    assert spell_duration(timedelta(days=7), welsh) == "7 diwrnod"
    assert spell_duration(timedelta(minutes=2), welsh) == "2 funud"
    assert welsh.render(Msg("duration.hour", {"count": "3"}), str) == "3 awr"


def copy_locales(tmp_path: Path) -> Path:
    """Return a copy of the shipped texts, to break."""
    folder = tmp_path / "locales"
    shutil.copytree(LOCALES, folder)
    return folder


def test_a_missing_welsh_text_fails_at_load(tmp_path: Path) -> None:
    folder = copy_locales(tmp_path)
    path = folder / "cy" / "intake.yaml"
    text = path.read_text("utf-8")
    path.write_text(re.sub(r"(?m)^question\.address:.*\n", "", text), "utf-8")
    with pytest.raises(FlowError, match=r"no cy text for 'question\.address'"):
        load_translation(folder, "cy", load_catalogue(folder))


def test_a_welsh_text_with_other_placeholders_fails_at_load(tmp_path: Path) -> None:
    folder = copy_locales(tmp_path)
    path = folder / "cy" / "bot.yaml"
    text = path.read_text("utf-8").replace("{reference}", "{cyfeirnod}", 1)
    path.write_text(text, "utf-8")
    with pytest.raises(FlowError, match=r"cyfeirnod"):
        load_translation(folder, "cy", load_catalogue(folder))


def test_a_welsh_plural_missing_a_form_fails_at_load(tmp_path: Path) -> None:
    folder = copy_locales(tmp_path)
    path = folder / "cy" / "bot.yaml"
    text = path.read_text("utf-8").replace('  two: "{count} ddiwrnod"\n', "", 1)
    path.write_text(text, "utf-8")
    with pytest.raises(FlowError, match=r"duration\.day.*plural forms"):
        load_translation(folder, "cy", load_catalogue(folder))


def test_plural_forms_must_be_cldr_categories(tmp_path: Path) -> None:
    folder = copy_locales(tmp_path)
    (folder / "en" / "extra.yaml").write_text('x.y:\n  single: "a"\n  other: "b"\n', "utf-8")
    with pytest.raises(FlowError, match=r"forms other than"):
        load_catalogue(folder)
