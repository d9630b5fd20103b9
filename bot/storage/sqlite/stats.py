"""The office's statistics over a period of London dates: counts, medians, promises kept."""

from __future__ import annotations

from datetime import date

from bot.core.charts import week_of
from bot.storage.records import PromiseCounts
from bot.storage.sqlite.rows import Connection, all_rows


class StatsRows:
    """The office's statistics over a period of London dates."""

    db: Connection

    async def count_received_by_week(self, start: date, end: date) -> list[tuple[date, str, int]]:
        """Return (Monday, category, cases) for cases received from ``start`` to ``end``."""
        # Counted by day in the index's own order, then by week here: a few thousand rows.
        rows = await all_rows(
            self.db,
            "SELECT day, key, n FROM case_counts WHERE kind = 'received' AND day BETWEEN ? AND ?",
            (start.isoformat(), end.isoformat()),
        )
        weeks: dict[tuple[date, str], int] = {}
        for day, category, count in rows:
            week = week_of(date.fromisoformat(day))
            weeks[week, category] = weeks.get((week, category), 0) + int(count)
        return [(week, category, count) for (week, category), count in sorted(weeks.items())]

    async def count_open_by_assignee(self) -> list[tuple[int | None, str, int]]:
        """Return (assignee, status, cases) for the open cases."""
        rows = await all_rows(
            self.db,
            "SELECT assignee, status, count(*) FROM cases WHERE is_open = 1"
            " GROUP BY assignee, status",
        )
        return [(r[0], str(r[1]), int(r[2])) for r in rows]

    async def median_days(self, start: date, end: date, until: str) -> tuple[float | None, int]:
        """Return the median days from arrival to ``until`` (first_reply_at or closed_at).

        Over the cases received from ``start`` to ``end`` that have got there, with their
        count; counted by the hour (a histogram from the index), so exact to the hour.
        """
        column = {"first_reply_at": "reply_minutes", "closed_at": "close_minutes"}.get(until)
        if column is None:
            raise ValueError(until)
        rows = await all_rows(
            self.db,
            f"SELECT {column} / 60, count(*) FROM cases"  # noqa: S608
            f" WHERE received_on BETWEEN ? AND ? AND {column} IS NOT NULL GROUP BY 1 ORDER BY 1",
            (start.isoformat(), end.isoformat()),
        )
        count = sum(int(r[1]) for r in rows)
        if count == 0:
            return None, 0
        wanted = sorted({(count - 1) // 2, count // 2})
        found, seen = [], 0
        for hours, n in rows:
            while wanted and wanted[0] < seen + int(n):
                found.append(int(hours))
                wanted.pop(0)
            seen += int(n)
        return sum(found) / len(found) / 24, count

    async def count_promises(self, start: date, end: date, today: date) -> PromiseCounts:
        """Return how the cases received from ``start`` to ``end`` stand against their promise."""
        rows = await all_rows(
            self.db,
            "SELECT key, sum(n) FROM case_counts WHERE kind = 'promise' AND day BETWEEN ? AND ?"
            " GROUP BY key",
            (start.isoformat(), end.isoformat()),
        )
        found = {str(key): int(n) for key, n in rows}
        due = [n for key, n in found.items() if len(key) > 1]
        overdue = sum(n for key, n in found.items() if len(key) > 1 and key < today.isoformat())
        return PromiseCounts(found.get("1", 0), found.get("0", 0), overdue, sum(due) - overdue)

    async def count_intake_outcomes(self, start: date, end: date) -> dict[str, int]:
        """Return the anonymous counts of intakes by outcome, from ``start`` to ``end``."""
        rows = await all_rows(
            self.db,
            "SELECT outcome, sum(count) FROM intake_counts WHERE day BETWEEN ? AND ?"
            " GROUP BY outcome",
            (start.isoformat(), end.isoformat()),
        )
        return {str(r[0]): int(r[1]) for r in rows}
