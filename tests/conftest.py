"""Shared fixtures: an office's settings, and a running Application on an offline Bot API."""

from __future__ import annotations

import os

os.environ["PTB_TIMEDELTA"] = "true"

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import hypothesis
import pytest
from support.intake import Clock, Harness, make_settings

from bot.office import Office, prepare
from bot.settings import Settings

# Hypothesis profiles, chosen with HYPOTHESIS_PROFILE (or pytest's --hypothesis-profile):
# "ci", the default everywhere, keeps the whole suite to a few minutes on two cores;
# "thorough" runs ten times the examples, for a nightly run or after changing the
# validators, the flow or the renderer. No deadline: timings on a shared machine are noise.
# Property tests take their example counts from the profile (a fraction of it for the
# expensive ones); the pinned @example cases run under every profile.
_PROFILE_BASE = hypothesis.settings.get_profile("default")
hypothesis.settings.register_profile(
    "ci", _PROFILE_BASE, max_examples=100, deadline=None, print_blob=True
)
hypothesis.settings.register_profile(
    "thorough", _PROFILE_BASE, max_examples=1000, deadline=None, print_blob=True
)
hypothesis.settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def clock() -> Clock:
    """Return a clock the test moves by hand, starting on a fixed weekday morning."""
    return Clock(datetime(2026, 11, 23, 9, 30, tzinfo=UTC))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Return settings for Stoke-on-Trent Central with a database in a temporary folder."""
    return make_settings(tmp_path / "data" / "casework.sqlite3")


@pytest.fixture
def office(settings: Settings) -> Office:
    """Return the loaded office: flow, texts and postcode data."""
    return prepare(settings)


@pytest.fixture
async def harness(office: Office, clock: Clock) -> AsyncIterator[Harness]:
    """Return a started Application on an offline Bot API, stopped after the test."""
    async with Harness.running(office, clock) as running:
        yield running
