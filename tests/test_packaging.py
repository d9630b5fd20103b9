"""A built wheel is the whole bot: flows, texts, data and the casework-bot command, anywhere."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
import time
import tomllib
from pathlib import Path

import pytest

pytestmark = pytest.mark.process

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "README.md", "bot", "flows")


def test_every_package_is_listed_for_the_wheel() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.relative_to(ROOT).parts[:-1]) for init in (ROOT / "bot").rglob("__init__.py")
    }
    assert listed == found | {"bot.flows"}
    assert config["tool"]["setuptools"]["package-dir"] == {"bot.flows": "flows"}
    assert config["project"]["scripts"] == {"casework-bot": "bot.__main__:main"}


def run(*command: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run a command; fail the test with its output if it fails; return its stdout."""
    done = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, f"{command} exited {done.returncode}\n{done.stdout}{done.stderr}"
    return done.stdout


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the wheel once per test run, from a copy of the sources (the tree stays clean)."""
    started = time.monotonic()
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(
                ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("wheel")
    # With setuptools in the test environment the build needs no network and no fresh venv.
    isolation = [] if importlib.util.find_spec("setuptools") is None else ["--no-build-isolation"]
    run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "-q",
        "--no-deps",
        *isolation,
        "-w",
        out,
        ".",
        cwd=source,
    )
    [built] = out.glob("constituency_casework_bot-*.whl")
    sys.stdout.write(f"wheel built in {time.monotonic() - started:.1f} s\n")
    return built


@pytest.fixture(scope="session")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Install the wheel alone into a new virtual environment; return its bin folder.

    Its dependencies come from the test environment's site-packages (a plain path, so the
    editable install of the bot there is not seen): only the wheel's own files are tested.
    """
    venv = tmp_path_factory.mktemp("venv")
    run(sys.executable, "-m", "venv", venv, cwd=venv)
    bin_dir = venv / "bin"
    run(
        bin_dir / "python", "-m", "pip", "install", "-q", "--no-deps", "--no-index", wheel, cwd=venv
    )
    site = Path(
        run(
            bin_dir / "python",
            "-c",
            "import sysconfig; print(sysconfig.get_path('purelib'))",
            cwd=venv,
        ).strip()
    )
    (site / "test_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n", "utf-8")
    return bin_dir


def clean_env(home: Path) -> dict[str, str]:
    """Return an environment with no settings in it."""
    return {"PATH": os.defpath, "HOME": str(home), "LANG": "C.UTF-8"}


def test_the_wheel_ships_the_flows_and_casework_bot_check_passes_elsewhere(
    installed: Path, tmp_path: Path
) -> None:
    started = time.monotonic()
    office = tmp_path / "office"
    office.mkdir()
    shutil.copy(ROOT / ".env.example", office / ".env")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = clean_env(tmp_path)
    where = run(
        installed / "python",
        "-c",
        "import bot.loading as l; print(l.FLOWS_DIR)",
        cwd=elsewhere,
        env=env,
    )
    assert Path(where.strip()).is_relative_to(installed.parent)
    assert (Path(where.strip()) / "locales" / "en" / "bot.yaml").is_file()

    out = run(
        installed / "casework-bot", "--env-file", office / ".env", "check", cwd=elsewhere, env=env
    )
    assert out.startswith("OK: Stoke-on-Trent Central (E14001520)")
    assert f"database {office / 'data' / 'casework.sqlite3'} (not created yet)" in out
    usage = run(installed / "python", "-m", "bot", "--help", cwd=office, env=env)
    assert usage.startswith("usage: casework-bot")
    assert {"run", "demo", "check", "backup", "restore", "migrate"} <= set(usage.split())
    assert list(elsewhere.iterdir()) == []
    assert time.monotonic() - started < 60
