"""Message catalogue: every user-facing text, looked up by key and filled with escaped values."""

from __future__ import annotations

import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

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
    params = {
        k: msg_from_data(v) if isinstance(v, Mapping) else str(v)
        for k, v in dict(data.get("params", {})).items()
    }
    return Msg(str(data["key"]), params)


def placeholders(template: str) -> set[str]:
    """Return the names of the ``{placeholders}`` in a catalogue text."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


class Catalogue:
    """Texts for one language, keyed by dotted names such as ``question.postcode``."""

    def __init__(self, texts: Mapping[str, str], locale: str = "en") -> None:
        """Keep the texts of one locale."""
        self._texts = dict(texts)
        self.locale = locale

    def __contains__(self, key: object) -> bool:
        """Tell whether the catalogue has a text for ``key``."""
        return key in self._texts

    def keys(self) -> Iterable[str]:
        """Return every key in the catalogue."""
        return self._texts.keys()

    def raw(self, key: str) -> str:
        """Return the unfilled text for ``key``; a missing key is a programming error."""
        return self._texts[key]

    def render(self, msg: Msg, escape: Escape) -> str:
        """Return the text for ``msg`` with each value escaped for the channel."""
        template = self._texts[msg.key]
        if not msg.params:
            return template
        values = {
            name: self.render(value, escape) if isinstance(value, Msg) else escape(value)
            for name, value in msg.params.items()
        }
        return template.format_map(_Strict(values, msg.key))

    def text(self, key: str, escape: Escape, **params: str) -> str:
        """Return the text for ``key`` filled with ``params``."""
        return self.render(Msg(key, params), escape)


class _Strict(dict[str, str]):
    """A mapping that names the text and the missing value when a placeholder is unfilled."""

    def __init__(self, values: Mapping[str, str], key: str) -> None:
        super().__init__(values)
        self._key = key

    def __missing__(self, name: str) -> str:
        raise KeyError(f"text {self._key!r} needs a value for {{{name}}}")
