"""Tests for cleaning typed text and making one-line summaries."""

import pytest

from bot.core.text import clean_text, one_line

HIDDEN = [
    *"\x00\x01\x07\x08\x0e\x1f\x7f\x80\x9b\x9f",
    "\u200b",
    "\u200c",
    "\u200d",
    "\u2060",
    "\ufeff",
    *"\u202a\u202b\u202c\u202d\u202e",
    *"\u2066\u2067\u2068\u2069",
]


@pytest.mark.parametrize("character", HIDDEN, ids=lambda character: f"U+{ord(character):04X}")
def test_clean_text_removes_hidden_characters(character: str) -> None:
    """Control, zero-width and bidi characters are removed without joining lines."""
    assert clean_text(f"{character}ab{character}c\nd{character}") == "abc\nd"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  hello  ", "hello"),
        ("\n\n hello \n", "hello"),
        ("a\r\nb", "a\nb"),
        ("a\rb", "a\nb"),
        ("a\r\n\r\n\r\n\r\nb", "a\n\nb"),
        ("a\u2028b\u2029c\x85d\x0be\x0cf", "a\nb\nc\nd\ne\nf"),
        ("a\tb", "a b"),
        ("a \t  b", "a b"),
        ("a\u00a0\u00a0b", "a b"),
        ("a  \n  b", "a\nb"),
        ("a\n\nb", "a\n\nb"),
        ("a\n\n\nb", "a\n\nb"),
        ("a\n \n\t\n\n\nb", "a\n\nb"),
        ("e\u0301", "\u00e9"),
        ("e\u200b\u0301", "\u00e9"),
        ("Ω", "Ω"),
        ("", ""),
        (" \t\u200b\n ", ""),
        ("Siân O'Brien 🙂", "Siân O'Brien 🙂"),
    ],
)
def test_clean_text(text: str, expected: str) -> None:
    """Line endings, spaces, blank lines and Unicode forms are made consistent."""
    assert clean_text(text) == expected


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("a\nb\n\nc", 10, "a b c"),
        ("  spaced   out  ", 20, "spaced out"),
        ("hello world", 11, "hello world"),
        ("hello world", 10, "hello wor…"),
        ("hello world", 7, "hello…"),
        ("hello", 1, "…"),
        ("a\u200bb", 2, "ab"),
        ("", 5, ""),
    ],
)
def test_one_line(text: str, limit: int, expected: str) -> None:
    """Summaries are one cleaned line, cut with an ellipsis only when too long."""
    assert one_line(text, limit) == expected


@pytest.mark.parametrize("limit", range(1, 40))
def test_one_line_never_exceeds_limit(limit: int) -> None:
    """A summary is never longer than the limit."""
    summary = one_line("The council has not collected my bins\nfor three weeks now.", limit)
    assert len(summary) <= limit
    assert "\n" not in summary


@pytest.mark.parametrize("limit", [0, -1])
def test_one_line_rejects_impossible_limit(limit: int) -> None:
    """A limit below one character is a programming error."""
    with pytest.raises(ValueError, match="limit"):
        one_line("text", limit)
