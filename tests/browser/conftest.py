"""One Chromium (Debian's, driven by Playwright) for every browser test, and a desk per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, Page, async_playwright
from support.desk import Desk, running_desk
from support.intake import Clock

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-extensions",
]


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    """Return Debian's Chromium, launched once for the whole run."""
    if not _installed(CHROMIUM):
        pytest.fail("browser tests need Debian's chromium: apt-get install -y chromium")
    async with async_playwright() as playwright:
        found = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield found
        await found.close()


@pytest_asyncio.fixture(loop_scope="session")
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    """Return the bot with its desk running on 127.0.0.1, on a fresh SQLite file."""
    clock = Clock(datetime.now(UTC).replace(microsecond=0))
    async with running_desk(tmp_path, clock) as running:
        yield running


@pytest_asyncio.fixture(loop_scope="session")
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    """Return a fresh browser profile (no cookies), closed after the test."""
    found = await browser.new_context(accept_downloads=True)
    yield found
    await found.close()


@pytest_asyncio.fixture(loop_scope="session")
async def page(context: BrowserContext) -> Page:
    """Return a page in the fresh profile."""
    return await context.new_page()


def _installed(path: Path) -> bool:
    return path.exists()
