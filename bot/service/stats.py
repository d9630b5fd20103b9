"""The office's statistics for a chosen period, as charts with their numbers, for any channel."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.core import roles
from bot.core.case import CaseStatus
from bot.core.catalogue import Catalogue, Msg
from bot.core.charts import Chart, Table, bar_chart, weeks
from bot.core.dates import long_date
from bot.core.flow import Flow
from bot.core.staff import StaffDirectory
from bot.core.workdays import london_date
from bot.service.staff import Caseworker
from bot.storage.records import PromiseCounts
from bot.storage.store import Store

# The outcomes of intakes the bot counts without keeping anything about the person.
INTAKE_OUTCOMES = ("started", "sent", "out_of_area", "cancelled", "expired")
LONGEST_PERIOD = timedelta(days=3 * 366)


class PeriodError(ValueError):
    """A period that cannot be shown: ``msg`` says why."""

    def __init__(self, msg: Msg) -> None:
        """Keep the text that says what is wrong with the period."""
        super().__init__(msg.key)
        self.msg = msg


@dataclass(frozen=True, slots=True)
class Period:
    """From ``start`` to ``end``, London dates, both included."""

    start: date
    end: date

    @classmethod
    def last_weeks(cls, today: date, count: int = 12) -> Period:
        """Return the ``count`` weeks up to and including ``today``."""
        return cls(today - timedelta(days=7 * count - 1), today)


@dataclass(frozen=True, slots=True)
class Median:
    """A median in days over ``count`` cases (None when there are none)."""

    days: float | None
    count: int


@dataclass(frozen=True, slots=True)
class Statistics:
    """Everything the statistics page shows for one period."""

    period: Period
    received: Chart
    open_cases: Chart
    first_reply: Median
    closed: Median
    promises: PromiseCounts
    promise_chart: Chart
    intakes: Chart

    @property
    def answered_in_time(self) -> float | None:
        """Return the share of cases due by now that were answered by their promised date."""
        counted = self.promises.in_time + self.promises.late + self.promises.overdue
        return None if counted == 0 else self.promises.in_time / counted

    def charts(self) -> list[Chart]:
        """Return the page's charts in order."""
        return [self.received, self.open_cases, self.promise_chart, self.intakes]


class StatsService:
    """Work out the office's statistics from the store, for the office (audited)."""

    def __init__(
        self,
        store: Store,
        staff: StaffDirectory,
        flow: Flow,
        catalogue: Catalogue,
        *,
        clock: Callable[[], datetime],
    ) -> None:
        """Keep the store, the staff (names), the flow (categories) and the texts (labels)."""
        self.store = store
        self.staff = staff
        self.flow = flow
        self.catalogue = catalogue
        self.clock = clock

    def period(self, start: date | None = None, end: date | None = None) -> Period:
        """Return a period to show (default: the last 12 weeks); PeriodError if it cannot be."""
        today = london_date(self.clock())
        if start is None and end is None:
            return Period.last_weeks(today)
        last = end or today
        first = start or last - timedelta(days=7 * 12 - 1)
        if first > last:
            raise PeriodError(Msg("stats.period_backwards"))
        if last - first > LONGEST_PERIOD:
            raise PeriodError(Msg("stats.period_too_long"))
        return Period(first, last)

    async def statistics(self, who: Caseworker, period: Period) -> Statistics:
        """Return the statistics for ``period``; audited."""
        today = london_date(self.clock())
        async with self.store.transaction() as tx:
            received = await tx.count_received_by_week(period.start, period.end)
            open_cases = await tx.count_open_by_assignee()
            first_reply = await tx.median_days(period.start, period.end, "first_reply_at")
            closed = await tx.median_days(period.start, period.end, "closed_at")
            promises = await tx.count_promises(period.start, period.end, today)
            intakes = await tx.count_intake_outcomes(period.start, period.end)
            shown = f"{period.start.isoformat()}..{period.end.isoformat()}"
            await tx.record(self.clock(), who.user_id, "statistics_viewed", None, shown)
        return Statistics(
            period,
            self._received(period, received),
            self._open(open_cases),
            Median(*first_reply),
            Median(*closed),
            promises,
            self._promises(promises),
            self._intakes(intakes),
        )

    def _label(self, key: str, **params: str) -> str:
        return self.catalogue.render(Msg(key, params), _as_is)

    def _title(self, key: str, period: Period | None = None) -> str:
        if period is None:
            return self._label(key)
        return self._label(key, start=long_date(period.start), end=long_date(period.end))

    def _received(self, period: Period, counts: list[tuple[date, str, int]]) -> Chart:
        categories = [o.value for o in self.flow.step(roles.CATEGORY).options]
        found = {(week, category): n for week, category, n in counts}
        used = [c for c in categories if any(k[1] == c for k in found)]
        used += sorted({c for _, c in found} - set(categories))
        rows = tuple(
            (week.isoformat(), tuple(float(found.get((week, c), 0)) for c in used))
            for week in weeks(period.start, period.end)
        )
        names = tuple(self._category(c) for c in used)
        table = Table(self._title("stats.received", period), self._label("stats.week"), names, rows)
        return bar_chart(table)

    def _open(self, counts: list[tuple[int | None, str, int]]) -> Chart:
        statuses = [s.value for s in CaseStatus if s.value in {"new", "open", "waiting"}]
        people: list[int | None] = [m.user_id for m in self.staff.members]
        people += sorted({a for a, _, _ in counts if a is not None and a not in people})
        if any(a is None for a, _, _ in counts):
            people.append(None)
        found = {(a, s): n for a, s, n in counts}
        rows = tuple(
            (self._person(person), tuple(float(found.get((person, s), 0)) for s in statuses))
            for person in people
        )
        series = tuple(self._label(f"status.{s}") for s in statuses)
        return bar_chart(
            Table(self._title("stats.open"), self._label("stats.assignee"), series, rows)
        )

    def _promises(self, counts: PromiseCounts) -> Chart:
        rows = tuple(
            (self._label(f"stats.promise.{name}"), (float(getattr(counts, name)),))
            for name in ("in_time", "late", "overdue", "not_due")
        )
        series = (self._label("stats.cases"),)
        title = self._title("stats.promises")
        return bar_chart(Table(title, self._label("stats.promise"), series, rows))

    def _intakes(self, counts: dict[str, int]) -> Chart:
        rows = tuple(
            (self._label(f"stats.intake.{name}"), (float(counts.get(name, 0)),))
            for name in INTAKE_OUTCOMES
        )
        series = (self._label("stats.intakes"),)
        title = self._title("stats.intake_outcomes")
        return bar_chart(Table(title, self._label("stats.outcome"), series, rows))

    def _person(self, user_id: int | None) -> str:
        if user_id is None:
            return self._label("card.unassigned")
        return self.staff.name_of(user_id) or str(user_id)

    def _category(self, value: str) -> str:
        option = self.flow.step(roles.CATEGORY).option(value)
        return self._label(option.label) if option is not None else value


def _as_is(text: str) -> str:
    return text
