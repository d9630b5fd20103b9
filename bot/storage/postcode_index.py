"""Load the shipped postcode files into a compact in-memory directory."""

from __future__ import annotations

import contextlib
import csv
import functools
import gzip
import itertools
import json
import operator
import os
import struct
import sys
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from pathlib import Path

from bot.core.postcodes import (
    CROWN_DEPENDENCY_CODES,
    Constituency,
    DirectoryEntry,
    PostcodeChecker,
)

DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "postcodes"
GB_FILE = "gb_postcode_pcon2024.csv.gz"
OVERLAY_FILE = "onspd_overlay.csv"
CONSTITUENCIES_FILE = "constituencies_2024.csv"
ATTRIBUTION_FILE = "ATTRIBUTION.txt"

# The start of a parsed copy of the postcode table kept between runs (its version, "1").
_CACHE_MAGIC = b"PCIDX1\x00\x00" if sys.byteorder == "little" else b"PCIDX1BE"
# Constituency index meaning "listed, but no constituency" (no coordinates to place it).
_UNPLACED = 0xFFFF
_KEY_WIDTH = 8


def _key(postcode: bytes) -> int:
    """Return a postcode's sort key: its pcds bytes, space-padded to 8, as an integer."""
    # Space sorts below letters and digits, so keys keep the files' pcds order; the first
    # byte is an ASCII letter, so every key fits a signed 64-bit integer.
    return int.from_bytes(postcode.ljust(_KEY_WIDTH), "big")


class PostcodeIndex:
    """Postcodes as sorted integer keys with constituency indices, plus an ONSPD overlay."""

    def __init__(
        self,
        keys: array[int],
        slots: array[int],
        codes: list[str],
        overlay: dict[str, DirectoryEntry],
    ) -> None:
        """Keep sorted keys, their indices into codes, and overlay entries that win."""
        if len(keys) != len(slots):
            raise ValueError("keys and constituency slots differ in length")
        if not all(map(operator.lt, keys, itertools.islice(keys, 1, None))):
            raise ValueError("postcode keys are not strictly increasing")
        self._keys = keys
        self._slots = slots
        self._entries = [DirectoryEntry(code, terminated=False) for code in codes]
        self._unplaced = DirectoryEntry(None, terminated=False)
        self._overlay = overlay

    def __len__(self) -> int:
        """Return how many distinct postcodes the index knows."""
        extra = sum(1 for postcode in self._overlay if self._find_main(postcode) is None)
        return len(self._keys) + extra

    def codes(self) -> set[str]:
        """Return every constituency code the index can answer with."""
        overlay = {e.constituency_code for e in self._overlay.values() if e.constituency_code}
        return {e.constituency_code for e in self._entries if e.constituency_code} | overlay

    def find(self, normalised: str) -> DirectoryEntry | None:
        """Return the entry for a normalised postcode, or None if it is not listed."""
        entry = self._overlay.get(normalised)
        if entry is not None:
            return entry
        return self._find_main(normalised)

    def _find_main(self, normalised: str) -> DirectoryEntry | None:
        """Return the entry from the Code-Point-derived arrays, or None."""
        raw = normalised.encode("ascii", "replace")
        # Keys are space-padded, so a trailing space would match the postcode without it.
        if len(raw) > _KEY_WIDTH or raw.endswith(b" "):
            return None
        key = _key(raw)
        i = bisect_left(self._keys, key)
        if i == len(self._keys) or self._keys[i] != key:
            return None
        slot = self._slots[i]
        return self._unplaced if slot == _UNPLACED else self._entries[slot]


def read_gb_file(path: Path) -> tuple[array[int], array[int], list[str]]:
    """Read the sorted postcode,pcon24cd gzip file into keys, slots and the codes list."""
    keys, slots = array("q"), array("H")
    add_key, add_slot, from_bytes = keys.append, slots.append, int.from_bytes
    slot_by_code: dict[bytes, int] = {}
    names: list[str] = []
    # One streamed pass keeping no per-row objects: about 1 s for 1.7M rows, ~17 MB held.
    with gzip.open(path, "rb") as lines:
        if next(lines).strip() != b"postcode,pcon24cd":
            raise ValueError(f"{path} does not start with the header postcode,pcon24cd")
        for line in lines:
            postcode, _, code = line.partition(b",")
            add_key(from_bytes(postcode.ljust(_KEY_WIDTH), "big"))  # _key, inlined: 1.7M rows
            slot = slot_by_code.get(code)
            if slot is None:
                slot = slot_by_code[code] = _new_slot(code.strip().decode("ascii"), names)
            add_slot(slot)
    return keys, slots, names


def _new_slot(code: str, names: list[str]) -> int:
    """Return the slot for a code not seen before, adding it to names unless it is empty."""
    if not code:
        return _UNPLACED
    names.append(code)
    return len(names) - 1


def read_overlay(path: Path) -> dict[str, DirectoryEntry]:
    """Read the pcds,doterm,pcon ONSPD overlay into entries keyed by postcode."""
    with path.open(newline="", encoding="utf-8") as file:
        return {
            row["pcds"]: DirectoryEntry(row["pcon"] or None, terminated=bool(row["doterm"]))
            for row in csv.DictReader(file)
        }


# Welsh names the shipped list gives wrongly (the file is kept a byte copy of its source):
# Caerfyrddin is the seat's name in both languages (the list has the English "Carmarthen"),
# and two names lost their circumflex.
WELSH_NAME_CORRECTIONS = {
    "W07000087": "Caerfyrddin",
    "W07000097": "Gŵyr",
    "W07000102": "Maldwyn a Glyndŵr",
}


def read_constituencies(path: Path) -> dict[str, Constituency]:
    """Read the constituency list into constituencies keyed by GSS code."""
    with path.open(newline="", encoding="utf-8") as file:
        return {
            row["gss_code"]: Constituency(
                row["gss_code"],
                row["name"],
                WELSH_NAME_CORRECTIONS.get(row["gss_code"], row["name_cy"]) or None,
            )
            for row in csv.DictReader(file)
        }


def _check_codes(used: Iterable[str], known: Mapping[str, Constituency]) -> None:
    """Raise if the index answers with a constituency code the list does not have."""
    unknown = sorted(set(used) - known.keys() - CROWN_DEPENDENCY_CODES)
    if unknown:
        raise ValueError(f"postcode data uses unknown constituency codes: {unknown[:5]}")


def cache_dir() -> Path:
    """Return where parsed postcode tables are kept between runs (CASEWORK_CACHE_DIR)."""
    chosen = os.environ.get("CASEWORK_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME")
    base = Path(chosen) if chosen else Path.home() / ".cache"
    return base if os.environ.get("CASEWORK_CACHE_DIR") else base / "casework-bot"


def read_gb_cached(path: Path) -> tuple[array[int], array[int], list[str]]:
    """Read the postcode table, from a parsed copy kept in the cache folder when there is one.

    Parsing 1.7 million rows takes seconds at every start; the parsed arrays load in tens of
    milliseconds. The copy is named by the source file's size and change time, so a new data
    file is parsed again; a cache that cannot be written is simply not used.
    """
    stat = path.stat()
    cached = cache_dir() / f"postcodes-{stat.st_size}-{stat.st_mtime_ns}.bin"
    try:
        return _read_cache(cached)
    except (OSError, ValueError):
        pass
    found = read_gb_file(path)
    with contextlib.suppress(OSError):
        _write_cache(cached, *found)
    return found


def _read_cache(path: Path) -> tuple[array[int], array[int], list[str]]:
    data = path.read_bytes()
    if data[:8] != _CACHE_MAGIC:
        raise ValueError("not a postcode cache")
    count, names_length = struct.unpack_from("<QQ", data, 8)
    start = 24
    keys, slots = array("q"), array("H")
    keys.frombytes(data[start : start + 8 * count])
    start += 8 * count
    slots.frombytes(data[start : start + 2 * count])
    start += 2 * count
    names = json.loads(data[start : start + names_length].decode("utf-8"))
    if len(keys) != count or len(slots) != count or not isinstance(names, list):
        raise ValueError("a truncated postcode cache")
    return keys, slots, [str(name) for name in names]


def _write_cache(path: Path, keys: array[int], slots: array[int], names: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    encoded = json.dumps(names).encode("utf-8")
    partial = path.with_name(f"{path.name}.{os.getpid()}.part")
    header = _CACHE_MAGIC + struct.pack("<QQ", len(keys), len(encoded))
    partial.write_bytes(header + keys.tobytes() + slots.tobytes() + encoded)
    partial.replace(path)  # atomic: a reader sees the whole copy or none


def build_postcode_checker(data_dir: Path) -> PostcodeChecker:
    """Load the postcode files in data_dir and return a checker over them."""
    keys, slots, codes = read_gb_cached(data_dir / GB_FILE)
    index = PostcodeIndex(keys, slots, codes, read_overlay(data_dir / OVERLAY_FILE))
    constituencies = read_constituencies(data_dir / CONSTITUENCIES_FILE)
    _check_codes(index.codes(), constituencies)
    return PostcodeChecker(index, constituencies)


@functools.cache
def _default_checker() -> PostcodeChecker:
    """Return the checker over the shipped data, loaded once per process."""
    return build_postcode_checker(DEFAULT_DATA_DIR)


def load_postcode_checker(data_dir: Path | None = None) -> PostcodeChecker:
    """Return a checker over data_dir, or the cached one over the shipped data."""
    if data_dir is None:
        return _default_checker()
    return build_postcode_checker(data_dir)


def load_attribution(data_dir: Path | None = None) -> str:
    """Return the attribution lines that must be shown with postcode results."""
    return (data_dir or DEFAULT_DATA_DIR).joinpath(ATTRIBUTION_FILE).read_text("utf-8").strip()
