"""Find the category staff mean from what they type: its name, its label, or an alias."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

_NOT_WORD = re.compile(r"[^\w]+")
PREFIX_MIN = 3


def normalise(text: str) -> str:
    """Return words as compared: lower case, "&" read as "and", punctuation as spaces."""
    return " ".join(_NOT_WORD.sub(" ", text.casefold().replace("&", " and ")).split())


@dataclass(frozen=True, slots=True)
class Category:
    """One category: the value cases store, the label staff read, and other names for it."""

    value: str
    label: str
    aliases: tuple[str, ...] = ()

    def names(self) -> list[str]:
        """Return every name this category answers to, normalised."""
        return [normalise(n) for n in (self.value, self.label, *self.aliases) if normalise(n)]


class Categories:
    """The office's categories, found by any of their names."""

    def __init__(self, categories: Iterable[Category]) -> None:
        """Keep the categories in the flow's order."""
        self.all = tuple(categories)

    @classmethod
    def of(cls, labels: Mapping[str, str], aliases: Mapping[str, Iterable[str]]) -> Categories:
        """Return the categories with these labels (value -> label) and aliases."""
        return cls(
            Category(value, label, tuple(aliases.get(value, ()))) for value, label in labels.items()
        )

    def find(self, typed: str) -> Category | None:
        """Return the one category ``typed`` names, or None if it names none or several.

        A whole name wins; then a name it begins (at least three letters); then the one
        category whose label has every word typed.
        """
        key = normalise(typed)
        if not key:
            return None
        exact = [c for c in self.all if key in c.names()]
        if exact:
            return exact[0]
        if len(key) >= PREFIX_MIN:
            begun = [c for c in self.all if any(n.startswith(key) for n in c.names())]
            if len(begun) == 1:
                return begun[0]
        words = set(key.split())
        covering = [c for c in self.all if words <= set(" ".join(c.names()).split())]
        return covering[0] if len(covering) == 1 else None

    def label_of(self, value: str) -> str:
        """Return the label of a category value (the value itself if it is not one)."""
        return next((c.label for c in self.all if c.value == value), value)
