"""``casework-bot demo``, typed at as a person would, through a pseudo-terminal."""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

import pexpect
import pytest

pytestmark = pytest.mark.process

# What a person types, and what the demo answers next.
INTAKE = [
    ("1", "Is this enquiry about you"),
    ("1", "What is your full name?"),
    ("1", "What is your home postcode?"),
    ("st4 1hh", "What is your address?"),
    ("12 Example Road, Stoke-on-Trent", "What is your phone number?"),
    ("1", "How would you like us to contact you?"),
    ("3", "What is your email address?"),
    ("ada@example.org", "What is your date of birth?"),
    ("/back", "What is your email address?"),
    ("ada@example.org", "What is your date of birth?"),
    ("1", "What is your enquiry about?"),
    ("3", "Which organisation is it about?"),
    ("Stoke-on-Trent City Council", "reference number"),
    ("HB/12345", "Have you already contacted them"),
    ("1", "What has happened?"),
    ("The council has not repaired the damp in my flat since June.", "That is everything"),
    ("1", "What would you like"),
    ("Ask the council to carry out the repair.", "That is everything"),
    ("1", "Is there a date"),
    ("1", "letters or documents"),
]


def spawn(tmp_path: Path) -> pexpect.spawn[str]:
    """Start ``python -m bot demo`` on a pseudo-terminal, with no settings at all."""
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": str(tmp_path),
        "TMPDIR": str(tmp_path / "tmp"),
        "TERM": "dumb",
    }
    (tmp_path / "tmp").mkdir()
    return pexpect.spawn(
        sys.executable,
        ["-m", "bot", "demo"],
        cwd=str(tmp_path),
        env=env,
        encoding="utf-8",
        timeout=20,
        dimensions=(60, 200),
    )


def play(child: pexpect.spawn[str], steps: list[tuple[str, str]]) -> None:
    """Type each line at the prompt and wait for the expected answer."""
    for typed, expected in steps:
        child.expect_exact("> ")
        child.sendline(typed)
        child.expect_exact(expected)


def test_a_whole_enquiry_then_the_office_side_in_a_terminal(tmp_path: Path) -> None:
    started = time.monotonic()
    letter = tmp_path / "letter.pdf"
    letter.write_bytes(b"%PDF-1.4 a letter from the council")
    child = spawn(tmp_path)
    try:
        child.expect_exact("Postcodes to try: ST4 1HH (in Stoke-on-Trent Central)")
        child.expect_exact("LA9 4DT (in Westmorland and Lonsdale")
        child.expect_exact("If anyone is in danger now, call 999.")
        child.expect_exact("1. Start")
        play(child, INTAKE)
        play(child, [(str(letter), "Documents so far: 1")])
        play(child, [("1", "Do you give permission?")])
        play(child, [("1", "Check your answers before sending")])
        child.expect_exact("Letters and documents: 1 sent")
        child.expect_exact("> ")
        child.sendline("1")
        child.expect(r"Your reference number is (SOT-[0-9A-Z]{7})\.")
        assert isinstance(child.match, re.Match)
        reference = child.match.group(1)
        child.expect_exact("To the staff group")
        child.expect_exact(f"{reference} · Housing")
        child.expect_exact(f"Sam sends: /claim {reference}")
        child.expect_exact(f"{reference} is now assigned to Sam.")
        child.expect_exact("Assigned to: Sam")
        child.expect_exact(f"Note added to {reference}.")
        child.expect_exact("To you, in your chat with the bot")
        child.expect_exact(
            f"Message from Sam at the office of Jo Example about your enquiry {reference}"
        )
        child.expect_exact("We have written to the council about the damp")
        play(child, [("Thank you, Sam", f"added to your enquiry {reference}")])
        child.expect_exact("the constituent writes:")
        child.expect_exact("Thank you, Sam")
        child.expect_exact("> ")
        child.sendeof()
        child.expect_exact("End of the demo; its database is deleted.")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0, child.before
    assert list((tmp_path / "tmp").iterdir()) == []  # the demo's database is gone
    assert time.monotonic() - started < 30


def test_someone_from_another_constituency_is_refused_and_can_start_again(tmp_path: Path) -> None:
    child = spawn(tmp_path)
    try:
        play(
            child,
            [("1", "Is this enquiry about you"), ("1", "full name"), ("Bo Smith", "postcode")],
        )
        play(child, [("LA9 4DT", "Is LA9 4DT right?")])
        play(child, [("1", "we have not kept your details")])
        play(child, [("/start", "If anyone is in danger now, call 999.")])
        play(child, [("/cancel", "Do you want to stop and delete the answers")])
        play(child, [("1", "Your answers have been deleted")])
        child.expect_exact("> ")
        child.sendeof()
        child.expect_exact("End of the demo")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0
    assert "Traceback" not in (child.before or "")
