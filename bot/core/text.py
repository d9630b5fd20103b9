"""Clean what people type so it can be checked, stored and shown safely."""

import html
import re
import unicodedata

# Characters that end a line in Unicode besides "\n"; treated as a newline so words stay apart.
_LINE_BREAKS = str.maketrans(dict.fromkeys("\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029", "\n"))

# C0 controls, DEL and C1 controls (applied line by line, after tabs become spaces), zero-width
# characters and every bidi control (marks, embeddings, overrides, isolates), which can hide or
# reorder text on a caseworker's screen.
_INVISIBLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2060\ufeff\u202a-\u202e\u2066-\u2069]"
)
_HORIZONTAL_SPACE = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_ELLIPSIS = "…"


def clean_text(text: str) -> str:
    """Return text without hidden characters, with tidy spaces and at most one blank line."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_LINE_BREAKS)
    lines = text.split("\n")
    # Tabs become spaces before controls are removed, so "a\tb" keeps two words.
    lines = [_INVISIBLE.sub("", line.replace("\t", " ")) for line in lines]
    text = unicodedata.normalize("NFC", "\n".join(lines))
    text = "\n".join(_HORIZONTAL_SPACE.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", text).strip()


def one_line(text: str, limit: int) -> str:
    """Return text cleaned onto one line, cut to at most limit characters with an ellipsis."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")
    text = " ".join(clean_text(text).split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + _ELLIPSIS


_TAG = re.compile(r"</?[a-z]+(?:\s[^<>]*)?>", re.IGNORECASE)


def without_markup(text: str) -> str:
    """Return a catalogue text as plain words: its HTML tags taken out, entities read."""
    return html.unescape(_TAG.sub("", text))
