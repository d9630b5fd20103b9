"""Print the environment, the results table, the ratios and the targets."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sqlite3
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import telegram

import bot
from bench.measure import Run, percentile
from bench.postcodes import PostcodeResult


@dataclass(frozen=True, slots=True)
class Target:
    """One target line: PASS, MISS, or not measured (``ok`` is None)."""

    text: str
    ok: bool | None
    detail: str


def environment() -> list[str]:
    """Return lines naming the interpreter, libraries and machine."""
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            cpu = next(
                (line.split(":", 1)[1].strip() for line in info if line.startswith("model name")),
                cpu,
            )
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    versions = ", ".join(
        f"{name} {importlib.metadata.version(name)}" for name in ("aiosqlite", "pydantic")
    )
    return [
        f"Python {platform.python_version()} ({sys.implementation.name}) on {platform.platform()}",
        f"bot under test: {source()}",
        f"python-telegram-bot {telegram.__version__}, SQLite {sqlite3.sqlite_version}, {versions}",
        f"CPUs: {os.cpu_count()} ({usable} usable), {cpu}",
    ]


def source() -> str:
    """Return where the bot package was imported from, with its git commit when known."""
    root = Path(bot.__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", "bot", "flows"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return f"{root} (no git commit known)"
    return f"{root} at {commit}" + (
        " with uncommitted changes in bot/ or flows/" if changed else ""
    )


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f}"


def runs_table(runs: Sequence[Run]) -> list[str]:
    """Return the per-configuration table: throughput and per-update latency."""
    header = (
        f"{'variant':<11} {'stored':>8} {'intakes':>7} {'updates':>7} {'updates/s':>9}"
        f" {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}"
    )
    lines = [header, "-" * len(header)]
    for run in runs:
        lines.append(
            f"{run.variant:<11} {run.stored:>8,} {run.intakes:>7,} {run.updates:>7,}"
            f" {run.throughput:>9,.0f} {_ms(run.percentile(50)):>8} {_ms(run.percentile(99)):>8}"
            f" {_ms(max(run.seconds)):>8}"
        )
    return lines


def notes(runs: Sequence[Run]) -> list[str]:
    """Return each run's notes."""
    return [
        f"  {run.variant} @ {run.stored:,}: {'; '.join(run.notes)}" for run in runs if run.notes
    ]


def steps_table(
    ours: Run, bare: Run, steps: Sequence[tuple[str, str]], calls: Sequence[int]
) -> list[str]:
    """Return p50 and p99 per step of the intake, for ours and the bare baseline."""
    count = len(steps)
    lines = [
        f"{'#':>2} {'action':<34} {'calls':>5} {'ours p50':>8} {'p99':>7}"
        f" {'bare p50':>8} {'p99':>7}",
        "-" * 76,
    ]
    for number, (kind, value) in enumerate(steps):
        mine, theirs = ours.seconds[number::count], bare.seconds[number::count]
        label = f"{kind} {value}".replace("\n", " ")
        label = label if len(label) <= 34 else label[:33] + "…"
        lines.append(
            f"{number:>2} {label:<34} {calls[number]:>5} {_ms(percentile(mine, 50)):>8}"
            f" {_ms(percentile(mine, 99)):>7} {_ms(percentile(theirs, 50)):>8}"
            f" {_ms(percentile(theirs, 99)):>7}"
        )
    return lines


def ratios_table(ours: dict[int, Run], bare: Run, pickled: dict[int, Run], floor: Run) -> list[str]:
    """Return ours/bare, ours/floor and ours/pickle throughput ratios at each size."""
    header = f"{'stored':>8} {'ours/bare':>10} {'ours/floor':>11} {'ours/pickle':>12}"
    lines = [header, "-" * len(header)]
    for stored, run in ours.items():
        against_pickle = pickled.get(stored)
        pickle_ratio = (
            f"{run.throughput / against_pickle.throughput:>11,.1f}×" if against_pickle else "-"
        )
        lines.append(
            f"{stored:>8,} {run.throughput / bare.throughput:>9.2f}×"
            f" {run.throughput / floor.throughput:>10.2f}× {pickle_ratio:>12}"
        )
    lines.append(
        f"floor (bare + one sync transaction, {floor.stored:,} stored):"
        f" {floor.throughput / bare.throughput:.2f}× bare"
    )
    return lines


def postcode_lines(result: PostcodeResult) -> list[str]:
    """Return the postcode lookup and loading lines."""

    def us(values: list[float], p: float) -> str:
        return f"{percentile(values, p) * 1e6:.2f}"

    statuses = ", ".join(f"{status} {count:,}" for status, count in result.statuses.most_common())
    return [
        f"table: {result.table_rows:,} postcodes; sampled statuses: {statuses}",
        f"load build_postcode_checker(shipped files), cache bypassed: {result.load_checker:.2f} s",
        f"load PostcodeIndex alone (gb file + overlay):                 {result.load_index:.2f} s",
        f"{'lookup':<32} {'n':>7} {'p50 µs':>8} {'p99 µs':>8} {'max µs':>8}",
        f"{'PostcodeChecker.check(typed)':<32} {len(result.check):>7,} {us(result.check, 50):>8}"
        f" {us(result.check, 99):>8} {max(result.check) * 1e6:>8.1f}",
        f"{'PostcodeIndex.find(normalised)':<32} {len(result.find):>7,} {us(result.find, 50):>8}"
        f" {us(result.find, 99):>8} {max(result.find) * 1e6:>8.1f}",
    ]


def target_lines(targets: Sequence[Target]) -> list[str]:
    """Return PASS/MISS lines."""
    marks = {True: "PASS", False: "MISS", None: "----"}
    return [f"{marks[t.ok]}  {t.text}: {t.detail}" for t in targets]
