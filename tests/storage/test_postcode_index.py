"""Tests for the postcode index over the real shipped data, and over tiny files."""

import csv
import gzip
from array import array
from pathlib import Path

import pytest

from bot.core.postcodes import Constituency, DirectoryEntry, PostcodeChecker, PostcodeStatus
from bot.storage import postcode_index
from bot.storage.postcode_index import (
    DEFAULT_DATA_DIR,
    PostcodeIndex,
    load_attribution,
    load_postcode_checker,
    read_gb_cached,
    read_gb_file,
)

FIXTURES = Path(__file__).resolve().parent.parent / "data" / "postcode_fixtures.csv"


def read_fixture_rows() -> list[dict[str, str]]:
    """Return the rows of the shared postcode fixture file."""
    with FIXTURES.open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


FIXTURE_ROWS = read_fixture_rows()


@pytest.fixture(scope="module")
def checker() -> PostcodeChecker:
    """Return the process-wide checker over the shipped data."""
    return load_postcode_checker()


def test_fixture_file_is_complete() -> None:
    assert len(FIXTURE_ROWS) == 58


@pytest.mark.parametrize(
    "row",
    FIXTURE_ROWS,
    ids=[f"{i:02d}-{row['input'].strip()}" for i, row in enumerate(FIXTURE_ROWS)],
)
def test_fixture_row(checker: PostcodeChecker, row: dict[str, str]) -> None:
    result = checker.check(row["input"])
    assert result.normalised == (row["expected_normalised"] or None)
    assert result.status == PostcodeStatus(row["expected_status"])
    if row["expected_pcon24cd"]:
        assert result.constituency is not None
        assert result.constituency.code == row["expected_pcon24cd"]
        assert result.constituency.name == row["expected_pcon24nm"]
    else:
        assert result.constituency is None


@pytest.mark.parametrize(
    ("postcode", "code", "name"),
    [
        # From constituency_E14001520_stoke_on_trent_central.csv
        ("ST1 1AF", "E14001520", "Stoke-on-Trent Central"),
        ("ST2 8NN", "E14001520", "Stoke-on-Trent Central"),
        ("ST1 5JF", "E14001520", "Stoke-on-Trent Central"),
        ("ST3 5AG", "E14001520", "Stoke-on-Trent Central"),
        ("ST4 6JS", "E14001520", "Stoke-on-Trent Central"),
        # The other target constituency files, including their out-of-area postcodes.
        ("LA23 2NB", "E14001580", "Westmorland and Lonsdale"),
        ("CA10 3QF", "E14001580", "Westmorland and Lonsdale"),
        ("DL12 0JA", "E14001580", "Westmorland and Lonsdale"),
        ("SE11 4SZ", "E14001085", "Bermondsey and Old Southwark"),
        ("SE1P 4ES", "E14001085", "Bermondsey and Old Southwark"),
        ("SE15 4PY", "E14001421", "Peckham"),
        ("SE5 8EY", "E14001205", "Dulwich and West Norwood"),
        ("SW16 2HQ", "E14001205", "Dulwich and West Norwood"),
        ("SW4 6AN", "E14001559", "Vauxhall and Camberwell Green"),
        ("SE1 8AQ", "E14001559", "Vauxhall and Camberwell Green"),
        # First and last rows of the whole-GB file.
        ("AB10 1AB", "S14000061", "Aberdeen South"),
        ("ZE3 9JZ", "S14000051", "Orkney and Shetland"),
    ],
)
def test_live_postcodes_from_constituency_files(
    checker: PostcodeChecker, postcode: str, code: str, name: str
) -> None:
    result = checker.check(postcode)
    assert result.status is PostcodeStatus.LIVE
    assert result.constituency is not None
    assert (result.constituency.code, result.constituency.name) == (code, name)


def test_onspd_overrides_code_point_constituency(checker: PostcodeChecker) -> None:
    result = checker.check("AB12 3TP")
    assert result.constituency is not None
    assert result.constituency.name == "West Aberdeenshire and Kincardine"


def test_onspd_termination_overrides_code_point_live(checker: PostcodeChecker) -> None:
    result = checker.check("AB10 1WR")
    assert result.status is PostcodeStatus.TERMINATED
    assert result.constituency is not None
    assert result.constituency.code == "S14000061"


def test_terminated_postcode_without_constituency(checker: PostcodeChecker) -> None:
    assert checker.check("AB11 3AG").status is PostcodeStatus.TERMINATED
    assert checker.check("AB11 3AG").constituency is None


def test_listed_postcode_without_coordinates_is_live_but_unplaced(
    checker: PostcodeChecker,
) -> None:
    result = checker.check("SE1P 6AD")
    assert (result.status, result.constituency) == (PostcodeStatus.LIVE, None)


def test_welsh_constituency_has_its_welsh_name(checker: PostcodeChecker) -> None:
    assert checker.check("CF10 1EP").constituency == Constituency(
        "W07000091", "Cardiff South and Penarth", "De Caerdydd a Phenarth"
    )
    glyndwr = checker.constituency("W07000102")
    assert glyndwr is not None
    assert glyndwr.name == "Montgomeryshire and Glyndŵr"


def test_checker_is_loaded_once() -> None:
    assert load_postcode_checker() is load_postcode_checker()


def test_attribution_lists_every_required_line() -> None:
    lines = load_attribution().splitlines()
    assert len(lines) == 5
    assert lines[0] == "Contains OS data © Crown copyright and database right 2023/2024"
    assert lines[3].startswith("Source: Office for National Statistics licensed under")
    assert "mySociety, CC BY 4.0" in lines[4]


def test_shipped_files_are_the_expected_ones() -> None:
    names = {path.name for path in DEFAULT_DATA_DIR.iterdir()}
    assert {"gb_postcode_pcon2024.csv.gz", "onspd_overlay.csv", "constituencies_2024.csv"} <= names
    with (DEFAULT_DATA_DIR / "onspd_overlay.csv").open(encoding="utf-8") as file:
        assert next(file) == "pcds,doterm,pcon\n"
        assert sum(1 for _ in file) == 8048


def write_tiny_data(data_dir: Path, rows: str) -> None:
    """Write a tiny set of postcode files, with rows as the gzip file's body."""
    with gzip.open(data_dir / "gb_postcode_pcon2024.csv.gz", "wt") as file:
        file.write("postcode,pcon24cd\n" + rows)
    (data_dir / "onspd_overlay.csv").write_text("pcds,doterm,pcon\nAB1 0AA,199606,E1\n")
    (data_dir / "constituencies_2024.csv").write_text(
        "gss_code,name,name_cy,nation,mysociety_short_code,three_code\n"
        "E1,One,,England,X.1,ONE\nW1,Un,Yn,Wales,X.2,UN\n"
    )


def test_tiny_data_dir(tmp_path: Path) -> None:
    write_tiny_data(tmp_path, "AB1 0AA,W1\nM1 1AD,E1\nM1 1AE,\nM11 1AA,W1\n")
    checker = load_postcode_checker(tmp_path)
    assert checker.check("M1 1AD").constituency == Constituency("E1", "One", None)
    assert checker.check("m11 1aa").constituency == Constituency("W1", "Un", "Yn")
    assert checker.check("M1 1AE").status is PostcodeStatus.LIVE
    assert checker.check("AB1 0AA").status is PostcodeStatus.TERMINATED
    assert checker.check("M1 1AA").status is PostcodeStatus.NOT_FOUND
    assert checker.check("M11 1AB").status is PostcodeStatus.NOT_FOUND


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("M11 1AA,E1\nM1 1AD,E1\n", "not strictly increasing"),
        ("M1 1AD,E1\nM1 1AD,E1\n", "not strictly increasing"),
        ("M1 1AD,E9\n", "unknown constituency codes"),
    ],
)
def test_bad_data_fails_at_load(tmp_path: Path, rows: str, message: str) -> None:
    write_tiny_data(tmp_path, rows)
    with pytest.raises(ValueError, match=message):
        load_postcode_checker(tmp_path)


def test_index_ignores_text_that_cannot_be_a_key() -> None:
    keys, slots = array("q"), array("H")
    index = PostcodeIndex(keys, slots, [], {"JE2 4WD": DirectoryEntry("L99999999", False)})
    assert index.find("SW1A 1AAA") is None
    assert index.find("JE2 4WD ") is None
    assert index.find("ŚT4 1HH") is None
    assert index.find("JE2 4WD") == DirectoryEntry("L99999999", terminated=False)
    assert len(index) == 1


def _small_table(folder: Path) -> Path:
    """Write a tiny postcode table in the shipped format; return its path."""
    path = folder / "table.csv.gz"
    rows = "postcode,pcon24cd\nAB1 0AA,S14000061\nST4 1HH,E14001520\nZZ9 9ZZ,\n"
    path.write_bytes(gzip.compress(rows.encode()))
    return path


def test_the_parsed_table_is_kept_and_read_back_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CASEWORK_CACHE_DIR", str(tmp_path / "cache"))
    table = _small_table(tmp_path)
    parsed = read_gb_file(table)
    assert read_gb_cached(table) == parsed
    [kept] = (tmp_path / "cache").glob("postcodes-*.bin")
    monkeypatch.setattr(postcode_index, "read_gb_file", _must_not_parse)
    assert read_gb_cached(table) == parsed
    kept.write_bytes(kept.read_bytes()[:30])  # a truncated copy is parsed again
    monkeypatch.setattr(postcode_index, "read_gb_file", read_gb_file)
    assert read_gb_cached(table) == parsed


def test_a_cache_that_cannot_be_written_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder would be")
    monkeypatch.setenv("CASEWORK_CACHE_DIR", str(blocked))
    table = _small_table(tmp_path)
    assert read_gb_cached(table) == read_gb_file(table)


def _must_not_parse(path: Path) -> object:
    raise AssertionError(f"{path} was parsed although a parsed copy was kept")


def test_welsh_names_come_from_the_data_with_its_slips_corrected() -> None:
    checker = load_postcode_checker()
    names = checker.names_in("cy")
    assert names["Alyn and Deeside"] == "Alun a Glannau Dyfrdwy"
    assert names["Gower"] == "Gŵyr"
    assert "Caerfyrddin" not in names  # one name in both languages, not "Carmarthen"
    assert "Llanelli" not in names
    assert checker.names_in("en") == {}
    assert len(names) == 23
