"""Make and read case reference numbers that survive being read aloud and retyped.

A reference is ``f"{prefix}-{body}{check}"``, like ``MP-7K4X9Q5``: six body characters
encoding a number below ``REFERENCE_SPACE`` (most significant first), and one check character
from the Luhn mod N algorithm over ``ALPHABET`` (N = 30). The alphabet leaves out characters
that are easily confused when read or heard: 0/O, 1/I/L and U (U/V).

The check character detects every single-character substitution, and every swap of two
adjacent characters (check character included) except a swap of "2" and "Z", the first and
last characters of the alphabet (code points 0 and N-1, like 09/90 in the decimal Luhn).
Like all Luhn variants it does not detect jump transpositions (abc -> cba) or every twin
error (aa -> bb).
"""

import re
from typing import Final

from bot.core.text import clean_text

ALPHABET: Final = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
BODY_LENGTH: Final = 6
REFERENCE_SPACE: Final = len(ALPHABET) ** BODY_LENGTH

_BASE: Final = len(ALPHABET)
_CODE_POINTS: Final = {character: code for code, character in enumerate(ALPHABET)}
_PREFIX: Final = re.compile(r"[A-Z0-9]+")
# Hyphens, dashes (phones turn "-" into "–"), minus signs and any whitespace between parts.
_SEPARATORS: Final = re.compile(r"[\s\-\u2010-\u2015\u2212]+")


def _check_character(body: str) -> str:
    """Return the Luhn mod N check character for a body written in ALPHABET."""
    total = 0
    # Double every second code point, starting with the rightmost body character.
    for position, character in enumerate(reversed(body)):
        addend = _CODE_POINTS[character] * (2 if position % 2 == 0 else 1)
        total += addend // _BASE + addend % _BASE
    return ALPHABET[-total % _BASE]


def _require_prefix(prefix: str) -> None:
    """Raise ValueError unless prefix is upper-case ASCII letters and digits."""
    if not _PREFIX.fullmatch(prefix):
        raise ValueError(f"prefix must be upper-case letters and digits, not {prefix!r}")


def make_reference(prefix: str, number: int) -> str:
    """Return the reference for number, which must be in range(REFERENCE_SPACE)."""
    _require_prefix(prefix)
    if not 0 <= number < REFERENCE_SPACE:
        raise ValueError(f"number must be in range({REFERENCE_SPACE}), not {number}")
    digits = []
    for _ in range(BODY_LENGTH):
        number, digit = divmod(number, _BASE)
        digits.append(ALPHABET[digit])
    body = "".join(reversed(digits))
    return f"{prefix}-{body}{_check_character(body)}"


def parse_reference(text: str, prefix: str) -> str | None:
    """Return the canonical reference typed in text, or None if it is not a correct one."""
    _require_prefix(prefix)
    compact = _SEPARATORS.sub("", clean_text(text)).upper()
    if not compact.startswith(prefix):
        return None
    body, check = compact[len(prefix) : -1], compact[-1:]
    if len(body) != BODY_LENGTH or any(character not in _CODE_POINTS for character in body):
        return None
    if check != _check_character(body):
        return None
    return f"{prefix}-{body}{check}"


def near_references(text: str, prefix: str) -> list[str]:
    """Return the correct references one slip away from text, when text is not one itself.

    A slip is one character wrong, missing or extra, or two neighbours swapped; the check
    character rules out all but a few, which a store can then look up. The prefix may be
    left out. Text that is a correct reference, or not like one at all, gives nothing.
    """
    _require_prefix(prefix)
    compact = _SEPARATORS.sub("", clean_text(text)).upper()
    if parse_reference(compact, prefix) is not None:
        return []
    rest = compact[len(prefix) :] if compact.startswith(prefix) else compact
    if not BODY_LENGTH <= len(rest) <= BODY_LENGTH + 2 or not rest.isalnum() or not rest.isascii():
        return []
    found: set[str] = set()
    for position in range(len(rest) + 1):
        head, tail = rest[:position], rest[position:]
        tries = [head + character + tail for character in ALPHABET]  # missing
        if tail:
            tries.append(head + tail[1:])  # extra
            tries += [head + character + tail[1:] for character in ALPHABET]  # wrong
        if len(tail) > 1:
            tries.append(head + tail[1] + tail[0] + tail[2:])  # swapped
        found.update(attempt for attempt in tries if _correct(attempt))
    return sorted(f"{prefix}-{attempt}" for attempt in found)


def _correct(compact: str) -> bool:
    """Tell whether a body and check character, without separators, make a correct reference."""
    body = compact[:-1]
    if len(compact) != BODY_LENGTH + 1 or any(c not in _CODE_POINTS for c in compact):
        return False
    return compact[-1] == _check_character(body)
