"""Measure everything in one process and print the report."""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import os
import pstats
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

from bench.baselines import conversation_bot, write_pickle
from bench.driver import TRANSCRIPT, Subject
from bench.floor import floor_bot
from bench.measure import Run, percentile
from bench.ours import Calibration, calibrate, ours
from bench.postcodes import PostcodeResult, run_postcodes
from bench.report import (
    Target,
    environment,
    notes,
    postcode_lines,
    ratios_table,
    runs_table,
    steps_table,
    target_lines,
)
from bench.staff import queue_and_export
from bench.surge import PEOPLE, surge, surge_table

TEN_THOUSAND = 10_000
HUNDRED_THOUSAND = 100_000


@dataclass(frozen=True, slots=True)
class Plan:
    """How much to measure."""

    sizes: tuple[int, ...]
    warmup: int  # untimed intakes per configuration before the timed rounds
    rounds: int  # timed rounds; each plays ``batch`` intakes on every configuration in turn
    batch: int
    memory_intakes: int  # intakes played alone at the largest size while watching RSS
    pickle_intakes: int
    pickle_budget: float  # seconds of timed pickle work per size (at least one intake or 5 s)
    postcodes: int
    quick: bool


FULL = Plan((1_000, TEN_THOUSAND, HUNDRED_THOUSAND), 3, 30, 10, 100, 30, 15.0, 20_000, False)
QUICK = Plan((1_000, TEN_THOUSAND), 2, 5, 3, 15, 3, 3.0, 5_000, True)
INTAKES = Plan((1_000, TEN_THOUSAND), 2, 12, 3, 0, 0, 0.0, 0, True)


@dataclass
class Results:
    """Everything measured."""

    ours: dict[int, Run]
    bare: Run
    floor: Run
    memory: Run
    pickled: dict[int, Run]
    postcodes: PostcodeResult
    queue: tuple[list[str], float] = ([], 0.0)


def progress(text: str) -> None:
    """Say what is running, on stderr, so stdout holds only the report."""
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def _fresh(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


async def measure_intakes(
    plan: Plan, folder: Path, calibration: Calibration
) -> tuple[dict[int, Run], Run, Run]:
    """Time whole intakes: ours at every size, PTB bare and the floor, interleaved."""
    # Ours at every size and the bare ConversationHandler, all started together and timed in
    # interleaved batches, so load from anything else on the machine hits them alike.
    async with AsyncExitStack() as stack:
        subjects: list[Subject] = []
        for stored in plan.sizes:
            progress(f"ours: storing {stored:,} other drafts and starting the bot")
            where = _fresh(folder / f"ours-{stored}")
            subjects.append(await stack.enter_async_context(ours(where, stored, calibration)))
        subjects.append(await stack.enter_async_context(conversation_bot(calibration.calls)))
        # The floor: bare dispatch plus one synchronous transaction writing the same rows.
        middle = sorted(plan.sizes)[len(plan.sizes) // 2]
        where = _fresh(folder / "floor")
        subjects.append(await stack.enter_async_context(floor_bot(where, middle, calibration)))
        for subject in subjects:
            await subject.intakes(plan.warmup, timed=False)
        progress(
            f"ours at {', '.join(f'{s:,}' for s in plan.sizes)} stored, and PTB bare:"
            f" {plan.rounds} rounds of {plan.batch} intakes each"
        )
        gc.collect()
        for number in range(plan.rounds):
            # Each round starts with the next configuration, so none is always first.
            turn = number % len(subjects)
            for subject in subjects[turn:] + subjects[:turn]:
                await subject.intakes(plan.batch)
    ours_runs = {subject.run.stored: subject.run for subject in subjects[:-2]}
    return ours_runs, subjects[-2].run, subjects[-1].run


async def measure(plan: Plan, folder: Path) -> tuple[Results, Calibration]:
    """Run every measurement; the biggest memory users (pickle, postcodes) last."""
    progress("calibration: one real intake, recording its drafts and Bot API calls")
    calibration = await calibrate(_fresh(folder / "calibration"))
    templates = calibration.drafts
    ours_runs, bare, floor = await measure_intakes(plan, folder, calibration)

    largest = max(plan.sizes)
    progress(f"memory: ours alone with {largest:,} drafts stored, {plan.memory_intakes} intakes")
    gc.collect()
    where = _fresh(folder / "memory")
    async with ours(where, largest, calibration, reset_peak=True) as subject:
        await subject.intakes(plan.memory_intakes)
    memory = subject.run
    memory.variant = "ours alone (RSS)"

    pickled: dict[int, Run] = {}
    for stored in plan.sizes:
        progress(f"PTB + PicklePersistence: pickling {stored:,} other conversations")
        path = _fresh(folder / f"pickle-{stored}") / "conversations.pickle"
        size = write_pickle(path, stored, templates)
        gc.collect()
        least = 5 if stored >= HUNDRED_THOUSAND else len(TRANSCRIPT)
        budget = plan.pickle_budget

        def spent(run: Run, least: int = least, budget: float = budget) -> bool:
            return run.updates >= least and sum(run.seconds) > budget

        progress(f"PTB + PicklePersistence with {stored:,}: about {budget:.0f} s of updates")
        async with conversation_bot(calibration.calls, pickle_path=path, stored=stored) as bot:
            bot.run.notes.insert(0, f"pickle file {size / 2**20:.1f} MiB at start")
            if stored < TEN_THOUSAND:
                await bot.intakes(1, timed=False)
            await bot.intakes(plan.pickle_intakes, stop=spent)
        pickled[stored] = bot.run
        path.unlink()
        gc.collect()

    progress(f"postcodes: loading the table twice, then {plan.postcodes:,} lookups x2")
    postcodes = run_postcodes(plan.postcodes)
    return Results(ours_runs, bare, floor, memory, pickled, postcodes), calibration


async def profile_ours(folder: Path, calibration: Calibration, stored: int, intakes: int) -> None:
    """Profile ours with cProfile and print the top costs."""
    profiler = cProfile.Profile()
    async with ours(_fresh(folder / "profile"), stored, calibration) as subject:
        await subject.intakes(2, timed=False)
        profiler.enable()
        await subject.intakes(intakes)
        profiler.disable()
    updates = subject.run.updates
    print(f"\n== cProfile of ours: {updates:,} updates with {stored:,} other drafts stored ==")
    print(f"(cumulative seconds are totals: divide by {updates:,} for the cost per update)")
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(45)


async def surge_only(folder: Path) -> None:
    """Calibrate, run the surge, and print its table."""
    progress("calibration: one real intake, recording its drafts and Bot API calls")
    calibration = await calibrate(_fresh(folder / "calibration"))
    await run_surge(folder, calibration)


async def run_surge(folder: Path, calibration: Calibration) -> None:
    """Run the surge and print its table."""
    progress(f"surge: {PEOPLE} people at once, ours then PTB+pickle, each as a process")
    runs = await surge(folder, calibration)
    print(f"\n== Surge: {PEOPLE} people start at once, over HTTP on 127.0.0.1 ==")
    print("Each bot a separate process polling a local Bot API server; a step's latency runs")
    print("from the update being queued to the last call it causes in the person's chat.")
    print("PTB+pickle: ConversationHandler, PicklePersistence written after every update.")
    print("\n".join(surge_table(runs)))


async def intakes_only(plan: Plan, folder: Path) -> None:
    """Calibrate, time whole intakes, and print their tables."""
    progress("calibration: one real intake, recording its drafts and Bot API calls")
    calibration = await calibrate(_fresh(folder / "calibration"))
    ours_runs, bare, floor = await measure_intakes(plan, folder, calibration)
    report_intakes(ours_runs, bare, floor, {}, [], calibration)


def targets(results: Results) -> list[Target]:
    """Check the results against the targets."""
    found: list[Target] = []
    for stored, run in results.ours.items():
        ratio = run.throughput / results.bare.throughput
        text = f"ours ≥ 0.5× PTB bare-dispatch throughput, {stored:,} stored"
        found.append(Target(text, ratio >= 0.5, f"{ratio:.2f}×"))
    floor = results.floor.throughput / results.bare.throughput
    found.append(
        Target(
            "floor (bare + one synchronous transaction) ≥ 0.5× PTB bare",
            floor >= 0.5,
            f"{floor:.2f}×: the limit for ours",
        )
    )
    text = "ours ≥ 100× PTB+pickle-per-update throughput, 10,000 stored"
    if TEN_THOUSAND in results.pickled and TEN_THOUSAND in results.ours:
        ratio = results.ours[TEN_THOUSAND].throughput / results.pickled[TEN_THOUSAND].throughput
        found.append(Target(text, ratio >= 100, f"{ratio:,.0f}×"))
    small, big = results.ours.get(1_000), results.ours.get(HUNDRED_THOUSAND)
    text = "ours p50 per update at 100,000 drafts ≤ 1.2× p50 at 1,000"
    if small is not None and big is not None:
        low, high = small.percentile(50), big.percentile(50)
        found.append(
            Target(
                text,
                high <= 1.2 * low,
                f"{high / low:.2f}× ({high * 1e3:.3f} ms vs {low * 1e3:.3f})",
            )
        )
    else:
        found.append(Target(text, None, "not measured (--quick)"))
    if results.queue[0]:
        slowest = results.queue[1]
        text = f"/queue p99 < 50 ms ({results.queue[0][0].split(' cases')[0]} cases)"
        found.append(Target(text, slowest < 0.050, f"{slowest * 1e3:.1f} ms (slowest filter)"))
    p99 = percentile(results.postcodes.check, 99)
    found.append(Target("postcode check p99 < 100 µs", p99 < 100e-6, f"{p99 * 1e6:.1f} µs"))
    text = "peak RSS < 200 MB, ours with 100,000 drafts stored"
    peak = results.memory.peak_rss
    detail = f"{peak * 2**20 / 1e6:.0f} MB ({peak:.0f} MiB)" if peak is not None else "unknown"
    if results.memory.stored >= HUNDRED_THOUSAND and peak is not None:
        found.append(Target(text, peak * 2**20 < 200e6, detail))
    else:
        found.append(
            Target(text, None, f"not measured (--quick); {detail} at {results.memory.stored:,}")
        )
    return found


def report_intakes(
    ours: dict[int, Run],
    bare: Run,
    floor: Run,
    pickled: dict[int, Run],
    others: list[Run],
    calibration: Calibration,
) -> None:
    """Print the whole-intake tables and ratios."""
    print(f"\n== Whole intakes: {len(calibration.calls)} updates each (intake_to_review + Send) ==")
    print("Time per update = process_update, until every Bot API call it causes is answered")
    print("(ours: the outbox worker's confirmation and staff card too; PTB+pickle: plus")
    print("update_persistence and a flush). Updates are built outside the timing and handled")
    print("one at a time; offline Bot API; real SQLite file (WAL). Ours: flood limit raised to")
    print("1,000 a minute and the staff group's 20-a-minute delivery limit lifted, as the bench")
    print("plays hours of intakes in seconds. Floor: PTB bare plus, after each update, one")
    print("BEGIN IMMEDIATE … COMMIT on the event loop's thread (sqlite3) writing the rows ours")
    print("writes for it (processed update, whole draft, each reply owed and marked sent), the")
    print("limit ours can reach. Ours, PTB bare and the floor ran interleaved, in batches,")
    print("each round starting with the next one.")
    runs = [*ours.values(), bare, floor, *pickled.values()]
    print("\n".join(runs_table(runs)))
    print("\n".join(notes([*runs, *others])))
    middle = sorted(ours)[len(ours) // 2]
    print(f"\n== Per step, ours with {middle:,} drafts stored vs PTB bare (ms; calls = Bot API) ==")
    calls = [len(step_calls) for step_calls in calibration.calls]
    print("\n".join(steps_table(ours[middle], bare, TRANSCRIPT, calls)))
    print("\n== Throughput ratios ==")
    print("\n".join(ratios_table(ours, bare, pickled, floor)))


def report(results: Results, calibration: Calibration) -> None:
    """Print the measurements, ratios and targets."""
    report_intakes(
        results.ours, results.bare, results.floor, results.pickled, [results.memory], calibration
    )
    print("\n== Peak memory ==")
    memory = results.memory
    print(
        f"ours alone, {memory.stored:,} other drafts stored, {memory.intakes} intakes:"
        f" RSS {memory.rss_before or 0:.0f} MiB before start-up, peak {memory.peak_rss or 0:.0f}"
        f" MiB (VmHWM), {memory.throughput:,.0f} updates/s"
    )
    print("\n== Postcodes ==")
    print("\n".join(postcode_lines(results.postcodes)))
    print("\n== /queue and export, staff group, through the Application ==")
    print("\n".join(results.queue[0]))
    print("\n== Targets ==")
    print("\n".join(target_lines(targets(results))))


def main(argv: list[str] | None = None) -> int:
    """Run the bench and print the report."""
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Throughput, latency and memory of the intake bot against PTB baselines.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="fewer intakes; 1,000 and 10,000 stored only"
    )
    parser.add_argument(
        "--profile", action="store_true", help="then cProfile ours at 10,000 stored"
    )
    parser.add_argument(
        "--surge",
        action="store_true",
        help="the surge only: 200 people at once over HTTP, ours and PTB+pickle as processes",
    )
    parser.add_argument(
        "--intakes",
        action="store_true",
        help="whole intakes only: ours at 1,000 and 10,000 stored, PTB bare, the floor",
    )
    args = parser.parse_args(argv)
    plan = INTAKES if args.intakes else QUICK if args.quick else FULL
    started = time.perf_counter()
    print("== Environment ==")
    print("\n".join(environment()))
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.surge:
        with tempfile.TemporaryDirectory(prefix="casework-bench-") as temp:
            asyncio.run(surge_only(Path(temp)))
        print(f"\nload average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(f"finished in {time.perf_counter() - started:.0f} s")
        return 0
    if args.intakes:
        with tempfile.TemporaryDirectory(prefix="casework-bench-") as temp:
            asyncio.run(intakes_only(plan, Path(temp)))
        print(f"\nload average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(f"finished in {time.perf_counter() - started:.0f} s")
        return 0
    with tempfile.TemporaryDirectory(prefix="casework-bench-") as temp:
        folder = Path(temp)
        results, calibration = asyncio.run(measure(plan, folder))
        cases = TEN_THOUSAND if args.quick else HUNDRED_THOUSAND
        progress(f"/queue and export with {cases:,} cases stored")
        results.queue = asyncio.run(queue_and_export(folder, cases, 10 if args.quick else 30))
        report(results, calibration)
        if not args.quick:
            asyncio.run(run_surge(folder, calibration))
        print(f"\nload average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(f"finished in {time.perf_counter() - started:.0f} s")
        if args.profile:
            progress("profile: ours at 10,000 stored under cProfile")
            asyncio.run(profile_ours(folder, calibration, TEN_THOUSAND, plan.rounds * plan.batch))
    return 0
