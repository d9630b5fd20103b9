"""Postcode lookups on real postcodes from the whole-GB table, and loading that table."""

from __future__ import annotations

import gzip
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from bot.core.postcodes import PostcodeChecker, normalise
from bot.storage.postcode_index import (
    DEFAULT_DATA_DIR,
    GB_FILE,
    OVERLAY_FILE,
    PostcodeIndex,
    build_postcode_checker,
    read_gb_file,
    read_overlay,
)


@dataclass(frozen=True, slots=True)
class PostcodeResult:
    """Lookup times in seconds, and how long loading took."""

    check: list[float]
    find: list[float]
    load_checker: float
    load_index: float
    table_rows: int
    statuses: Counter[str]


def sample_postcodes(count: int, seed: int = 2024) -> tuple[list[str], int]:
    """Return ``count`` postcodes drawn from the whole-GB table, and how many rows it has."""
    with gzip.open(DEFAULT_DATA_DIR / GB_FILE, "rt", encoding="ascii") as lines:
        next(lines)
        postcodes = [line.partition(",")[0] for line in lines]
    return random.Random(seed).sample(postcodes, count), len(postcodes)


def as_typed(postcodes: list[str], seed: int = 7) -> list[str]:
    """Return the postcodes as people type them: a third each as listed, lower case, unspaced."""
    chooser = random.Random(seed)
    forms = (str, str.lower, lambda p: p.replace(" ", "").lower())
    return [chooser.choice(forms)(postcode) for postcode in postcodes]


def _time_each(call: Callable[[str], object], inputs: list[str], rounds: int) -> list[float]:
    clock = time.perf_counter_ns
    seconds: list[float] = []
    for _ in range(rounds):
        for text in inputs:
            started = clock()
            call(text)
            seconds.append((clock() - started) / 1e9)
    return seconds


def run_postcodes(count: int) -> PostcodeResult:
    """Time loading the shipped table (bypassing the process cache), then check() and find()."""
    started = time.perf_counter()
    checker: PostcodeChecker = build_postcode_checker(DEFAULT_DATA_DIR)
    load_checker = time.perf_counter() - started
    started = time.perf_counter()
    index = PostcodeIndex(
        *read_gb_file(DEFAULT_DATA_DIR / GB_FILE), read_overlay(DEFAULT_DATA_DIR / OVERLAY_FILE)
    )
    load_index = time.perf_counter() - started

    postcodes, rows = sample_postcodes(count)
    typed = as_typed(postcodes)
    statuses = Counter(checker.check(text).status.value for text in typed)
    _time_each(checker.check, typed[:1000], 1)  # warm-up
    check = _time_each(checker.check, typed, 2)
    normalised = [normalise(text) for text in typed]
    find = _time_each(index.find, normalised, 2)
    return PostcodeResult(check, find, load_checker, load_index, rows, statuses)
