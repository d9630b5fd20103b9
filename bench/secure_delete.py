"""What secure deletion costs: whole intakes with PRAGMA secure_delete on and off, interleaved.

Run with ``python -m bench.secure_delete``. Both bots run in this process on databases
holding 1,000 other drafts, started together and timed in alternating batches, so anything
else loading the machine hits them alike. Only the pragma differs (the WAL scrub after an
erasure runs in both, and no erasure happens in these intakes).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path

from bench.ours import calibrate, ours
from bot.storage.sqlite import database

STORED = 1_000
ROUNDS, BATCH, WARMUP = 20, 5, 2


async def measure(folder: Path) -> list[str]:
    """Return the report lines."""
    calibration = await calibrate(folder)
    shipped = database._PRAGMAS
    without = (*(p for p in shipped if "secure_delete" not in p), "PRAGMA secure_delete=OFF")
    async with AsyncExitStack() as stack:
        subjects = []
        for name, pragmas in (("secure_delete on", shipped), ("secure_delete off", without)):
            database._PRAGMAS = pragmas
            where = folder / name.replace(" ", "-")
            where.mkdir()
            subject = await stack.enter_async_context(ours(where, STORED, calibration))
            subject.run.variant = name
            subjects.append(subject)
        database._PRAGMAS = shipped
        for subject in subjects:
            await subject.intakes(WARMUP, timed=False)
        scrubs = []
        for _ in range(ROUNDS):
            for subject in subjects:
                await subject.intakes(BATCH)
            # The WAL scrub an erasure triggers, after a batch of intakes' writes.
            store = subjects[0].app.bot_data.running.services.store
            started = time.perf_counter()
            await store.scrub()
            scrubs.append(time.perf_counter() - started)
    on, off = (s.run for s in subjects)
    lines = [f"{'variant':<18} {'updates':>8} {'updates/s':>10} {'p50 ms':>8} {'p99 ms':>8}"]
    for run in (on, off):
        lines.append(
            f"{run.variant:<18} {run.updates:>8,} {run.throughput:>10,.0f}"
            f" {run.percentile(50) * 1e3:>8.3f} {run.percentile(99) * 1e3:>8.3f}"
        )
    lines.append(f"cost of secure_delete: p50 ×{on.percentile(50) / off.percentile(50):.2f}")
    scrubs.sort()
    lines.append(
        f"WAL scrub (checkpoint + truncate) after {BATCH * 2} intakes' writes:"
        f" p50 {scrubs[len(scrubs) // 2] * 1e3:.1f} ms, max {scrubs[-1] * 1e3:.1f} ms"
    )
    return lines


def main() -> None:
    """Measure and print."""
    with tempfile.TemporaryDirectory() as folder:
        print("\n".join(asyncio.run(measure(Path(folder)))))


if __name__ == "__main__":
    main()
