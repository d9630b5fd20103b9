"""The office's statistics over a period of London dates: counts, medians, promises kept."""

from __future__ import annotations

from datetime import date

from bot.storage.records import PromiseCounts
from bot.storage.sqlite.rows import Connection, all_rows, first_row


class StatsRows:
    """The office's statistics over a period of London dates."""

    db: Connection

    async def count_received_by_week(self, start: date, end: date) -> list[tuple[date, str, int]]:
        """Return (Monday, category, cases) for cases received from ``start`` to ``end``."""
        rows = await all_rows(
            self.db,
            "SELECT date(received_on, '-6 days', 'weekday 1') AS week, category, count(*)"
            " FROM cases WHERE received_on BETWEEN ? AND ? GROUP BY week, category",
            (start.isoformat(), end.isoformat()),
        )
        return [(date.fromisoformat(r[0]), str(r[1]), int(r[2])) for r in rows]

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

        Over the cases received from ``start`` to ``end`` that have got there, with their count.
        """
        if until not in ("first_reply_at", "closed_at"):
            raise ValueError(until)
        where = f"received_on BETWEEN ? AND ? AND {until} IS NOT NULL"
        params = (start.isoformat(), end.isoformat())
        found = await first_row(self.db, f"SELECT count(*) FROM cases WHERE {where}", params)  # noqa: S608
        count = int(found[0]) if found else 0
        if count == 0:
            return None, 0
        sql = (
            f"SELECT julianday({until}) - julianday(created_at) AS days FROM cases"  # noqa: S608
            f" WHERE {where} ORDER BY days LIMIT ? OFFSET ?"
        )
        middle = await all_rows(self.db, sql, (*params, 2 - count % 2, (count - 1) // 2))
        values = [float(r[0]) for r in middle]
        return sum(values) / len(values), count

    async def count_promises(self, start: date, end: date, today: date) -> PromiseCounts:
        """Return how the cases received from ``start`` to ``end`` stand against their promise."""
        row = await first_row(
            self.db,
            "SELECT coalesce(sum(first_reply_on <= reply_by), 0),"
            " coalesce(sum(first_reply_on > reply_by), 0),"
            " coalesce(sum(first_reply_on IS NULL AND reply_by < ?), 0),"
            " coalesce(sum(first_reply_on IS NULL AND reply_by >= ?), 0)"
            " FROM cases WHERE received_on BETWEEN ? AND ? AND reply_by IS NOT NULL",
            (today.isoformat(), today.isoformat(), start.isoformat(), end.isoformat()),
        )
        assert row is not None
        return PromiseCounts(int(row[0]), int(row[1]), int(row[2]), int(row[3]))

    async def count_intake_outcomes(self, start: date, end: date) -> dict[str, int]:
        """Return the anonymous counts of intakes by outcome, from ``start`` to ``end``."""
        rows = await all_rows(
            self.db,
            "SELECT outcome, sum(count) FROM intake_counts WHERE day BETWEEN ? AND ?"
            " GROUP BY outcome",
            (start.isoformat(), end.isoformat()),
        )
        return {str(r[0]): int(r[1]) for r in rows}
