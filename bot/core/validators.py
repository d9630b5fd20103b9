"""Check and normalise one answer to an intake question, with validators looked up by name."""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Final

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from bot.core.dates import add_years, date_parts, long_date, real_date
from bot.core.text import clean_text


@dataclass(frozen=True, slots=True)
class Accepted:
    """An answer that passed, with the normalised value to store (and a likely correction)."""

    value: str
    suggestion: str | None = None


@dataclass(frozen=True, slots=True)
class Rejected:
    """An answer that failed: a message-catalogue key and the values for its placeholders."""

    message: str
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ValidationContext:
    """What a validator needs besides the answer: today's date and the step's length limit."""

    today: date
    max_length: int | None = None

    def __post_init__(self) -> None:
        """Refuse a length limit that no answer could meet."""
        if self.max_length is not None and self.max_length < 1:
            raise ValueError(f"max_length must be at least 1, not {self.max_length}")


Validator = Callable[[str, ValidationContext], Accepted | Rejected]

# Common slips in the domains most people use; a match is offered once, never forced.
MISSPELT_DOMAINS: Final[Mapping[str, str]] = MappingProxyType(
    {
        **dict.fromkeys(
            ("gmial.com", "gmal.com", "gmai.com", "gamil.com", "gnail.com", "gmaill.com"),
            "gmail.com",
        ),
        **dict.fromkeys(("gmail.co", "gmail.con", "gmail.cm", "gmail.co.uk"), "gmail.com"),
        **dict.fromkeys(
            ("hotmial.com", "hotmal.com", "hotmai.com", "hotmail.con", "hotmail.cm"),
            "hotmail.com",
        ),
        **dict.fromkeys(("hotmial.co.uk", "hotmail.co.k", "hotmail.couk"), "hotmail.co.uk"),
        **dict.fromkeys(("outlok.com", "outloo.com", "outlook.con"), "outlook.com"),
        **dict.fromkeys(("yahooo.com", "yaho.com", "yahoo.con"), "yahoo.com"),
        **dict.fromkeys(("yahoo.co.k", "yahoo.couk", "yaho.co.uk"), "yahoo.co.uk"),
        **dict.fromkeys(("iclod.com", "icoud.com", "icloud.con"), "icloud.com"),
        **dict.fromkeys(("btinternet.co", "btinternt.com", "btinternet.con"), "btinternet.com"),
        **dict.fromkeys(("live.co.k", "live.couk"), "live.co.uk"),
    }
)

_PHONE_CHARACTERS: Final = re.compile(r"[0-9\s+()\-./]+")
_REFERENCE_CHARACTERS: Final = re.compile(r"[A-Za-z0-9 ./\-]+")
_DEADLINE_MAX_YEARS: Final = 5
_MAX_AGE: Final = 120


def _has_letter(value: str) -> bool:
    """Return whether value contains a letter in any script."""
    return any(character.isalpha() for character in value)


def _has_letter_or_digit(value: str) -> bool:
    """Return whether value contains a letter or a digit in any script."""
    return any(character.isalnum() for character in value)


def _single_line(value: str) -> str:
    """Return value with its lines joined by spaces."""
    return " ".join(value.split())


def _check_length(
    name: str, value: str, context: ValidationContext, default: int
) -> Rejected | None:
    """Return the too-long rejection if value exceeds the step's limit or the default."""
    limit = context.max_length or default
    if len(value) <= limit:
        return None
    return Rejected(f"error.{name}.too_long", {"max": f"{limit:,}", "length": f"{len(value):,}"})


@dataclass(frozen=True, slots=True)
class _TextRule:
    """How one kind of typed answer is checked: its limit and what it must contain."""

    name: str
    default_max: int
    content: Callable[[str], bool] = _has_letter
    content_error: str = "no_letters"
    single_line: bool = True


_FULL_NAME: Final = _TextRule("full_name", 100)
_PERSON_NAME: Final = _TextRule("person_name", 100)
_RELATIONSHIP: Final = _TextRule("relationship", 60)
_FREE_TEXT: Final = _TextRule(
    "free_text", 2000, _has_letter_or_digit, "no_letters_or_digits", single_line=False
)
_SHORT_TEXT: Final = _TextRule("short_text", 200, _has_letter_or_digit, "no_letters_or_digits")


def _text_answer(rule: _TextRule, text: str, context: ValidationContext) -> Accepted | Rejected:
    """Check a cleaned text answer for emptiness, length and the content it must have."""
    value = clean_text(text)
    if rule.single_line:
        value = _single_line(value)
    if not value:
        return Rejected(f"error.{rule.name}.empty")
    if too_long := _check_length(rule.name, value, context, rule.default_max):
        return too_long
    if not rule.content(value):
        return Rejected(f"error.{rule.name}.{rule.content_error}")
    return Accepted(value)


def validate_full_name(text: str, context: ValidationContext) -> Accepted | Rejected:
    """Accept the person's own full name, spelt and capitalised as they typed it."""
    return _text_answer(_FULL_NAME, text, context)


def validate_person_name(text: str, context: ValidationContext) -> Accepted | Rejected:
    """Accept someone else's full name, spelt and capitalised as typed."""
    return _text_answer(_PERSON_NAME, text, context)


def validate_relationship(text: str, context: ValidationContext) -> Accepted | Rejected:
    """Accept how the person is related to the one they write for, like "daughter"."""
    return _text_answer(_RELATIONSHIP, text, context)


def validate_address(text: str, context: ValidationContext) -> Accepted | Rejected:
    """Accept a postal address of one or more lines, stored with the lines joined by ", "."""
    lines = (line.strip(" ,") for line in clean_text(text).split("\n"))
    value = ", ".join(line for line in lines if line)
    if not value:
        return Rejected("error.address.empty")
    if too_long := _check_length("address", value, context, 300):
        return too_long
    if len(value) < 5:
        return Rejected("error.address.too_short", {"min": "5"})
    if not _has_letter(value):
        return Rejected("error.address.no_letters")
    return Accepted(value)


def validate_phone(text: str, context: ValidationContext) -> Accepted | Rejected:
    """Accept a UK or international phone number, stored in E.164 form like +447911123456."""
    value = clean_text(text)
    if not value:
        return Rejected("error.phone.empty")
    # phonenumbers reads letters as keypad digits and "ext" as an extension: refuse both.
    if not _PHONE_CHARACTERS.fullmatch(value):
        return Rejected("error.phone.characters")
    try:
        number = phonenumbers.parse(value, "GB")
    except phonenumbers.NumberParseException:
        return Rejected("error.phone.invalid")
    if not phonenumbers.is_valid_number(number):
        # Shaped like a number, but in a range no one has (07700 900xxx is kept for dramas).
        possible = phonenumbers.is_possible_number(number)
        return Rejected("error.phone.not_in_use" if possible else "error.phone.invalid")
    return Accepted(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def validate_email_address(text: str, context: ValidationContext) -> Accepted | Rejected:
    """Accept an email address in the correct format, stored in its normalised form."""
    value = clean_text(text)
    if not value:
        return Rejected("error.email.empty")
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return Rejected("error.email.invalid")
    local, _, domain = checked.normalized.rpartition("@")
    meant = MISSPELT_DOMAINS.get(domain.lower())
    return Accepted(checked.normalized, f"{local}@{meant}" if meant else None)


def validate_deadline_date(text: str, context: ValidationContext) -> Accepted | Rejected:
    """Accept a date from today up to 5 years ahead, stored as YYYY-MM-DD."""
    today = context.today
    example = {"example": f"15 3 {today.year + 1}"}
    if not clean_text(text):
        return Rejected("error.deadline_date.empty", example)
    parts = date_parts(text)
    if parts is None:
        return Rejected("error.deadline_date.format", example)
    deadline = real_date(parts, today, past=False)
    if deadline is None:
        return Rejected("error.date.not_real")
    if deadline < today:
        return Rejected("error.deadline_date.past")
    if deadline > add_years(today, _DEADLINE_MAX_YEARS):
        return Rejected("error.deadline_date.too_far", {"years": str(_DEADLINE_MAX_YEARS)})
    return Accepted(deadline.isoformat())


def validate_date_of_birth(text: str, context: ValidationContext) -> Accepted | Rejected:
    """Accept a date of birth before today for someone aged 120 or under, stored as YYYY-MM-DD."""
    today = context.today
    if not clean_text(text):
        return Rejected("error.date_of_birth.empty")
    parts = date_parts(text)
    if parts is None or parts.no_year:
        return Rejected("error.date_of_birth.format")
    born = real_date(parts, today, past=True)
    if born is None:
        return Rejected("error.date.not_real")
    if born >= today:
        return Rejected("error.date_of_birth.future")
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    if age > _MAX_AGE:
        earliest = add_years(today, -(_MAX_AGE + 1))
        return Rejected("error.date_of_birth.too_old", {"earliest": long_date(earliest)})
    return Accepted(born.isoformat())


def validate_free_text(text: str, context: ValidationContext) -> Accepted | Rejected:
    """Accept a long answer in the person's own words (2,000 characters unless the step says)."""
    return _text_answer(_FREE_TEXT, text, context)


def validate_short_text(text: str, context: ValidationContext) -> Accepted | Rejected:
    """Accept a short one-line answer, like an organisation's name (200 characters by default)."""
    return _text_answer(_SHORT_TEXT, text, context)


def validate_their_reference(text: str, context: ValidationContext) -> Accepted | Rejected:
    """Accept an organisation's reference number: letters, digits, spaces, "-", "." and "/"."""
    value = _single_line(clean_text(text))
    if not value:
        return Rejected("error.their_reference.empty")
    if too_long := _check_length("their_reference", value, context, 60):
        return too_long
    if not _REFERENCE_CHARACTERS.fullmatch(value):
        return Rejected("error.their_reference.characters")
    if not _has_letter_or_digit(value):
        return Rejected("error.their_reference.no_letters_or_digits")
    return Accepted(value)


VALIDATORS: Final[Mapping[str, Validator]] = MappingProxyType(
    {
        "full_name": validate_full_name,
        "person_name": validate_person_name,
        "relationship": validate_relationship,
        "address": validate_address,
        "phone": validate_phone,
        "email": validate_email_address,
        "deadline_date": validate_deadline_date,
        "date_of_birth": validate_date_of_birth,
        "free_text": validate_free_text,
        "short_text": validate_short_text,
        "their_reference": validate_their_reference,
    }
)


# Every message key a validator can return (checked against the catalogue at start-up).
MESSAGES = (
    "error.full_name.empty",
    "error.full_name.too_long",
    "error.full_name.no_letters",
    "error.person_name.empty",
    "error.person_name.too_long",
    "error.person_name.no_letters",
    "error.relationship.empty",
    "error.relationship.too_long",
    "error.relationship.no_letters",
    "error.address.empty",
    "error.address.too_short",
    "error.address.too_long",
    "error.address.no_letters",
    "error.phone.empty",
    "error.phone.characters",
    "error.phone.invalid",
    "error.phone.not_in_use",
    "error.email.empty",
    "error.email.invalid",
    "error.date.not_real",
    "error.deadline_date.empty",
    "error.deadline_date.format",
    "error.deadline_date.past",
    "error.deadline_date.too_far",
    "error.date_of_birth.empty",
    "error.date_of_birth.format",
    "error.date_of_birth.future",
    "error.date_of_birth.too_old",
    "error.free_text.empty",
    "error.free_text.too_long",
    "error.free_text.no_letters_or_digits",
    "error.short_text.empty",
    "error.short_text.too_long",
    "error.short_text.no_letters_or_digits",
    "error.their_reference.empty",
    "error.their_reference.too_long",
    "error.their_reference.characters",
    "error.their_reference.no_letters_or_digits",
)
