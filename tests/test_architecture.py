"""Dependencies point one way: core <- services <- channels, and only the backend touches SQLite."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BOT = ROOT / "bot"
MODULES = sorted(BOT.rglob("*.py"))
CORE = [path for path in MODULES if BOT / "core" in path.parents]

# Clocks: a pure core is given the time, it never reads it.
CLOCK_METHODS = {"now", "utcnow", "today"}
TIME_FUNCTIONS = {"time", "time_ns", "monotonic", "monotonic_ns", "perf_counter", "localtime"}


def name(path: Path) -> str:
    """Return a module's path from the repository root, like ``bot/core/engine.py``."""
    return path.relative_to(ROOT).as_posix()


def imports(tree: ast.AST) -> set[str]:
    """Return every module a tree imports, in full (``telegram.ext``, ``bot.channels.telegram``)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            # "from bot.channels import telegram" imports bot.channels.telegram
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def roots(tree: ast.AST) -> set[str]:
    """Return the top-level packages a tree imports."""
    return {module.split(".")[0] for module in imports(tree)}


def clock_reads(tree: ast.AST) -> list[str]:
    """Return each place a tree reads the clock, as source text."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            method, owner = node.func.attr, node.func.value
            on_time = isinstance(owner, ast.Name) and owner.id == "time"
            if method in CLOCK_METHODS or (method in TIME_FUNCTIONS and on_time):
                found.append(ast.unparse(node))
        elif isinstance(node, ast.ImportFrom) and node.module == "time":
            found += [f"from time import {a.name}" for a in node.names if a.name in TIME_FUNCTIONS]
    return found


def parse(path: Path) -> ast.Module:
    """Parse one module of the bot."""
    return ast.parse(path.read_text("utf-8"), filename=str(path))


def test_the_modules_are_found() -> None:
    assert {"bot/core/engine.py", "bot/core/flow.py", "bot/storage/sqlite/database.py"} <= {
        name(path) for path in MODULES
    }
    assert {"bot/storage/store.py", "bot/service/outbox.py"} <= {name(path) for path in MODULES}
    assert len(CORE) >= 10


@pytest.mark.parametrize("path", CORE, ids=name)
def test_the_core_imports_no_channel_storage_or_network(path: Path) -> None:
    forbidden = {"telegram", "aiosqlite", "sqlite3", "httpx", "requests", "aiohttp", "socket"}
    assert roots(parse(path)) & forbidden == set()


@pytest.mark.parametrize("path", CORE, ids=name)
def test_the_core_imports_only_the_core_from_the_bot(path: Path) -> None:
    outside = {m for m in imports(parse(path)) if m.startswith("bot.") and m != "bot.core"}
    assert {m for m in outside if not m.startswith("bot.core.")} == set()


@pytest.mark.parametrize("path", CORE, ids=name)
def test_the_core_does_not_read_the_clock(path: Path) -> None:
    assert clock_reads(parse(path)) == []


@pytest.mark.parametrize("path", CORE, ids=name)
def test_the_core_does_not_read_the_environment(path: Path) -> None:
    source = ast.unparse(parse(path))
    assert "os.environ" not in source
    assert "getenv" not in source


SERVICES = [path for path in MODULES if BOT / "service" in path.parents]
CHANNELS = [path for path in MODULES if BOT / "channels" in path.parents]
# Where the embedded store is chosen: the composition root and the backend itself.
COMPOSITION = {"bot/__main__.py", "bot/wiring.py"}


def bot_imports(path: Path) -> set[str]:
    """Return the bot's own modules that a module imports."""
    return {m for m in imports(parse(path)) if m == "bot" or m.startswith("bot.")}


def imports_any(path: Path, *packages: str) -> set[str]:
    """Return what a module imports from any of ``packages`` (each a dotted prefix)."""
    return {m for m in bot_imports(path) for p in packages if m == p or m.startswith(f"{p}.")}


@pytest.mark.parametrize("path", MODULES, ids=name)
def test_only_the_sqlite_backend_imports_sqlite(path: Path) -> None:
    if name(path).startswith("bot/storage/sqlite/"):
        return
    assert roots(parse(path)) & {"aiosqlite", "sqlite3"} == set()


@pytest.mark.parametrize("path", MODULES, ids=name)
def test_only_the_composition_root_imports_the_storage_backend(path: Path) -> None:
    if name(path).startswith("bot/storage/sqlite/") or name(path) in COMPOSITION:
        return
    assert imports_any(path, "bot.storage.sqlite") == set()


@pytest.mark.parametrize("path", SERVICES, ids=name)
def test_services_import_no_channel_and_no_storage_backend(path: Path) -> None:
    assert roots(parse(path)) & {"telegram", "aiosqlite", "sqlite3", "starlette"} == set()
    assert imports_any(path, "bot.channels", "bot.storage.sqlite", "bot.wiring") == set()


@pytest.mark.parametrize("path", CHANNELS, ids=name)
def test_channels_import_no_storage_backend(path: Path) -> None:
    assert imports_any(path, "bot.storage.sqlite") == set()
    assert roots(parse(path)) & {"aiosqlite", "sqlite3"} == set()


@pytest.mark.parametrize("path", MODULES, ids=name)
def test_only_the_telegram_channel_imports_telegram(path: Path) -> None:
    if name(path).startswith("bot/channels/telegram/"):
        return
    assert "telegram" not in roots(parse(path))


@pytest.mark.parametrize("path", MODULES, ids=name)
def test_no_other_layer_imports_a_channel(path: Path) -> None:
    if name(path).startswith("bot/channels/") or name(path) in COMPOSITION:
        return
    assert imports_any(path, "bot.channels") == set()


def test_the_layers_are_found() -> None:
    assert len(SERVICES) >= 6
    assert len(CHANNELS) >= 8
    assert (BOT / "wiring.py").exists()


@pytest.mark.parametrize(
    ("source", "imported", "clock"),
    [
        ("import telegram.ext", {"telegram"}, []),
        ("from aiosqlite import connect", {"aiosqlite"}, []),
        ("import sqlite3 as db", {"sqlite3"}, []),
        ("from httpx import AsyncClient", {"httpx"}, []),
        ("from bot.channels import telegram", {"bot"}, []),
        ("from datetime import datetime\nx = datetime.now(UTC)", {"datetime"},
         ["datetime.now(UTC)"]),
        ("import datetime\nx = datetime.datetime.utcnow()", {"datetime"},
         ["datetime.datetime.utcnow()"]),
        ("from datetime import date\nx = date.today()", {"datetime"}, ["date.today()"]),
        ("import time\nx = time.time()", {"time"}, ["time.time()"]),
        ("from time import monotonic", {"time"}, ["from time import monotonic"]),
        ("from datetime import date\nx = date(2026, 1, 1)", {"datetime"}, []),
    ],
)  # fmt: skip
def test_the_checks_see_what_they_look_for(
    source: str, imported: set[str], clock: list[str]
) -> None:
    tree = ast.parse(source)
    assert roots(tree) == imported
    assert clock_reads(tree) == clock


def test_from_import_counts_as_importing_the_adapter() -> None:
    assert "bot.channels.telegram" in imports(ast.parse("from bot.channels import telegram"))


CONSOLE = [path for path in MODULES if BOT / "channels" / "console" in path.parents]
BACKENDS = ("bot.storage.sqlite", "bot.channels.telegram")


def test_the_console_channel_is_found() -> None:
    assert {"bot/channels/console/demo.py", "bot/channels/console/render.py"} <= {
        name(path) for path in CONSOLE
    }


@pytest.mark.parametrize("path", CONSOLE, ids=name)
def test_the_console_channel_imports_no_telegram_and_no_storage_backend(path: Path) -> None:
    tree = parse(path)
    assert roots(tree) & {"telegram", "aiosqlite", "sqlite3", "starlette", "uvicorn"} == set()
    assert {m for m in imports(tree) if m.startswith(BACKENDS)} == set()


@pytest.mark.parametrize("path", MODULES, ids=name)
def test_only_the_webhook_and_the_desk_serve_http(path: Path) -> None:
    if name(path) == "bot/channels/telegram/webhook.py" or name(path).startswith(WEB):
        return
    assert roots(parse(path)) & {"starlette", "uvicorn"} == set()


WEB = "bot/channels/web/"
DESK = [path for path in MODULES if name(path).startswith(WEB)]


@pytest.mark.parametrize("path", DESK, ids=name)
def test_the_desk_imports_no_telegram_and_no_storage_backend(path: Path) -> None:
    tree = parse(path)
    assert roots(tree) & {"telegram", "aiosqlite", "sqlite3"} == set()
    assert {m for m in imports(tree) if m.startswith(BACKENDS)} == set()
    assert imports_any(path, "bot.channels.telegram", "bot.channels.console") == set()
