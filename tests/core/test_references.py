"""Tests for case reference numbers and their check character."""

import itertools
import re

import pytest

from bot.core.references import ALPHABET, REFERENCE_SPACE, make_reference, parse_reference

SAMPLE = "MP-7K4X9Q5"
FORMAT = re.compile(rf"MP-[{ALPHABET}]{{7}}")
# The only adjacent swaps Luhn mod 30 misses: the first and last characters of the alphabet.
UNDETECTED_SWAPS = {("2", "Z"), ("Z", "2")}


def _number(body: str) -> int:
    """Return the number a six-character body encodes."""
    number = 0
    for character in body:
        number = number * len(ALPHABET) + ALPHABET.index(character)
    return number


def test_alphabet_is_readable_aloud() -> None:
    """The alphabet has 30 distinct characters and none that are easily confused."""
    assert len(set(ALPHABET)) == len(ALPHABET) == 30
    assert not set(ALPHABET) & set("01OILU")
    assert REFERENCE_SPACE == 30**6


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (0, "MP-2222222"),
        (_number("7K4X9Q"), SAMPLE),
        (REFERENCE_SPACE - 1, make_reference("MP", REFERENCE_SPACE - 1)),
    ],
)
def test_make_reference(number: int, expected: str) -> None:
    """The body encodes the number, most significant character first, then the check."""
    assert make_reference("MP", number) == expected


@pytest.mark.parametrize(
    "number", [0, 1, 29, 30, 31, 12_345, 30**5, 700_000_000, REFERENCE_SPACE - 1]
)
def test_round_trip(number: int) -> None:
    """A made reference has the documented format and parses back to itself."""
    reference = make_reference("MP", number)
    assert FORMAT.fullmatch(reference)
    assert _number(reference[3:9]) == number
    assert parse_reference(reference, "MP") == reference


def test_different_numbers_make_different_references() -> None:
    """No two numbers share a reference."""
    numbers = range(0, REFERENCE_SPACE, 7_919)
    assert len({make_reference("MP", number) for number in numbers}) == len(numbers)


@pytest.mark.parametrize("number", [-1, REFERENCE_SPACE, REFERENCE_SPACE * 2])
def test_number_out_of_range(number: int) -> None:
    """Only numbers below REFERENCE_SPACE have a reference."""
    with pytest.raises(ValueError, match="range"):
        make_reference("MP", number)


@pytest.mark.parametrize("prefix", ["", "mp", "M-P", "M P", "MP-"])
def test_bad_prefix(prefix: str) -> None:
    """A prefix must be upper-case letters and digits."""
    with pytest.raises(ValueError, match="prefix"):
        make_reference(prefix, 1)
    with pytest.raises(ValueError, match="prefix"):
        parse_reference(SAMPLE, prefix)


SUBSTITUTIONS = [
    (position, replacement)
    for position, replacement in itertools.product(range(3, 10), ALPHABET)
    if SAMPLE[position] != replacement
]


@pytest.mark.parametrize(("position", "replacement"), SUBSTITUTIONS)
def test_every_substitution_is_detected(position: int, replacement: str) -> None:
    """Changing any one character of a reference makes it fail the check."""
    changed = SAMPLE[:position] + replacement + SAMPLE[position + 1 :]
    assert parse_reference(changed, "MP") is None


def _swap(reference: str, position: int) -> str:
    """Return reference with the characters at position and position + 1 swapped."""
    chars = list(reference)
    chars[position], chars[position + 1] = chars[position + 1], chars[position]
    return "".join(chars)


@pytest.mark.parametrize("position", range(3, 8))
def test_adjacent_swaps_within_the_body(position: int) -> None:
    """Swapping two adjacent body characters is detected, except 2 and Z."""
    missed = set()
    for first, second in itertools.permutations(ALPHABET, 2):
        body = list("345678")
        body[position - 3 : position - 1] = [first, second]
        reference = make_reference("MP", _number("".join(body)))
        if parse_reference(_swap(reference, position), "MP") is not None:
            missed.add((first, second))
    assert missed == UNDETECTED_SWAPS


def test_adjacent_swaps_with_the_check_character() -> None:
    """Swapping the last body character with the check character is detected, except 2 and Z."""
    missed = set()
    pairs = set()
    for fifth, sixth in itertools.product(ALPHABET, repeat=2):
        reference = make_reference("MP", _number(f"3456{fifth}{sixth}"))
        last, check = reference[-2], reference[-1]
        if last != check:
            pairs.add((last, check))
            if parse_reference(_swap(reference, 8), "MP") is not None:
                missed.add((last, check))
    assert len(pairs) == 30 * 29
    assert missed == UNDETECTED_SWAPS


@pytest.mark.parametrize(
    "text",
    [
        "MP-7K4X9Q5",
        "mp-7k4x9q5",
        "  MP-7K4X9Q5  ",
        "mp 7k4x 9q5",
        "MP7K4X9Q5",
        "MP--7K4X-9Q5",
        "Mp – 7K4X 9Q5",
        "M P 7 K 4 X 9 Q 5",
        "MP-7K4X9Q5\u200b",
        "\nMP\t7K4X9Q5\n",
    ],
)
def test_parse_tolerates_case_and_separators(text: str) -> None:
    """Case, spaces, hyphens and dashes do not matter; the canonical form comes back."""
    assert parse_reference(text, "MP") == SAMPLE


@pytest.mark.parametrize(
    "text",
    [
        "",
        "MP-",
        "MP-7K4X9Q6",
        "XX-7K4X9Q5",
        "7K4X9Q5",
        "M-7K4X9Q5",
        "MP-7K4X9Q",
        "MP-7K4X9Q55",
        "MP-7K4O9Q5",
        "MP-7K4X9Q5.",
        "MP/7K4X9Q5",
        "MP-0K4X9Q5",
    ],
)
def test_parse_rejects(text: str) -> None:
    """A wrong prefix, length, character or check character gives None."""
    assert parse_reference(text, "MP") is None


def test_parse_uses_the_given_prefix() -> None:
    """The prefix is configurable and matched case-insensitively."""
    reference = make_reference("JS24", 123_456)
    assert reference.startswith("JS24-")
    assert parse_reference(reference.lower(), "JS24") == reference
    assert parse_reference(reference, "MP") is None
