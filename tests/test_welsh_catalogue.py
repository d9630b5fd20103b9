"""The Welsh (Cymraeg) catalogue matches the English one it translates.

Each flows/locales/cy/<name>.yaml translates keys of flows/locales/en/<name>.yaml: the keys must
exist in English, the constituent-side files must be complete, every text keeps the English
placeholders and HTML tags, and every file says it still needs review by a Welsh speaker.
When an office's translator has reviewed the texts, change STATUS_LINE here with the files.
"""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
import yaml

from bot.loading import CONSTITUENT_STAFF_TEXTS, load_catalogue

LOCALES = Path(__file__).resolve().parents[1] / "flows" / "locales"
EN = LOCALES / "en"
CY = LOCALES / "cy"

STATUS_LINE = "# Welsh (Cymraeg) texts. Status: needs review by a Welsh speaker."

# Files a constituent reads from end to end: every English key needs a Welsh text.
COMPLETE = ("bot.yaml", "intake.yaml", "privacy.yaml", "validation.yaml")

# Button and option labels should stay short enough for a Telegram button on a phone.
BUTTON_PREFIXES = ("button.", "option.", "category.")
BUTTON_LIMIT = 40
COMMAND_DESCRIPTION_LIMIT = 256  # Telegram's limit for a command's description

TAG = re.compile(r"<(/?)([a-zA-Z]+)(?:\s[^<>]*)?>")

CY_FILES = sorted(path.name for path in CY.glob("*.yaml"))


def texts(path: Path) -> dict[str, str]:
    """Return the key-to-text mapping of one catalogue file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path}: expected a mapping of keys to texts"
    found: dict[str, str] = {}
    for key, value in data.items():
        assert isinstance(key, str), f"{path}: key {key!r} is not a string"
        if isinstance(value, dict):  # plural forms: checked as one text of all the forms
            assert "other" in value, f"{path}: text {key!r} has no 'other' form"
            value = " ".join(str(form) for form in value.values())
        assert isinstance(value, str), f"{path}: text {key!r} is not a string"
        found[key] = value
    return found


def placeholders(text: str) -> set[str]:
    """Return the names of the {placeholders} in a text."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def tags(text: str) -> list[tuple[bool, str]]:
    """Return the HTML tags of a text in order, each as (closing, name)."""
    return [(slash == "/", name.lower()) for slash, name in TAG.findall(text)]


def unbalanced(text: str) -> str | None:
    """Return what is wrong with the nesting of the HTML tags in a text, or None."""
    open_tags: list[str] = []
    for closing, name in tags(text):
        if not closing:
            open_tags.append(name)
        elif not open_tags or open_tags.pop() != name:
            return f"</{name}> does not close the tag open before it"
    if open_tags:
        return f"<{open_tags[-1]}> is never closed"
    if "<" in TAG.sub("", text) or ">" in TAG.sub("", text):
        return "a < or > that is not part of a tag"
    return None


def pairs() -> list[tuple[str, str, str, str]]:
    """Return (file, key, English text, Welsh text) for every Welsh text that has an English one."""
    found = []
    for name in CY_FILES:
        english = texts(EN / name) if (EN / name).exists() else {}
        for key, welsh in texts(CY / name).items():
            if key in english:
                found.append((name, key, english[key], welsh))
    return found


def test_the_welsh_folder_has_the_files() -> None:
    assert set(COMPLETE) | {"staff.yaml"} <= set(CY_FILES)
    assert sorted(path.name for path in CY.iterdir()) == CY_FILES, "only *.yaml files in cy/"


@pytest.mark.parametrize("name", CY_FILES)
def test_each_welsh_file_has_an_english_file(name: str) -> None:
    assert (EN / name).exists(), f"cy/{name} has no en/{name}"


@pytest.mark.parametrize("name", CY_FILES)
def test_each_welsh_file_starts_with_the_review_status(name: str) -> None:
    first = (CY / name).read_text(encoding="utf-8").splitlines()[0]
    assert first == STATUS_LINE


@pytest.mark.parametrize("name", CY_FILES)
def test_every_welsh_key_is_an_english_key(name: str) -> None:
    extra = sorted(set(texts(CY / name)) - set(texts(EN / name)))
    assert not extra, f"cy/{name} has keys that en/{name} does not: {extra}"


@pytest.mark.parametrize("name", COMPLETE)
def test_constituent_files_are_complete(name: str) -> None:
    missing = sorted(set(texts(EN / name)) - set(texts(CY / name)))
    assert not missing, f"cy/{name} has no Welsh for: {missing}"


def test_staff_texts_constituents_receive_are_in_welsh() -> None:
    welsh = set(texts(CY / "staff.yaml"))
    left_english = sorted(CONSTITUENT_STAFF_TEXTS - set(texts(EN / "staff.yaml")))
    assert not left_english, f"no longer in en/staff.yaml: {left_english}"
    missing = sorted(CONSTITUENT_STAFF_TEXTS - welsh)
    assert not missing, f"cy/staff.yaml has no Welsh for: {missing}"
    staff_only = sorted(welsh - CONSTITUENT_STAFF_TEXTS)
    assert not staff_only, f"staff-only texts stay in English: {staff_only}"


def test_every_welsh_text_is_filled_in() -> None:
    empty = [f"{name}: {key}" for name, key, _, welsh in pairs() if not welsh.strip()]
    assert not empty


def test_placeholders_match_the_english() -> None:
    wrong = [
        f"{name}: {key}: {sorted(placeholders(welsh))} != {sorted(placeholders(english))}"
        for name, key, english, welsh in pairs()
        if placeholders(welsh) != placeholders(english)
    ]
    assert not wrong, "\n".join(wrong)


def test_html_tags_are_balanced_and_used_in_the_english() -> None:
    wrong = []
    for name, key, english, welsh in pairs():
        problem = unbalanced(welsh)
        if problem:
            wrong.append(f"{name}: {key}: {problem}")
        allowed = {tag for _, tag in tags(english)}
        unknown = sorted({tag for _, tag in tags(welsh)} - allowed)
        if unknown:
            wrong.append(f"{name}: {key}: tags the English does not use: {unknown}")
    assert not wrong, "\n".join(wrong)


def test_buttons_and_commands_stay_short() -> None:
    long = [
        f"{name}: {key} ({len(welsh)} characters)"
        for name, key, _, welsh in pairs()
        if (key.startswith(BUTTON_PREFIXES) and len(welsh) > BUTTON_LIMIT)
        or (key.startswith("command.") and len(welsh) > COMMAND_DESCRIPTION_LIMIT)
    ]
    assert not long, "\n".join(long)


def test_the_bot_loads_the_welsh_catalogue() -> None:
    catalogue = load_catalogue(LOCALES, "cy")
    assert catalogue.locale == "cy"
    assert "question.consent" in catalogue


def test_the_checks_catch_mistakes() -> None:
    assert placeholders("Rhowch {max} nod") != placeholders("Enter {max} {length}")
    assert unbalanced("<b>Eich caniatâd") is not None
    assert unbalanced("<b>Eich <i>caniatâd</b></i>") is not None
    assert unbalanced("<b>{reference}</b> · {category}") is None
    assert {tag for _, tag in tags("<code>x</code>")} - {"b"} == {"code"}
