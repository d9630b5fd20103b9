"""The staff desk at scale: its pages and search over HTTP on 127.0.0.1 with many cases stored.

``python -m bench.desk [--cases N] [--repeats N]``: stores N cases (100,000 by default) with
plain sqlite3, starts the bot on an offline Bot API with its desk on a free loopback port,
signs in through a one-time link as a caseworker would, then times each page. A time is one
request's round trip over 127.0.0.1 through uvicorn (the server's time and a local HTTP hop),
measured in the same process. Prints p50/p99 and PASS/MISS against the targets.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sqlite3
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

import httpx

from bench.driver import running
from bench.measure import percentile
from bench.offline import OfflineRequest, offline_builder
from bench.ours import create_schema, settings_for
from bench.staff import STAFF_ID, _case, populate_cases
from bot.channels.telegram.application import build_application
from bot.channels.telegram.context import BotData
from bot.channels.web.server import bind_desk
from bot.office import prepare
from bot.service.staff import Actor

FIRST = ("Olwen", "Ada", "Sam", "Priya", "Dai", "Megan", "Tomasz", "Aisha", "Kwame", "Ruth")
LAST = ("Jones", "Lovelace", "Pritchard", "Okafor", "Nowak", "Evans", "Khan", "Hughes", "Shaw")
PAGE_TARGET = 0.050
SEARCH_TARGET = 0.020
CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


def pages(count: int) -> list[tuple[str, str]]:
    """Return (name, path) of every page timed: each tab, each filter, search, a case."""
    reference = _case(count // 2 + 1).reference
    name = _name(count // 3)
    body = reference.split("-")[1]
    slip = body[:3] + ("Z" if body[3] != "Z" else "Y") + body[4:]
    return [
        ("queue: mine", "/"),
        ("queue: unassigned", "/?tab=unassigned"),
        ("queue: urgent", "/?tab=urgent"),
        ("queue: waiting", "/?tab=waiting"),
        ("queue: all open", "/?tab=open"),
        ("queue: closed", "/?tab=closed"),
        ("filter: category", "/?tab=open&category=housing"),
        ("filter: status", "/?tab=open&status=new"),
        ("filter: assignee", f"/?tab=open&assignee={STAFF_ID}"),
        ("filter: nobody", "/?tab=open&assignee=0"),
        ("filter: received", "/?tab=open&from=2024-03-01&to=2024-03-31"),
        ("filter: combined", "/?tab=open&category=housing&assignee=0&from=2024-02-01"),
        ("sort: newest", "/?tab=open&sort=newest"),
        ("page 200 of open", "/?tab=open&page=200"),
        ("search: name", f"/search?q={name.replace(' ', '+')}"),
        ("search: email", f"/search?q=person{count // 4}@example.org"),
        ("search: postcode (every case)", "/search?q=ST4+1HH"),
        ("search: reference", f"/search?q={reference}"),
        ("search: mistyped reference", f"/search?q=SOT-{slip}"),
        ("case page", f"/cases/{reference}"),
    ]


async def desk_pages(folder: Path, count: int, repeats: int) -> tuple[list[str], bool]:
    """Time the desk's pages with ``count`` cases stored; return the report and if all met."""
    database_path = folder / "desk.sqlite3"
    await create_schema(database_path)
    started = time.perf_counter()
    populate_cases(database_path, count)
    _rename(database_path, count)
    lines = [f"{count:,} cases stored in {time.perf_counter() - started:.1f} s"]
    sock = bind_desk("127.0.0.1", 0)
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = settings_for(database_path).model_copy(update={"desk_public_url": base})
    request = OfflineRequest()
    started = time.perf_counter()
    app = build_application(prepare(settings), offline_builder(request), desk_socket=sock)
    met = True
    async with running(app):
        lines.append(f"started (search index built) in {time.perf_counter() - started:.1f} s")
        bot_data = app.bot_data
        assert isinstance(bot_data, BotData)
        link = await bot_data.runtime.services.desk.login_link(Actor(STAFF_ID, STAFF_ID))
        async with httpx.AsyncClient(timeout=30) as client:
            landing = await client.get(link)
            token = link.rsplit("/", 1)[1]
            csrf = CSRF.search(landing.text)
            assert csrf is not None
            signed = await client.post(f"{base}/login", data={"token": token, "csrf": csrf[1]})
            assert signed.status_code == 303, signed.status_code
            for name, path in pages(count):
                times = []
                for _ in range(repeats):
                    begin = time.perf_counter()
                    answer = await client.get(base + path)
                    times.append(time.perf_counter() - begin)
                    if answer.status_code != 200:
                        raise RuntimeError(f"{path}: {answer.status_code}")
                target = SEARCH_TARGET if name.startswith("search") else PAGE_TARGET
                p99 = percentile(times, 99)
                verdict = "PASS" if p99 < target else "MISS"
                met = met and p99 < target
                lines.append(
                    f"{name:<30} p50 {percentile(times, 50) * 1e3:7.2f} ms"
                    f"   p99 {p99 * 1e3:7.2f} ms   target < {target * 1e3:.0f} ms  {verdict}"
                )
    return lines, met


def _name(number: int) -> str:
    """Return a name shared by few cases: first, middle and last names vary together."""
    middle = FIRST[(number // 90) % len(FIRST)]
    return f"{FIRST[number % 10]} {middle} {LAST[(number // 10) % 9]}{number // 900}"


def _rename(database_path: Path, count: int) -> None:
    """Give the stored cases names as varied as a constituency's (the queue bench's are alike)."""
    with closing(sqlite3.connect(database_path)) as db:
        db.executemany(
            "UPDATE cases SET data = json_set(data, '$.answers.full_name', ?) WHERE user_id = ?",
            ((_name(number), 20_000_000 + number) for number in range(count)),
        )
        db.commit()


def main(argv: list[str] | None = None) -> int:
    """Run the desk bench and print its report."""
    parser = argparse.ArgumentParser(prog="python -m bench.desk", description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="casework-desk-bench-") as temp:
        print(f"== Staff desk, {args.cases:,} cases, {args.repeats} requests a page ==")
        sys.stdout.flush()
        lines, _ = asyncio.run(desk_pages(Path(temp), args.cases, args.repeats))
        print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
