"""Shared fixtures: an office's settings, and a running Application on an offline Bot API."""

from __future__ import annotations

import os

os.environ["PTB_TIMEDELTA"] = "true"

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.intake import Clock, Harness, make_settings

from bot.office import Office, prepare
from bot.settings import Settings


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
