"""Message catalogue: every user-facing text, looked up by key and filled with escaped values."""

from __future__ import annotations

import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from bot.core.languages import plural_category

Escape = Callable[[str], str]


@dataclass(frozen=True, slots=True)
class Msg:
    """A catalogue text by key, with values to substitute.

    A value that is a string is the person's own words (escaped when rendered); a value
    that is a Msg is another catalogue text, rendered in place.
    """

    key: str
    params: Mapping[str, str | Msg] = field(default_factory=dict)


def msg_to_data(msg: Msg) -> dict[str, Any]:
    """Return ``msg`` as plain data, to be stored and rendered later."""
    params = {k: msg_to_data(v) if isinstance(v, Msg) else v for k, v in msg.params.items()}
    return {"key": msg.key, "params": params}


def msg_from_data(data: Mapping[str, Any]) -> Msg:
    """Return the Msg stored by ``msg_to_data``."""
    # Most values are words (a string is never a Mapping, and the Mapping check is slow).
    params = {
        k: msg_from_data(v) if not isinstance(v, str) and isinstance(v, Mapping) else str(v)
        for k, v in dict(data.get("params", {})).items()
    }
    return Msg(str(data["key"]), params)


def fills_in(catalogues: Iterable[Catalogue]) -> Callable[[str], frozenset[str] | None]:
    """Return what a text fills in, in any of ``catalogues`` (None: cannot be told).

    Each key is worked out once: the catalogues do not change.
    """
    found = list(catalogues)

    @lru_cache(maxsize=1024)
    def names(key: str) -> frozenset[str] | None:
        each = [catalogue.fills(key) for catalogue in found]
        if not each or any(part is None for part in each):
            return None
        return frozenset().union(*(part for part in each if part is not None))

    return names


def placeholders(template: str) -> set[str]:
    """Return the names of the ``{placeholders}`` in a catalogue text."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


class Catalogue:
    """Texts for one language, keyed by dotted names such as ``question.postcode``."""

    def __init__(
        self,
        texts: Mapping[str, str],
        locale: str = "en",
        *,
        plurals: Mapping[str, Mapping[str, str]] | None = None,
        localise: Callable[[str], str] | None = None,
    ) -> None:
        """Keep the texts of one locale.

        ``plurals`` holds the texts that depend on a ``{count}``, by CLDR plural category
        (Welsh has six: zero, one, two, few, many, other). ``localise`` rewrites the office's
        values for this language before they are filled in (a constituency's Welsh name).
        """
        self._plurals = {key: dict(forms) for key, forms in (plurals or {}).items()}
        self._texts = {**dict(texts), **{k: f["other"] for k, f in self._plurals.items()}}
        self.locale = locale
        self._localise = localise

    def __contains__(self, key: object) -> bool:
        """Tell whether the catalogue has a text for ``key``."""
        return key in self._texts

    def keys(self) -> Iterable[str]:
        """Return every key in the catalogue."""
        return self._texts.keys()

    def raw(self, key: str) -> str:
        """Return the unfilled text for ``key``; a missing key is a programming error."""
        return self._texts[key]

    def fills(self, key: str) -> frozenset[str] | None:
        """Return the names the text for ``key`` fills in (every plural form's), or None if
        it reads values in other ways too, or has no text here."""
        if key not in self._texts:
            return None
        forms = self._plurals.get(key)
        found: set[str] = set()
        for text in forms.values() if forms else (self._texts[key],):
            names = _fields(text)
            if names is None:
                return None
            found |= names
        return frozenset(found)

    def plural_forms(self, key: str) -> Mapping[str, str] | None:
        """Return the forms of a text that depends on a count, by plural category, or None."""
        return self._plurals.get(key)

    def render(self, msg: Msg, escape: Escape) -> str:
        """Return the text for ``msg`` with each value escaped for the channel."""
        template = self._template(msg)
        if not msg.params:
            return template
        localise = self._localise or _unchanged
        # Prompts carry every office value; only those the text shows need escaping.
        used = _fields(template)
        values = {
            name: self.render(value, escape) if isinstance(value, Msg) else escape(localise(value))
            for name, value in msg.params.items()
            if used is None or name in used or isinstance(value, Msg)
        }
        return template.format_map(_Strict(values, msg.key))

    def _template(self, msg: Msg) -> str:
        forms = self._plurals.get(msg.key)
        count = msg.params.get("count")
        if forms is None or not isinstance(count, str) or not count.isdecimal():
            return self._texts[msg.key]
        return forms.get(plural_category(self.locale, int(count)), forms["other"])

    def text(self, key: str, escape: Escape, **params: str) -> str:
        """Return the text for ``key`` filled with ``params``."""
        return self.render(Msg(key, params), escape)


def _unchanged(value: str) -> str:
    return value


@lru_cache(maxsize=4096)
def _fields(template: str) -> frozenset[str] | None:
    """Return the names ``template`` fills in, or None if it reads values in other ways too."""
    names = set()
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError:  # malformed: format_map says so
        return None
    for _, name, spec, _ in parsed:
        if name is None:
            continue
        if not name.isidentifier() or (spec and "{" in spec):
            return None
        names.add(name)
    return frozenset(names)


class _Strict(dict[str, str]):
    """A mapping that names the text and the missing value when a placeholder is unfilled."""

    def __init__(self, values: Mapping[str, str], key: str) -> None:
        super().__init__(values)
        self._key = key

    def __missing__(self, name: str) -> str:
        raise KeyError(f"text {self._key!r} needs a value for {{{name}}}")
