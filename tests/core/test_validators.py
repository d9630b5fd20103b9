"""Tests for the answer validators and the messages they point to."""

import re
import string
from datetime import date
from pathlib import Path

import pytest
import yaml

from bot.core.validators import MESSAGES, VALIDATORS, Accepted, Rejected, ValidationContext

CATALOGUE_PATH = Path(__file__).parents[2] / "flows" / "locales" / "en" / "validation.yaml"
TODAY = date(2026, 6, 15)
CONTEXT = ValidationContext(today=TODAY)


def _load_catalogue() -> dict[str, str]:
    """Return the validation message catalogue as a flat mapping."""
    loaded = yaml.safe_load(CATALOGUE_PATH.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    assert all(isinstance(key, str) and isinstance(text, str) for key, text in loaded.items())
    return loaded


CATALOGUE = _load_catalogue()


def _short_id(value: object) -> str | None:
    """Return a readable test id for long strings."""
    if isinstance(value, str) and len(value) > 30:
        return f"{value[:12]!r}...({len(value)} chars)"
    return None


ACCEPTED: list[tuple[str, str, str]] = [
    ("full_name", "  Siân   O'Brien-Evans ", "Siân O'Brien-Evans"),
    ("full_name", "mary-jane mcdonald", "mary-jane mcdonald"),
    ("full_name", "JOHN SMITH", "JOHN SMITH"),
    ("full_name", "Ann\nSmith", "Ann Smith"),
    ("full_name", "李小龍", "李小龍"),
    ("full_name", "A", "A"),
    ("full_name", "a" * 100, "a" * 100),
    ("person_name", "Mohammed al-Rashid", "Mohammed al-Rashid"),
    ("relationship", "Daughter", "Daughter"),
    ("relationship", "support worker", "support worker"),
    ("address", "1 High Street,\nStoke-on-Trent\n", "1 High Street, Stoke-on-Trent"),
    ("address", "Flat 2\n\n10 Church Road, \nHanley", "Flat 2, 10 Church Road, Hanley"),
    ("address", "Rose Cottage", "Rose Cottage"),
    ("phone", "07911 123456", "+447911123456"),
    ("phone", "07911-123-456", "+447911123456"),
    ("phone", "+44 7911 123456", "+447911123456"),
    ("phone", "+44 (0)7911 123456", "+447911123456"),
    ("phone", "0044 7911 123456", "+447911123456"),
    ("phone", "447911123456", "+447911123456"),
    ("phone", "(01782) 123456", "+441782123456"),
    ("phone", "01782 123 456", "+441782123456"),
    ("phone", "020 7219 3000", "+442072193000"),
    ("phone", "+44 808 157 0192", "+448081570192"),
    ("phone", "+1 650 253 0000", "+16502530000"),
    ("phone", "0033 1 42 68 53 00", "+33142685300"),
    ("email", "Name@Example.COM", "Name@example.com"),
    ("email", " someone@council.gov.uk ", "someone@council.gov.uk"),
    ("deadline_date", "15/12/2026", "2026-12-15"),
    ("deadline_date", "15-12-2026", "2026-12-15"),
    ("deadline_date", "15.12.2026", "2026-12-15"),
    ("deadline_date", "15 12 2026", "2026-12-15"),
    ("deadline_date", "15 December 2026", "2026-12-15"),
    ("deadline_date", "15 Dec 2026", "2026-12-15"),
    ("deadline_date", "15 dec. 2026", "2026-12-15"),
    ("deadline_date", "15-Dec-2026", "2026-12-15"),
    ("deadline_date", "December 15 2026", "2026-12-15"),
    ("deadline_date", "December 15, 2026", "2026-12-15"),
    ("deadline_date", "15th of December 2026", "2026-12-15"),
    ("deadline_date", "Tuesday 15 December 2026", "2026-12-15"),
    ("deadline_date", "2026-12-15", "2026-12-15"),
    ("deadline_date", "15/12/26", "2026-12-15"),
    ("deadline_date", "1/7/26", "2026-07-01"),
    ("deadline_date", "15 Sept 2026", "2026-09-15"),
    ("deadline_date", "15/06/2026", "2026-06-15"),
    ("deadline_date", "15/06/2031", "2031-06-15"),
    ("date_of_birth", "27/03/1985", "1985-03-27"),
    ("date_of_birth", "27 March 1985", "1985-03-27"),
    ("date_of_birth", "1985-03-27", "1985-03-27"),
    ("date_of_birth", "27/03/85", "1985-03-27"),
    ("date_of_birth", "14/06/26", "2026-06-14"),
    ("date_of_birth", "16/06/26", "1926-06-16"),
    ("date_of_birth", "16/06/1905", "1905-06-16"),
    ("date_of_birth", "14/06/2026", "2026-06-14"),
    ("free_text", "line one  \n\n\n\nline two", "line one\n\nline two"),
    ("free_text", "?? 1", "?? 1"),
    ("free_text", "a" * 2000, "a" * 2000),
    ("short_text", "Stoke-on-Trent City Council", "Stoke-on-Trent City Council"),
    ("short_text", "DWP\nJobcentre Plus", "DWP Jobcentre Plus"),
    ("short_text", "3M", "3M"),
    ("their_reference", "AB 12 34 56 C", "AB 12 34 56 C"),
    ("their_reference", "HO/123.456-7", "HO/123.456-7"),
    ("their_reference", "ab123", "ab123"),
]

# (validator, bad input, expected key, expected params or None to leave params unchecked)
REJECTED: list[tuple[str, str, str, dict[str, str] | None]] = [
    ("full_name", "", "error.full_name.empty", {}),
    ("full_name", " \u200b\t\n ", "error.full_name.empty", {}),
    ("full_name", "12345", "error.full_name.no_letters", {}),
    ("full_name", "a" * 101, "error.full_name.too_long", {"max": "100", "length": "101"}),
    ("person_name", "", "error.person_name.empty", {}),
    ("person_name", "--", "error.person_name.no_letters", {}),
    ("person_name", "b" * 150, "error.person_name.too_long", {"max": "100", "length": "150"}),
    ("relationship", "", "error.relationship.empty", {}),
    ("relationship", "123", "error.relationship.no_letters", {}),
    ("relationship", "c" * 61, "error.relationship.too_long", {"max": "60", "length": "61"}),
    ("address", "", "error.address.empty", {}),
    ("address", ",\n,", "error.address.empty", {}),
    ("address", "1 A", "error.address.too_short", None),
    ("address", "12345\n678", "error.address.no_letters", {}),
    ("address", "d" * 301, "error.address.too_long", {"max": "300", "length": "301"}),
    ("phone", "", "error.phone.empty", {}),
    ("phone", "07911 12345a", "error.phone.characters", {}),
    ("phone", "0800 FLOWERS", "error.phone.characters", {}),
    ("phone", "07911 123456 ext 2", "error.phone.characters", {}),
    # Shaped like numbers, but in ranges no one has: said so, not "enter a phone number".
    ("phone", "07700 900982", "error.phone.not_in_use", {}),
    ("phone", "07700 900461", "error.phone.not_in_use", {}),
    ("phone", "+44 7911 12345", "error.phone.not_in_use", {}),
    ("phone", "999", "error.phone.invalid", {}),
    ("phone", "+", "error.phone.invalid", {}),
    ("phone", "0" * 300, "error.phone.invalid", {}),
    ("email", "", "error.email.empty", {}),
    ("email", "name", "error.email.invalid", {}),
    ("email", "name@", "error.email.invalid", {}),
    ("email", "name@example", "error.email.invalid", {}),
    ("email", "a..b@example.com", "error.email.invalid", {}),
    ("email", "name @example.com", "error.email.invalid", {}),
    ("deadline_date", "", "error.deadline_date.empty", {"example": "15 3 2027"}),
    ("deadline_date", "soon", "error.deadline_date.format", {"example": "15 3 2027"}),
    ("deadline_date", "15 Decembr 2026", "error.deadline_date.format", None),
    ("deadline_date", "15/12/202", "error.deadline_date.format", None),
    ("deadline_date", "2026-12", "error.deadline_date.format", None),
    ("deadline_date", "15/12/2026 at 10am", "error.deadline_date.format", None),
    ("deadline_date", "15/13/2026", "error.date.not_real", {}),
    ("deadline_date", "31/02/2027", "error.date.not_real", {}),
    ("deadline_date", "29/02/2027", "error.date.not_real", {}),
    ("deadline_date", "32 January 2027", "error.date.not_real", {}),
    ("deadline_date", "0/1/2027", "error.date.not_real", {}),
    ("deadline_date", "14/06/2026", "error.deadline_date.past", {}),
    ("deadline_date", "16/06/2031", "error.deadline_date.too_far", {"years": "5"}),
    ("date_of_birth", "", "error.date_of_birth.empty", {}),
    ("date_of_birth", "1985", "error.date_of_birth.format", {}),
    ("date_of_birth", "31/04/1985", "error.date.not_real", {}),
    ("date_of_birth", "15/06/2026", "error.date_of_birth.future", {}),
    ("date_of_birth", "16/06/2026", "error.date_of_birth.future", {}),
    ("date_of_birth", "15/06/1905", "error.date_of_birth.too_old", {"earliest": "15 June 1905"}),
    ("free_text", "", "error.free_text.empty", {}),
    ("free_text", "!!!", "error.free_text.no_letters_or_digits", {}),
    ("free_text", "🙂", "error.free_text.no_letters_or_digits", {}),
    ("free_text", "a" * 2345, "error.free_text.too_long", {"max": "2,000", "length": "2,345"}),
    ("short_text", "", "error.short_text.empty", {}),
    ("short_text", "—", "error.short_text.no_letters_or_digits", {}),
    ("short_text", "e" * 201, "error.short_text.too_long", {"max": "200", "length": "201"}),
    ("their_reference", "", "error.their_reference.empty", {}),
    ("their_reference", "AB#123", "error.their_reference.characters", {}),
    ("their_reference", "Ref: 123", "error.their_reference.characters", {}),
    ("their_reference", "---", "error.their_reference.no_letters_or_digits", {}),
    ("their_reference", "f" * 61, "error.their_reference.too_long", {"max": "60", "length": "61"}),
]

BAD_INPUTS = sorted({text for _, text, _, _ in REJECTED})


def _placeholders(text: str) -> set[str]:
    """Return the names of the str.format fields in text."""
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def test_validator_names() -> None:
    """Flows refer to validators by these names."""
    assert set(VALIDATORS) == {
        "full_name",
        "person_name",
        "relationship",
        "address",
        "phone",
        "email",
        "deadline_date",
        "date_of_birth",
        "free_text",
        "short_text",
        "their_reference",
    }


@pytest.mark.parametrize(("name", "text", "expected"), ACCEPTED, ids=_short_id)
def test_accepts_and_normalises(name: str, text: str, expected: str) -> None:
    """A good answer is accepted and stored in its normal form."""
    assert VALIDATORS[name](text, CONTEXT) == Accepted(expected)


@pytest.mark.parametrize(("name", "text", "expected"), ACCEPTED, ids=_short_id)
def test_cleans_before_checking(name: str, text: str, expected: str) -> None:
    """Hidden characters and surrounding spaces do not change the stored answer."""
    assert VALIDATORS[name](f" \u200b{text}\u202e\t", CONTEXT) == Accepted(expected)


@pytest.mark.parametrize(("name", "text", "key", "params"), REJECTED, ids=_short_id)
def test_rejects(name: str, text: str, key: str, params: dict[str, str] | None) -> None:
    """A bad answer is rejected with the message that says what to fix."""
    result = VALIDATORS[name](text, CONTEXT)
    assert isinstance(result, Rejected)
    assert result.message == key
    if params is not None:
        assert dict(result.params) == params


@pytest.mark.parametrize("name", sorted(VALIDATORS))
def test_every_rejection_has_a_complete_message(name: str) -> None:
    """Every key a validator returns is in the catalogue, with all its placeholders supplied."""
    for text in BAD_INPUTS:
        result = VALIDATORS[name](text, CONTEXT)
        if isinstance(result, Rejected):
            assert result.message in CATALOGUE, (text, result.message)
            message = CATALOGUE[result.message]
            assert _placeholders(message) <= set(result.params), (text, result.message)
            message.format(**result.params)


def test_every_catalogue_message_is_used() -> None:
    """The catalogue holds no message that no validator returns."""
    returned = set()
    for validate in VALIDATORS.values():
        for text in BAD_INPUTS:
            result = validate(text, CONTEXT)
            if isinstance(result, Rejected):
                returned.add(result.message)
    assert returned == set(CATALOGUE)


@pytest.mark.parametrize(("key", "message"), sorted(CATALOGUE.items()))
def test_message_wording(key: str, message: str) -> None:
    """Messages follow GOV.UK style: no apology, no blame, no "please"."""
    assert not re.search(r"\b(sorry|invalid|error|please)\b", message, re.IGNORECASE), key
    assert message[0].isupper(), key
    assert not message.endswith("."), key


@pytest.mark.parametrize(
    ("name", "text", "max_length", "expected"),
    [
        ("full_name", "Annie", 5, Accepted("Annie")),
        (
            "full_name",
            "Annie B",
            5,
            Rejected("error.full_name.too_long", {"max": "5", "length": "7"}),
        ),
        (
            "address",
            "1 Long Road, Longton",
            10,
            Rejected("error.address.too_long", {"max": "10", "length": "20"}),
        ),
        ("free_text", "g" * 2345, 3000, Accepted("g" * 2345)),
        (
            "free_text",
            "g" * 11,
            10,
            Rejected("error.free_text.too_long", {"max": "10", "length": "11"}),
        ),
        ("short_text", "h" * 300, 1000, Accepted("h" * 300)),
        (
            "their_reference",
            "AB123",
            4,
            Rejected("error.their_reference.too_long", {"max": "4", "length": "5"}),
        ),
    ],
    ids=_short_id,
)
def test_step_max_length_overrides_default(
    name: str, text: str, max_length: int, expected: Accepted | Rejected
) -> None:
    """A flow step's max_length replaces the validator's default limit."""
    context = ValidationContext(today=TODAY, max_length=max_length)
    assert VALIDATORS[name](text, context) == expected


def test_free_text_is_never_truncated() -> None:
    """A long answer is rejected whole rather than cut short."""
    text = "word " * 1000
    result = VALIDATORS["free_text"](text, CONTEXT)
    assert isinstance(result, Rejected)
    assert result.params == {"max": "2,000", "length": "4,999"}


LEAP_DAY = ValidationContext(today=date(2028, 2, 29))


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        (
            "date_of_birth",
            "28/02/1907",
            Rejected("error.date_of_birth.too_old", {"earliest": "28 February 1907"}),
        ),
        ("date_of_birth", "01/03/1907", Accepted("1907-03-01")),
        ("deadline_date", "28/02/2033", Accepted("2033-02-28")),
        ("deadline_date", "01/03/2033", Rejected("error.deadline_date.too_far", {"years": "5"})),
    ],
)
def test_year_limits_from_leap_day(name: str, text: str, expected: Accepted | Rejected) -> None:
    """Year limits counted from 29 February fall on 28 February."""
    assert VALIDATORS[name](text, LEAP_DAY) == expected


def test_max_length_must_be_positive() -> None:
    """A step cannot set a limit no answer could meet."""
    with pytest.raises(ValueError, match="max_length"):
        ValidationContext(today=TODAY, max_length=0)


def test_messages_lists_exactly_the_validation_texts() -> None:
    assert set(MESSAGES) == set(CATALOGUE)
