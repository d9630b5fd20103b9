"""Tests for the pure postcode rules: normalising, format and classification."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.postcodes import (
    Constituency,
    DirectoryEntry,
    PostcodeCheck,
    PostcodeChecker,
    PostcodeStatus,
    is_valid_format,
    normalise,
)

CENTRAL = Constituency("E14001520", "Stoke-on-Trent Central", None)
CARDIFF = Constituency("W07000091", "Cardiff South and Penarth", "De Caerdydd a Phenarth")


class TinyDirectory:
    """An in-memory directory standing in for the real index."""

    def __init__(self, entries: dict[str, DirectoryEntry]) -> None:
        """Keep the entries keyed by normalised postcode."""
        self.entries = entries
        self.asked: list[str] = []

    def find(self, normalised: str) -> DirectoryEntry | None:
        """Return the entry for a postcode and remember that it was asked for."""
        self.asked.append(normalised)
        return self.entries.get(normalised)


def make_checker() -> tuple[PostcodeChecker, TinyDirectory]:
    """Return a checker over a handful of postcodes, and its directory."""
    directory = TinyDirectory(
        {
            "ST4 1HH": DirectoryEntry("E14001520", terminated=False),
            "CF10 1EP": DirectoryEntry("W07000091", terminated=False),
            "SE1 9ZZ": DirectoryEntry("E14001520", terminated=True),
            "AB11 3AG": DirectoryEntry(None, terminated=True),
            "SE1P 6AD": DirectoryEntry(None, terminated=False),
            "JE2 4WD": DirectoryEntry("L99999999", terminated=False),
            "ST9 9ZZ": DirectoryEntry("M99999999", terminated=False),
            "ST8 8ZZ": DirectoryEntry("E99999999", terminated=False),
        }
    )
    constituencies = {c.code: c for c in (CENTRAL, CARDIFF)}
    return PostcodeChecker(directory, constituencies), directory


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ST4 1HH", "ST4 1HH"),
        ("st41hh", "ST4 1HH"),
        ("  st4   1hh \n", "ST4 1HH"),
        ("s t 4 1 h h", "ST4 1HH"),
        ("ST4\u00a01HH", "ST4 1HH"),
        ("ST4\u200b1HH\ufeff", "ST4 1HH"),
        ("\x00ST4\t1HH\x7f", "ST4 1HH"),
        ("ＳＴ４ １ＨＨ", "ST4 1HH"),
        ("sw1a1aa", "SW1A 1AA"),
        ("M11AD", "M1 1AD"),
        ("ST4", "ST4"),
        ("", ""),
        ("ST4-1HH", "ST4- 1HH"),
    ],
)
def test_normalise(text: str, expected: str) -> None:
    assert normalise(text) == expected


@pytest.mark.parametrize(
    "postcode", ["ST4 1HH", "M1 1AD", "M11 1AA", "SW1A 1AA", "W1A 0AX", "SE1P 5ZZ", "GIR 0AA"]
)
def test_valid_formats(postcode: str) -> None:
    assert is_valid_format(postcode)


@pytest.mark.parametrize(
    "postcode",
    [
        "st4 1hh",
        "ST41HH",
        "ST4  1HH",
        "Q1 1AA",
        "ST4 1CA",
        "ST4 IHH",
        "SW1A 1AAA",
        "ST4",
        "",
        "ZZ99 3VZ",
        "ST4 1HH\n",
    ],
)
def test_invalid_formats(postcode: str) -> None:
    assert not is_valid_format(postcode)


def test_live_postcode_has_its_constituency() -> None:
    checker, _ = make_checker()
    assert checker.check(" st4 1hh ") == PostcodeCheck("ST4 1HH", PostcodeStatus.LIVE, CENTRAL)
    assert checker.check("CF101EP").constituency == CARDIFF


def test_terminated_postcode_keeps_its_last_constituency() -> None:
    checker, _ = make_checker()
    assert checker.check("SE1 9ZZ") == PostcodeCheck("SE1 9ZZ", PostcodeStatus.TERMINATED, CENTRAL)
    assert checker.check("AB11 3AG") == PostcodeCheck("AB11 3AG", PostcodeStatus.TERMINATED, None)


def test_listed_postcode_without_constituency_is_live_but_unplaced() -> None:
    checker, _ = make_checker()
    assert checker.check("SE1P 6AD") == PostcodeCheck("SE1P 6AD", PostcodeStatus.LIVE, None)


def test_unknown_constituency_code_gives_no_constituency() -> None:
    checker, _ = make_checker()
    assert checker.check("ST8 8ZZ") == PostcodeCheck("ST8 8ZZ", PostcodeStatus.LIVE, None)


def test_well_formed_unlisted_postcode_is_not_found() -> None:
    checker, _ = make_checker()
    assert checker.check("ST4 1ZZ") == PostcodeCheck("ST4 1ZZ", PostcodeStatus.NOT_FOUND, None)


@pytest.mark.parametrize("text", ["JE2 4WD", "je24wd", "GY1 1AA", "IM1 1AA", "ST9 9ZZ"])
def test_crown_dependencies(text: str) -> None:
    checker, _ = make_checker()
    result = checker.check(text)
    assert result.status is PostcodeStatus.CROWN_DEPENDENCY
    assert result.normalised == normalise(text)
    assert result.constituency is None


@pytest.mark.parametrize(
    ("text", "status", "normalised"),
    [
        ("GIR 0AA", PostcodeStatus.SPECIAL, "GIR 0AA"),
        ("gir0aa", PostcodeStatus.SPECIAL, "GIR 0AA"),
        ("BFPO 1234", PostcodeStatus.SPECIAL, None),
        ("bfpo 61", PostcodeStatus.SPECIAL, None),
        ("BF1 3AA", PostcodeStatus.SPECIAL, "BF1 3AA"),
        ("SAN TA1", PostcodeStatus.SPECIAL, None),
        ("ASCN 1ZZ", PostcodeStatus.OVERSEAS_TERRITORY, None),
        ("sthl1zz", PostcodeStatus.OVERSEAS_TERRITORY, None),
        ("TDCU 1ZZ", PostcodeStatus.OVERSEAS_TERRITORY, None),
        ("FIQQ 1ZZ", PostcodeStatus.OVERSEAS_TERRITORY, None),
        ("SIQQ 1ZZ", PostcodeStatus.OVERSEAS_TERRITORY, None),
        ("BIQQ 1ZZ", PostcodeStatus.OVERSEAS_TERRITORY, None),
        ("BBND 1ZZ", PostcodeStatus.OVERSEAS_TERRITORY, None),
        ("PCRN 1ZZ", PostcodeStatus.OVERSEAS_TERRITORY, None),
        ("TKCA 1ZZ", PostcodeStatus.OVERSEAS_TERRITORY, None),
        ("KY1-1100", PostcodeStatus.OVERSEAS_TERRITORY, None),
        ("MSR 1110", PostcodeStatus.OVERSEAS_TERRITORY, None),
        ("VG1110", PostcodeStatus.OVERSEAS_TERRITORY, None),
        ("AI-2640", PostcodeStatus.OVERSEAS_TERRITORY, None),
        ("GX11 1AA", PostcodeStatus.OVERSEAS_TERRITORY, "GX11 1AA"),
        ("BT7 1NN", PostcodeStatus.NORTHERN_IRELAND, "BT7 1NN"),
        ("bt48 6da", PostcodeStatus.NORTHERN_IRELAND, "BT48 6DA"),
        ("ZZ99 3VZ", PostcodeStatus.PSEUDO, None),
        ("zz993wz", PostcodeStatus.PSEUDO, None),
    ],
)
def test_codes_with_no_constituency_are_recognised_without_lookup(
    text: str, status: PostcodeStatus, normalised: str | None
) -> None:
    checker, directory = make_checker()
    assert checker.check(text) == PostcodeCheck(normalised, status, None)
    assert directory.asked == []


@pytest.mark.parametrize(
    "text",
    ["Q1 1AA", "ST4 1CA", "ST4 IHH", "SW1A 1AAA", "ST4", "12345", "", "   ", "ST4-1HH", "BT7 1CN"],
)
def test_malformed_text_is_invalid_without_lookup(text: str) -> None:
    checker, directory = make_checker()
    assert checker.check(text) == PostcodeCheck(None, PostcodeStatus.INVALID_FORMAT, None)
    assert directory.asked == []


def test_fife_postcode_is_not_mistaken_for_cayman() -> None:
    checker, directory = make_checker()
    assert checker.check("KY1 1AA").status is PostcodeStatus.NOT_FOUND
    assert directory.asked == ["KY1 1AA"]


def test_constituency_by_code() -> None:
    checker, _ = make_checker()
    assert checker.constituency("W07000091") == CARDIFF
    assert checker.constituency("E14000000") is None


POSTCODE_LIKE = st.text(alphabet="ABEGIJKLMNQSTXYZ0123456789 -\t\u200b", max_size=10)


@settings(database=None, max_examples=300)
@given(st.one_of(st.text(max_size=20), POSTCODE_LIKE))
def test_any_text_gets_a_consistent_answer(text: str) -> None:
    checker, _ = make_checker()
    result = checker.check(text)
    if result.normalised is not None:
        assert is_valid_format(result.normalised)
        assert checker.check(result.normalised) == result
    if result.constituency is not None:
        assert result.status in {PostcodeStatus.LIVE, PostcodeStatus.TERMINATED}
