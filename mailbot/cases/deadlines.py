"""Legal deadlines of a GDPR request (LEGAL.md §1), computed from its receipt date.

Pure calendar arithmetic: no I/O and no clock. Callers pass "now" and dates in,
so every rule here is reproducible in tests and in a later audit.

Months are calendar months per Regulation 1182/71 Art. 3 (never "30 days"); a
deadline on a Saturday, Sunday or Belgian public holiday moves to the next
working day, and ends at the end of that day in Brussels.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from dateutil.easter import easter
from dateutil.relativedelta import relativedelta

BRUSSELS = ZoneInfo("Europe/Brussels")

# Stored with every case: if these rules ever change, old cases still show
# which reading of the law produced their deadlines.
RULE_VERSION = "LEGAL-1/2026-12"

DEFAULT_TARGET_DAYS = 28

_ONE_DAY = timedelta(days=1)
_SATURDAY = 5


def receipt_date(received_at: datetime) -> date:
    """Brussels local date of the moment a mail reached the inbox.

    A naive datetime raises ValueError: guessing its timezone could move the
    receipt, and so the deadline, by a day.
    """
    if received_at.tzinfo is None or received_at.utcoffset() is None:
        raise ValueError("received_at must be timezone-aware")
    return received_at.astimezone(BRUSSELS).date()


def add_months(start: date, months: int) -> date:
    """Same day-of-month `months` later, or the last day of that month if it is shorter."""
    result: date = start + relativedelta(months=months)
    return result


@lru_cache(maxsize=256)
def belgian_public_holidays(year: int) -> frozenset[date]:
    """The ten public holidays of the Law of 4 January 1974 falling in `year`.

    Regional and community days, Good Friday and 26 December are not among them.
    In a year where Ascension falls on 1 May (2008) the set has nine dates.
    """
    easter_sunday = easter(year)
    return frozenset(
        {
            date(year, 1, 1),
            easter_sunday + timedelta(days=1),  # Easter Monday
            date(year, 5, 1),
            easter_sunday + timedelta(days=39),  # Ascension
            easter_sunday + timedelta(days=50),  # Whit Monday
            date(year, 7, 21),
            date(year, 8, 15),
            date(year, 11, 1),
            date(year, 11, 11),
            date(year, 12, 25),
        }
    )


def is_working_day(day: date) -> bool:
    """True on Monday to Friday unless the day is a Belgian public holiday."""
    return day.weekday() < _SATURDAY and day not in belgian_public_holidays(day.year)


def next_working_day(day: date) -> date:
    """`day` itself if it is a working day, else the first working day after it."""
    while not is_working_day(day):
        day += _ONE_DAY
    return day


@dataclass(frozen=True, slots=True)
class Deadlines:
    """The dates a case is measured against, with the rule version that produced them."""

    receipt_date: date
    legal_due: date
    target_due: date
    extended_due: date
    rule_version: str


def deadlines_for(receipt: date, target_days: int = DEFAULT_TARGET_DAYS) -> Deadlines:
    """Legal (one month), extended (three months) and internal target dates for a receipt.

    The internal target is `receipt + target_days` calendar days and is deliberately
    NOT rolled to a working day: it is a goal, not a legal limit, and keeping it a
    fixed count of days means it never passes the legal deadline (a month is at
    least 28 days) and "% closed by the internal target" measures the same span for
    every case. A target on a weekend simply means "done by the Friday before".
    """
    if target_days < 0:
        raise ValueError("target_days must not be negative")
    return Deadlines(
        receipt_date=receipt,
        legal_due=next_working_day(add_months(receipt, 1)),
        target_due=receipt + timedelta(days=target_days),
        extended_due=next_working_day(add_months(receipt, 3)),
        rule_version=RULE_VERSION,
    )


def pause_applies(receipt: date, id_requested: date, has_doubt_reason: bool) -> bool:
    """Whether waiting for an ID copy pauses the clock (LEGAL.md §1.7).

    Only when a doubt reason was recorded AND the ID was requested within one
    working day of receipt, meaning: on or after the receipt date and no later
    than the first working day after the receipt date,
    i.e. `receipt <= id_requested <= next_working_day(receipt + 1 day)`.
    A Friday receipt may be followed by a Monday request (Tuesday if that Monday
    is a public holiday); a Saturday receipt by a Monday request.
    """
    if id_requested < receipt:
        raise ValueError("an ID cannot be requested before the request was received")
    if not has_doubt_reason:
        return False
    return id_requested <= next_working_day(receipt + _ONE_DAY)


def paused_due(receipt: date, id_requested: date, id_received: date, months: int = 1) -> date:
    """Legal deadline extended by the days spent waiting for an ID copy (LEGAL.md §1.7).

    The pause is added to the unrolled one-month date and only then rolled, so a
    pause never stacks on top of an earlier weekend roll. Call it only when
    `pause_applies` is true. `months=3`: the extended deadline, moved by the same pause
    (a clock that stood still stood still for the extension too).
    """
    if id_requested < receipt:
        raise ValueError("an ID cannot be requested before the request was received")
    if id_received < id_requested:
        raise ValueError("an ID cannot be received before it was requested")
    waited = id_received - id_requested
    return next_working_day(add_months(receipt, months) + waited)


def can_extend(today: date, legal_due: date, reason: str) -> bool:
    """Whether a two-month extension may still be notified (LEGAL.md §1.5).

    Needs a non-blank written reason, and the notice must go out no later than
    the one-month deadline day itself; after that, extending is impossible.
    """
    return bool(reason.strip()) and today <= legal_due


def deadline_end(due: date) -> datetime:
    """The last instant of `due` in Brussels, as an aware datetime.

    Built from the wall clock of that day, so it is 23:59:59.999999 local time in
    summer and winter alike (midnight is never inside a Brussels DST jump).
    """
    return datetime.combine(due, time.max, tzinfo=BRUSSELS)


def is_late(now: datetime, due: date) -> bool:
    """True once `now` (any aware timezone, typically UTC) is past the end of `due` in Brussels."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    # Compare in UTC: two datetimes sharing a ZoneInfo compare by wall clock.
    return now.astimezone(UTC) > deadline_end(due).astimezone(UTC)
