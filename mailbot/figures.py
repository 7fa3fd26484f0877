"""The LEGAL.md §6 figures of a period, summed by the database: the dashboard's numbers.

`mailbot.metrics.sla_figures` walks every case in Python and stays the reference; over
a million cases that takes minutes. Here the facts each case records as they happen
(closed in time, first answer, late notice: mailbot.cases.timeliness, replies.outcomes)
are summed with one GROUP BY over the receipt day, on the covering index
`ix_privacy_case_figures`, and the days are folded into ISO weeks in Python (no
dialect's date functions). Open cases are placed against their deadline by comparing
dates with today's in SQL, on the partial index of open cases; only those whose clock
stands still for an ID copy (a few) are loaded and placed by `timeliness.due_for`. The
median time to acknowledge is read at its rank on `ix_privacy_case_acknowledge`. A test
holds `period_figures` equal to `sla_figures` on the same cases.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final, cast

from sqlalchemy import ColumnElement, Engine, and_, case, or_
from sqlmodel import Session, col, func, select

from mailbot.cases.deadlines import is_late, receipt_date
from mailbot.cases.models import Case, CaseOutcome, CaseStatus
from mailbot.cases.timeliness import CASE_DATES, CaseDates, due_for
from mailbot.database import transaction

# Time to acknowledge, in bands: (label, up to this many seconds, excluded).
ACKNOWLEDGE_BANDS: Final = (
    ("under 1 hour", 3600),
    ("1 to 4 hours", 4 * 3600),
    ("4 to 24 hours", 24 * 3600),
    ("1 to 2 days", 2 * 86400),
    ("2 to 7 days", 7 * 86400),
    ("7 days or more", None),
)
# Open cases by the days left before their deadline: (label, at most this many days).
PAST_THE_DEADLINE = "past the deadline"
DAYS_LEFT_BANDS: Final = (
    (PAST_THE_DEADLINE, -1),
    ("0 to 3 days", 3),
    ("4 to 7 days", 7),
    ("8 to 14 days", 14),
    ("15 days or more", None),
)
WAITING_FOR_ID = "clock stopped for an ID copy"
ANSWERED_NOT_CLOSED = "answered, not yet closed"


@dataclass(frozen=True, slots=True)
class DayTotals:
    """What the cases received on one day add up to."""

    day: date
    received: int
    closed: int
    on_time: int  # by the legal deadline
    by_target: int
    on_time_extended: int  # by the extended deadline, after an extension
    extended: int
    late_notices: int
    id_requested: int
    acknowledged: int
    refusals: int  # refusal-type letters sent, of cases not purged (as mailbot report)
    refusals_with_remedies: int
    acknowledge_bands: tuple[int, ...]  # ACKNOWLEDGE_BANDS
    longest_acknowledge: int | None  # seconds


@dataclass(frozen=True, slots=True)
class OpenTotals:
    """The period's cases not yet closed, against the deadline each is held to now."""

    bands: dict[str, int]  # DAYS_LEFT_BANDS, then WAITING_FOR_ID, ANSWERED_NOT_CLOSED
    overdue_by_day: dict[date, int]  # past the deadline and not yet answered, by receipt

    @property
    def overdue(self) -> int:
        return sum(self.overdue_by_day.values())


@dataclass(frozen=True, slots=True)
class Week:
    """One ISO week of receipts: what became of the cases received in it."""

    label: str  # 2026-W14
    monday: date
    received: int
    on_time: int  # closed by the legal deadline, not extended
    after_extension: int  # closed by the extended deadline
    late: int  # closed after the deadline, or open and past it

    def as_json(self) -> dict[str, object]:
        return {
            "week": self.label,
            "monday": self.monday.isoformat(),
            "received": self.received,
            "closed_on_time": self.on_time,
            "closed_after_extension": self.after_extension,
            "late": self.late,
        }


def requests_in(first_day: date, last_day: date) -> ColumnElement[bool]:
    """Cases received in the period that are requests (a redirected mail is none)."""
    return and_(
        col(Case.receipt_date) >= first_day,
        col(Case.receipt_date) <= last_day,
        or_(col(Case.outcome).is_(None), col(Case.outcome) != CaseOutcome.NOT_A_REQUEST),
    )


def count_if(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    # count(CASE WHEN .. THEN 1 END): the cheapest conditional count SQLite evaluates
    # a million times (a sum of a CASE with an ELSE costs a fifth more).
    return func.count(case((condition, 1)))


def _unless_purged(counter: Any) -> ColumnElement[Any]:
    # Purged cases are left out, as `mailbot report` (whose texts retention emptied) does.
    return func.sum(case((col(Case.purged_at).is_(None), counter)))


def day_totals(session: Session, first_day: date, last_day: date) -> list[DayTotals]:
    seconds = col(Case.acknowledge_seconds)
    # Cumulative (under each band's upper bound): one comparison per row and band.
    below = [count_if(seconds < high) for _label, high in ACKNOWLEDGE_BANDS if high is not None]
    query = (
        select(  # type: ignore[call-overload]
            Case.receipt_date,
            func.count(),
            func.count(col(Case.closed_on_time)),
            count_if(col(Case.closed_on_time).is_(True)),
            count_if(col(Case.closed_by_target).is_(True)),
            count_if(
                and_(
                    col(Case.closed_on_time).is_(True),
                    col(Case.extension_notified_on).is_not(None),
                )
            ),
            func.count(col(Case.extension_notified_on)),
            count_if(col(Case.late_extension_notice).is_(True)),
            func.count(col(Case.id_requested_at)),
            func.count(seconds),
            func.max(seconds),
            _unless_purged(col(Case.refusals_sent)),
            _unless_purged(col(Case.refusals_with_remedies)),
            *below,
        )
        .where(requests_in(first_day, last_day))
        .group_by(col(Case.receipt_date))
        .order_by(col(Case.receipt_date))
    )
    return [
        DayTotals(
            day=row[0],
            received=row[1],
            closed=row[2],
            on_time=row[3],
            by_target=row[4],
            on_time_extended=row[5],
            extended=row[6],
            late_notices=row[7],
            id_requested=row[8],
            acknowledged=row[9],
            longest_acknowledge=row[10],
            refusals=int(row[11] or 0),
            refusals_with_remedies=int(row[12] or 0),
            acknowledge_bands=_bands(row[9], [int(n) for n in row[13:]]),
        )
        for row in session.exec(query).all()
    ]


def _open(first_day: date, last_day: date) -> ColumnElement[bool]:
    return and_(col(Case.closed_at).is_(None), requests_in(first_day, last_day))


# Stopped for an ID copy: held to a date that moves with the pause (timeliness.due_for),
# placed one by one in Python; they are few. Every other open case is held to
# `current_due` (an open case has no outcome yet), compared in SQL with today's dates.
_stopped_for_id: Final = and_(
    col(Case.clock_paused).is_(True), col(Case.id_requested_at).is_not(None)
)
# `current_due` in SQL: the extended deadline once the requester was told of it.
CURRENT_DUE: Final = case(
    (col(Case.extension_notified_on).is_not(None), col(Case.extended_due)),
    else_=col(Case.legal_due),
)


def _bands(acknowledged: int, below: list[int]) -> tuple[int, ...]:
    """Counts per band from the counts under each upper bound."""
    upper = [*below, acknowledged]
    return tuple(high - low for low, high in zip([0, *below], upper, strict=True))


def open_totals(session: Session, first_day: date, last_day: date, now: datetime) -> OpenTotals:
    today = receipt_date(now)
    bands = [(label, most) for label, most in DAYS_LEFT_BANDS if most is not None]
    band = case(
        (col(Case.status) == CaseStatus.ANSWERED, ANSWERED_NOT_CLOSED),
        *((today + timedelta(days=most) >= CURRENT_DUE, label) for label, most in bands),
        else_=DAYS_LEFT_BANDS[-1][0],
    )
    counted = session.exec(
        select(col(Case.receipt_date), band, func.count())
        .where(_open(first_day, last_day))
        .where(~_stopped_for_id)
        .group_by(col(Case.receipt_date), band)
    ).all()
    totals = dict.fromkeys([label for label, _ in DAYS_LEFT_BANDS], 0)
    totals |= {WAITING_FOR_ID: 0, ANSWERED_NOT_CLOSED: 0}
    overdue: dict[date, int] = {}
    for day, label, count in counted:
        totals[label] += count
        if label == PAST_THE_DEADLINE:
            overdue[day] = overdue.get(day, 0) + count
    for row in _paused(session, first_day, last_day):
        due = due_for(cast(CaseDates, row), now)
        label = _band(row, due, now)
        totals[label] += 1
        if label == PAST_THE_DEADLINE:
            overdue[row.receipt_date] = overdue.get(row.receipt_date, 0) + 1
    return OpenTotals(totals, overdue)


def _paused(session: Session, first_day: date, last_day: date) -> Sequence[Any]:
    columns = [getattr(Case, name) for name in ("id", "reference", "status", *CASE_DATES)]
    query = select(*columns).where(_open(first_day, last_day)).where(_stopped_for_id)
    rows: Sequence[Any] = session.exec(query.order_by(col(Case.id))).all()
    return rows


def open_overdue(session: Session, first_day: date, last_day: date, now: datetime) -> list[str]:
    """References of the period's open cases past their deadline and not yet answered."""
    today = receipt_date(now)
    rows = session.exec(
        select(Case.id, Case.reference)
        .where(_open(first_day, last_day))
        .where(~_stopped_for_id)
        .where(col(Case.status) != CaseStatus.ANSWERED)
        .where(today > CURRENT_DUE)
    ).all()
    found = [(case_id or 0, reference) for case_id, reference in rows]
    found += [
        (row.id, row.reference)
        for row in _paused(session, first_day, last_day)
        if row.status != CaseStatus.ANSWERED and is_late(now, due_for(cast(CaseDates, row), now))
    ]
    return [reference for _, reference in sorted(found)]


def _band(row: Any, due: date, now: datetime) -> str:
    if row.status == CaseStatus.ANSWERED:
        return ANSWERED_NOT_CLOSED
    if row.clock_paused and row.id_requested_at is not None and row.id_received_at is None:
        return WAITING_FOR_ID
    if is_late(now, due):
        return PAST_THE_DEADLINE
    days_left = (due - receipt_date(now)).days
    for label, most in DAYS_LEFT_BANDS[1:]:
        if most is None or days_left <= most:
            return label
    raise AssertionError("the last band takes every number")


def days_left_bands(totals: OpenTotals) -> list[tuple[str, int]]:
    return list(totals.bands.items())


def weeks(days: Sequence[DayTotals], open_now: OpenTotals) -> list[Week]:
    """The days folded into ISO weeks; open cases past their deadline count as late."""
    totals: dict[tuple[int, int], list[int]] = {}
    for day in days:
        year, number, _ = day.day.isocalendar()
        on_time = day.on_time - day.on_time_extended
        late = day.closed - day.on_time
        week = totals.setdefault((year, number), [0, 0, 0, 0])
        for index, value in enumerate((day.received, on_time, day.on_time_extended, late)):
            week[index] += value
    for received, count in open_now.overdue_by_day.items():
        year, number, _ = received.isocalendar()
        totals.setdefault((year, number), [0, 0, 0, 0])[3] += count
    return [
        Week(f"{year}-W{number:02d}", date.fromisocalendar(year, number, 1), *values)
        for (year, number), values in sorted(totals.items())
    ]


def acknowledge_bands(days: Sequence[DayTotals]) -> list[tuple[str, int]]:
    counts = [sum(day.acknowledge_bands[i] for day in days) for i in range(len(ACKNOWLEDGE_BANDS))]
    waiting = sum(day.received - day.acknowledged for day in days)
    labels = [label for label, _ in ACKNOWLEDGE_BANDS]
    return [*zip(labels, counts, strict=True), ("no first answer yet", waiting)]


def median_acknowledge_hours(
    session: Session, first_day: date, last_day: date, acknowledged: int
) -> float | None:
    """The median over `acknowledged` cases, read at its rank (the middle two when even)."""
    if acknowledged == 0:
        return None
    seconds = col(Case.acknowledge_seconds)
    middle = session.exec(
        select(seconds)
        .where(seconds.is_not(None))
        .where(requests_in(first_day, last_day))
        .order_by(seconds)
        .offset((acknowledged - 1) // 2)
        .limit(2 - acknowledged % 2)
    ).all()
    hours = [value / 3600 for value in middle if value is not None]
    return round(sum(hours) / len(hours), 2)


def not_acknowledged(session: Session, first_day: date, last_day: date) -> list[str]:
    return list(
        session.exec(
            select(Case.reference)
            .where(col(Case.acknowledge_seconds).is_(None))
            .where(requests_in(first_day, last_day))
            .order_by(col(Case.id))
        ).all()
    )


@dataclass(frozen=True, slots=True)
class Dashboard:
    """Everything the dashboard page shows for a period."""

    first_day: date
    last_day: date
    days: list[DayTotals]
    open_now: OpenTotals
    median_acknowledge_hours: float | None

    @property
    def weeks(self) -> list[Week]:
        return weeks(self.days, self.open_now)

    def total(self, name: str) -> int:
        return sum(int(getattr(day, name)) for day in self.days)


def dashboard(engine: Engine, first_day: date, last_day: date, now: datetime) -> Dashboard:
    with transaction(engine) as session:
        days = day_totals(session, first_day, last_day)
        acknowledged = sum(day.acknowledged for day in days)
        return Dashboard(
            first_day,
            last_day,
            days,
            open_totals(session, first_day, last_day, now),
            median_acknowledge_hours(session, first_day, last_day, acknowledged),
        )
