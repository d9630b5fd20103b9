"""Decide what a typed UK postcode is and which 2024 Westminster constituency it is in."""

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class PostcodeStatus(StrEnum):
    """What a postcode check found; values match the fixture file's expected_status."""

    LIVE = "live"
    TERMINATED = "terminated"
    NOT_FOUND = "not_found"
    CROWN_DEPENDENCY = "crown_dependency"
    SPECIAL = "special"
    OVERSEAS_TERRITORY = "overseas_territory"
    NORTHERN_IRELAND = "northern_ireland_not_in_data"
    PSEUDO = "pseudo"
    INVALID_FORMAT = "invalid_format"


@dataclass(frozen=True, slots=True)
class Constituency:
    """A 2024 Westminster constituency, keyed by its GSS code (e.g. E14001520)."""

    code: str
    name: str
    name_cy: str | None


@dataclass(frozen=True, slots=True)
class DirectoryEntry:
    """What a postcode directory holds for one postcode; the code is None if unplaced."""

    constituency_code: str | None
    terminated: bool


class PostcodeDirectory(Protocol):
    """Something that knows which postcodes exist and where they are."""

    def find(self, normalised: str) -> DirectoryEntry | None:
        """Return the entry for a normalised postcode, or None if it is not listed."""


@dataclass(frozen=True, slots=True)
class PostcodeCheck:
    """The result of checking typed text; normalised is None unless the format is valid."""

    normalised: str | None
    status: PostcodeStatus
    constituency: Constituency | None


# Characters people type for one another on a phone keyboard: "ST4 IHH" for "ST4 1HH".
_LOOK_ALIKE = {"O": "0", "I": "1", "L": "1", "S": "5", "Z": "2", "B": "8", "0": "O", "1": "I"}

# ONS pseudo-constituency codes for the Channel Islands and the Isle of Man.
CROWN_DEPENDENCY_CODES = frozenset({"L99999999", "M99999999"})

# BS 7666-style rule applied to the normalised form (see bot/data/postcodes/SOURCE.md).
_STRICT_FORMAT = re.compile(
    r"GIR 0AA|(?:[A-PR-UWYZ][0-9][0-9]?|[A-PR-UWYZ][A-HK-Y][0-9][0-9]?"
    r"|[A-PR-UWYZ][0-9][A-HJKPSTUW]|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY])"
    r" [0-9][ABD-HJLNP-UW-Z]{2}"
)
# Codes that are not shaped like UK postcodes, matched on the compact (spaceless) form.
_BFPO_NUMBER = re.compile(r"BFPO-?[0-9]{1,4}")
_NHS_PSEUDO = re.compile(r"ZZ99[0-9][A-Z]{2}")
_OVERSEAS_CODE = re.compile(
    # Ascension, St Helena, Tristan da Cunha, Falklands, South Georgia, British Antarctic
    # Territory, British Indian Ocean Territory, Pitcairn, Turks and Caicos; then Cayman,
    # Montserrat, British Virgin Islands and Anguilla, whose numeric codes follow UK style.
    r"(?:ASCN|STHL|TDCU|FIQQ|SIQQ|BIQQ|BBND|PCRN|TKCA)1ZZ"
    r"|KY[1-3]-?[0-9]{4}|MSR-?1[1-3][0-9]0|VG-?11[1-6]0|AI-?2640"
)
# Royal Mail's novelty Santa postcodes (current and former): real mail, no place.
_NOVELTY_CODES = frozenset({"SANTA1", "XM45HQ"})
_CROWN_DEPENDENCY_AREAS = frozenset({"JE", "GY", "IM"})
_AREA = re.compile(r"[A-Z]+")


def _compact(text: str) -> str:
    """Return text upper-cased without whitespace, control or zero-width characters."""
    # NFKC folds full-width letters and digits (some phone keyboards) to ASCII.
    text = unicodedata.normalize("NFKC", text)
    kept = (ch for ch in text if not ch.isspace() and unicodedata.category(ch) not in {"Cc", "Cf"})
    return "".join(kept).upper()


def normalise(text: str) -> str:
    """Return text upper-cased, spaces removed and one space put before the last 3 characters."""
    compact = _compact(text)
    if len(compact) <= 3:
        return compact
    return f"{compact[:-3]} {compact[-3:]}"


def is_valid_format(normalised: str) -> bool:
    """Return whether a normalised postcode has a valid UK postcode shape."""
    return _STRICT_FORMAT.fullmatch(normalised) is not None


def _unshaped_status(compact: str) -> PostcodeStatus | None:
    """Return the status of a recognised code that is not shaped like a UK postcode."""
    if _BFPO_NUMBER.fullmatch(compact) or compact in _NOVELTY_CODES:
        return PostcodeStatus.SPECIAL
    if _OVERSEAS_CODE.fullmatch(compact):
        return PostcodeStatus.OVERSEAS_TERRITORY
    if _NHS_PSEUDO.fullmatch(compact):
        return PostcodeStatus.PSEUDO
    return None


def _shaped_status(normalised: str) -> PostcodeStatus | None:
    """Return the status of a well-formed postcode that has no constituency in our data."""
    outward = normalised.split(" ", 1)[0]
    area_match = _AREA.match(outward)
    area = area_match.group() if area_match else ""
    if normalised == "GIR 0AA" or outward == "BF1":
        return PostcodeStatus.SPECIAL
    if area in _CROWN_DEPENDENCY_AREAS:
        return PostcodeStatus.CROWN_DEPENDENCY
    if outward == "GX11":
        return PostcodeStatus.OVERSEAS_TERRITORY
    if area == "BT":
        return PostcodeStatus.NORTHERN_IRELAND
    return None


class PostcodeChecker:
    """Classify typed postcodes against a directory and the list of constituencies."""

    def __init__(
        self, directory: PostcodeDirectory, constituencies: Mapping[str, Constituency]
    ) -> None:
        """Keep the directory and the constituencies keyed by GSS code."""
        self._directory = directory
        self._constituencies = constituencies

    def names_in(self, language: str) -> dict[str, str]:
        """Return each constituency's English name mapped to its name in ``language``, if other."""
        if language != "cy":
            return {}
        return {
            c.name: c.name_cy
            for c in self._constituencies.values()
            if c.name_cy not in (None, c.name)
        }

    def constituency(self, code: str) -> Constituency | None:
        """Return the constituency with this GSS code, or None if there is none."""
        return self._constituencies.get(code)

    def correction(self, text: str) -> str | None:
        """Return the one live postcode that text becomes with one look-alike changed, if any.

        Only for text that is not a postcode as typed: "ST4 IHH" (a letter I for a one).
        """
        compact = _compact(text)
        if is_valid_format(normalise(compact)) or not 5 <= len(compact) <= 7:
            return None
        found = set()
        for position, character in enumerate(compact):
            swapped = _LOOK_ALIKE.get(character)
            if swapped is None:
                continue
            candidate = normalise(compact[:position] + swapped + compact[position + 1 :])
            if not is_valid_format(candidate):
                continue
            entry = self._directory.find(candidate)
            if entry is not None and not entry.terminated and entry.constituency_code:
                found.add(candidate)
        return found.pop() if len(found) == 1 else None

    def check(self, text: str) -> PostcodeCheck:
        """Return what the typed text is and, for a listed postcode, its constituency."""
        compact = _compact(text)
        status = _unshaped_status(compact)
        if status is not None:
            return PostcodeCheck(None, status, None)
        normalised = normalise(compact)
        if not is_valid_format(normalised):
            return PostcodeCheck(None, PostcodeStatus.INVALID_FORMAT, None)
        status = _shaped_status(normalised)
        if status is not None:
            return PostcodeCheck(normalised, status, None)
        entry = self._directory.find(normalised)
        if entry is None:
            return PostcodeCheck(normalised, PostcodeStatus.NOT_FOUND, None)
        code = entry.constituency_code
        if code in CROWN_DEPENDENCY_CODES:
            return PostcodeCheck(normalised, PostcodeStatus.CROWN_DEPENDENCY, None)
        status = PostcodeStatus.TERMINATED if entry.terminated else PostcodeStatus.LIVE
        # A listed postcode without coordinates (e.g. most of SE1P) has no constituency.
        constituency = self.constituency(code) if code is not None else None
        return PostcodeCheck(normalised, status, constituency)
