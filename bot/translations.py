"""Hand a language's texts to translators as a gettext .po file, and take their work back.

The YAML files under ``flows/locales/`` stay the texts the bot reads (and offices edit); a .po
file is what translation tools (Weblate, Poedit, Lokalise) open. Each text is one entry: its key
as the context, the English as the source, the language's text as the translation, with the
plural forms of the language from CLDR (Welsh has six). Import checks the result exactly as
start-up does before changing any file.
"""

from __future__ import annotations

import gettext
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from babel import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po, write_po

from bot.core.catalogue import Catalogue
from bot.core.flow import FlowError
from bot.core.languages import plural_category
from bot.loading import (
    CONSTITUENT_STAFF_TEXTS,
    STAFF_FILE,
    STAFF_ONLY_FILES,
    load_catalogue,
    load_translation,
    read_locale_files,
)

# What a translated file says until an office's translator has reviewed it.
STATUS_LINE = "# {name} ({code}) texts. Status: needs review by a {name} speaker."


@dataclass(frozen=True, slots=True)
class Exported:
    """What an export wrote: how many texts, and how many still want a translation."""

    texts: int
    untranslated: int


def plural_order(language: str) -> tuple[str, ...]:
    """Return the CLDR category of each gettext plural form Babel writes for ``language``.

    Welsh's six forms are CLDR's six; where gettext's table has fewer forms than CLDR has
    categories (Polish), a form stands for the first category its numbers fall in.
    """
    _locale(language)
    rule = gettext.c2py(get_plural(language).plural_expr)
    order: dict[int, str] = {}
    for n in range(1000):
        order.setdefault(rule(n), plural_category(language, n))
    return tuple(order[index] for index in sorted(order))


def _forms(language: str, strings: Sequence[str]) -> dict[str, str]:
    """Return a translation's plural forms by CLDR category ("other" the last if unnamed)."""
    forms = dict(zip(plural_order(language), strings, strict=False))
    forms.setdefault("other", strings[-1])
    return forms


def export_po(locales: Path, language: str, target: Path) -> Exported:
    """Write every text a constituent can be sent, with its ``language`` text, to ``target``."""
    _locale(language)
    english_files = read_locale_files(locales, "en")
    english = load_catalogue(locales)
    theirs = read_locale_files(locales, language) if (locales / language).is_dir() else {}
    translated = {key: value for texts in theirs.values() for key, value in texts.items()}
    catalog = Catalog(
        locale=language,
        project="constituency-casework-bot",
        creation_date=datetime.now(UTC),
        fuzzy=False,
    )
    order = plural_order(language)
    count = missing = 0
    for name, texts in english_files.items():
        for key in texts:
            if name in STAFF_ONLY_FILES or (
                name == STAFF_FILE and key not in CONSTITUENT_STAFF_TEXTS
            ):
                continue
            count += 1
            found = translated.get(key)
            forms = english.plural_forms(key)
            if forms is not None:
                source: str | tuple[str, str] = (forms.get("one", forms["other"]), forms["other"])
                given = found if isinstance(found, Mapping) else {}
                text: str | tuple[str, ...] = tuple(str(given.get(tag, "")) for tag in order)
                missing += not all(text)
            else:
                source = english.raw(key)
                text = found if isinstance(found, str) else ""
                missing += not text
            catalog.add(source, text, context=key, auto_comments=[f"{name}: {key}"])
    with target.open("wb") as file:
        write_po(file, catalog, width=100, omit_header=False)
    return Exported(count, missing)


def import_po(locales: Path, language: str, source: Path) -> int:
    """Take the translations in ``source`` into ``locales/<language>``; return how many.

    Nothing is changed unless the result passes the start-up check: every text a constituent
    can be sent, with the English placeholders and every plural form of the language.
    """
    _locale(language)
    with source.open("rb") as file:
        try:
            catalog = read_po(file, locale=language)
        except Exception as exc:  # Babel raises several kinds for a broken file
            raise FlowError(f"{source}: is not a .po file Babel can read: {exc}") from exc
    english_files = read_locale_files(locales, "en")
    where = {key: name for name, texts in english_files.items() for key in texts}
    folder = locales / language
    current = read_locale_files(locales, language) if folder.is_dir() else {}
    merged: dict[str, dict[str, Any]] = {name: dict(texts) for name, texts in current.items()}
    taken = 0
    for message in catalog:
        key = message.context
        if not key or key not in where or message.fuzzy:
            continue
        if isinstance(message.string, tuple | list):
            if not all(message.string):
                continue
            value: Any = _forms(language, message.string)
        elif message.string:
            value = message.string
        else:
            continue
        merged.setdefault(where[key], {})[key] = value
        taken += 1
    _check_and_write(locales, language, merged, english_files)
    return taken


def _check_and_write(
    locales: Path,
    language: str,
    merged: Mapping[str, Mapping[str, Any]],
    english_files: Mapping[str, Mapping[str, Any]],
) -> None:
    """Write the files to a scratch copy, check them as start-up does, then put them in place."""
    folder = locales / language
    with tempfile.TemporaryDirectory() as scratch:
        trial = Path(scratch)
        shutil.copytree(locales / "en", trial / "en")
        (trial / language).mkdir()
        for name, texts in merged.items():
            ordered = {k: texts[k] for k in english_files.get(name, {}) if k in texts}
            (trial / language / name).write_text(
                _yaml_file(_leading_comments(folder / name, language), ordered), "utf-8"
            )
        english: Catalogue = load_catalogue(trial)
        load_translation(trial, language, english)
        folder.mkdir(exist_ok=True)
        for name in merged:
            shutil.copyfile(trial / language / name, folder / name)


def _leading_comments(path: Path, language: str) -> list[str]:
    """Return the comment lines a file starts with (its status first), kept through an import."""
    if not path.exists():
        name = _locale(language).get_display_name(language) or language
        return [STATUS_LINE.format(name=name, code=language)]
    lines = []
    for line in path.read_text("utf-8").splitlines():
        if not line.startswith("#") and line.strip():
            break
        lines.append(line)
    return lines


class _TextDumper(yaml.SafeDumper):
    """Write texts as people read them: several lines as a block, not an escaped string."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_TextDumper.add_representer(str, _text)


def _yaml_file(comments: list[str], texts: Mapping[str, Any]) -> str:
    body = yaml.dump(
        dict(texts), Dumper=_TextDumper, allow_unicode=True, sort_keys=False, width=10**6
    )
    head = "\n".join(comments).rstrip("\n")
    return f"{head}\n\n{body}" if head else body


def _locale(language: str) -> Locale:
    try:
        return Locale.parse(language)
    except (ValueError, UnknownLocaleError) as exc:
        raise FlowError(f"{language!r} is not a language code Babel knows") from exc
