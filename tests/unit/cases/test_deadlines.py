"""Deadline rules of LEGAL.md §1: spec vectors, holidays, pauses, extensions, lateness."""

from __future__ import annotations

import calendar
import csv
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from dateutil.easter import easter
from hypothesis import given
from hypothesis import strategies as st

from mailbot.cases.deadlines import (
    BRUSSELS,
    RULE_VERSION,
    add_months,
    belgian_public_holidays,
    can_extend,
    deadline_end,
    deadlines_for,
    is_late,
    is_working_day,
    next_working_day,
    pause_applies,
    paused_due,
    receipt_date,
)

VECTORS = Path(__file__).resolve().parents[2] / "data" / "deadline_vectors.csv"
SPEC_VECTORS = (
    Path(__file__).resolve().parents[3].parent / "shared" / "spec" / "deadline_vectors.csv"
)

receipts = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))
years = st.integers(min_value=2000, max_value=2100)


def _vector_rows() -> list[dict[str, str]]:
    with VECTORS.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _iso(text: str) -> date:
    return date.fromisoformat(text)


# --- spec test vectors ---------------------------------------------------------------


@pytest.mark.parametrize("row", _vector_rows(), ids=lambda row: row["id"])
def test_spec_vector(row: dict[str, str]) -> None:
    deadlines = deadlines_for(_iso(row["received_brussels_date"]))
    assert deadlines.legal_due == _iso(row["due_one_month"]), row["what_it_tests"]
    assert deadlines.extended_due == _iso(row["due_three_months"]), row["what_it_tests"]


@pytest.mark.corpus
def test_vector_copy_matches_spec() -> None:
    if not SPEC_VECTORS.exists():
        pytest.skip("../shared/spec is not present in this checkout")
    assert VECTORS.read_bytes() == SPEC_VECTORS.read_bytes()


# --- receipt date ---------------------------------------------------------------------


def test_receipt_late_evening_utc_is_next_brussels_day() -> None:
    assert receipt_date(datetime(2025, 1, 31, 23, 30, tzinfo=UTC)) == date(2025, 2, 1)


def test_receipt_before_brussels_midnight_in_winter_keeps_the_day() -> None:
    assert receipt_date(datetime(2025, 1, 31, 22, 59, tzinfo=UTC)) == date(2025, 1, 31)


def test_receipt_in_summer_time_uses_two_hour_offset() -> None:
    # 22:30Z is 00:30 CEST the next day; 21:59Z is still 23:59 CEST.
    assert receipt_date(datetime(2025, 7, 14, 22, 30, tzinfo=UTC)) == date(2025, 7, 15)
    assert receipt_date(datetime(2025, 7, 14, 21, 59, tzinfo=UTC)) == date(2025, 7, 14)


def test_receipt_in_brussels_time_is_its_own_date() -> None:
    received = datetime(2026, 3, 29, 0, 30, tzinfo=BRUSSELS)
    assert receipt_date(received) == date(2026, 3, 29)


def test_naive_receipt_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        receipt_date(datetime(2025, 1, 31, 23, 30))


# --- calendar months ------------------------------------------------------------------


def test_add_months_clamps_to_the_end_of_a_short_month() -> None:
    assert add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2025, 2, 28), 1) == date(2025, 3, 28)
    assert add_months(date(2025, 11, 30), 3) == date(2026, 2, 28)


@given(receipts, st.integers(min_value=0, max_value=24))
def test_add_months_keeps_the_day_or_lands_on_the_last_day(start: date, months: int) -> None:
    result = add_months(start, months)
    elapsed = (result.year - start.year) * 12 + result.month - start.month
    assert elapsed == months
    days_in_month = calendar.monthrange(result.year, result.month)[1]
    assert result.day == min(start.day, days_in_month)


# --- public holidays ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "easter_monday", "ascension", "whit_monday"),
    [
        (2025, date(2025, 4, 21), date(2025, 5, 29), date(2025, 6, 9)),
        (2026, date(2026, 4, 6), date(2026, 5, 14), date(2026, 5, 25)),
        (2027, date(2027, 3, 29), date(2027, 5, 6), date(2027, 5, 17)),
    ],
)
def test_holidays_are_exactly_the_ten_of_the_1974_law(
    year: int, easter_monday: date, ascension: date, whit_monday: date
) -> None:
    fixed = {(1, 1), (5, 1), (7, 21), (8, 15), (11, 1), (11, 11), (12, 25)}
    expected = {date(year, month, day) for month, day in fixed}
    expected |= {easter_monday, ascension, whit_monday}
    assert len(expected) == 10
    assert belgian_public_holidays(year) == expected


@given(years)
def test_every_year_has_ten_holidays_unless_two_coincide(year: int) -> None:
    holidays = belgian_public_holidays(year)
    ascension_on_labour_day = easter(year) + timedelta(days=39) == date(year, 5, 1)
    assert len(holidays) == (9 if ascension_on_labour_day else 10)
    assert all(day.year == year for day in holidays)


def test_2008_ascension_on_labour_day_counts_once() -> None:
    assert date(2008, 5, 1) in belgian_public_holidays(2008)
    assert len(belgian_public_holidays(2008)) == 9


@pytest.mark.parametrize("good_friday", [date(2025, 4, 18), date(2026, 4, 3), date(2027, 3, 26)])
def test_good_friday_is_a_working_day(good_friday: date) -> None:
    assert good_friday.weekday() == 4
    assert is_working_day(good_friday)


@given(years)
def test_good_friday_is_never_a_holiday(year: int) -> None:
    assert is_working_day(easter(year) - timedelta(days=2))


@given(years)
def test_boxing_day_is_a_working_day_on_weekdays(year: int) -> None:
    boxing_day = date(year, 12, 26)
    assert is_working_day(boxing_day) == (boxing_day.weekday() < 5)


def test_weekends_and_holidays_are_not_working_days() -> None:
    assert not is_working_day(date(2026, 4, 4))  # Saturday
    assert not is_working_day(date(2026, 4, 5))  # Sunday
    assert not is_working_day(date(2026, 4, 6))  # Easter Monday
    assert is_working_day(date(2026, 4, 7))


def test_next_working_day_keeps_a_working_day_and_rolls_past_a_long_weekend() -> None:
    assert next_working_day(date(2026, 4, 7)) == date(2026, 4, 7)
    assert next_working_day(date(2026, 4, 4)) == date(2026, 4, 7)


def test_longest_roll_between_2000_and_2100_is_three_days() -> None:
    # Sat-Sun-holiday Monday (or holiday Friday-Sat-Sun) is the longest run of
    # non-working days: Ascension meets 1 May on a Thursday only when Easter is
    # 22 March, which does not happen in this century.
    day, last = date(2000, 1, 1), date(2100, 12, 31)
    longest = 0
    while day <= last:
        longest = max(longest, (next_working_day(day) - day).days)
        day += timedelta(days=1)
    assert longest == 3


# --- deadlines ------------------------------------------------------------------------


def test_deadlines_record_receipt_target_and_rule_version() -> None:
    deadlines = deadlines_for(date(2026, 3, 5))
    assert deadlines.receipt_date == date(2026, 3, 5)
    assert deadlines.target_due == date(2026, 4, 2)
    assert deadlines.rule_version == RULE_VERSION


def test_target_days_is_configurable_and_not_rolled() -> None:
    # 2026-03-05 + 30 days is Saturday 4 April: the internal target stays there.
    assert deadlines_for(date(2026, 3, 5), target_days=30).target_due == date(2026, 4, 4)


def test_negative_target_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        deadlines_for(date(2026, 3, 5), target_days=-1)


@given(receipts)
def test_legal_due_is_a_working_day_a_month_out(receipt: date) -> None:
    deadlines = deadlines_for(receipt)
    assert is_working_day(deadlines.legal_due)
    assert deadlines.legal_due >= receipt + timedelta(days=28)
    assert deadlines.legal_due >= add_months(receipt, 1)
    assert deadlines.legal_due <= add_months(receipt, 1) + timedelta(days=3)


@given(receipts)
def test_extended_due_is_a_working_day_after_legal_due(receipt: date) -> None:
    deadlines = deadlines_for(receipt)
    assert is_working_day(deadlines.extended_due)
    assert deadlines.extended_due >= deadlines.legal_due
    assert deadlines.extended_due <= add_months(receipt, 3) + timedelta(days=3)


@given(receipts)
def test_default_target_never_passes_the_legal_deadline(receipt: date) -> None:
    deadlines = deadlines_for(receipt)
    assert deadlines.target_due == receipt + timedelta(days=28)
    assert deadlines.target_due <= deadlines.legal_due


# --- ID pause -------------------------------------------------------------------------


def test_pause_adds_waiting_days_before_rolling() -> None:
    # 5 Mar + 1 month = Sun 5 Apr; + 7 days waiting = Sun 12 Apr -> Mon 13 Apr.
    assert paused_due(date(2026, 3, 5), date(2026, 3, 5), date(2026, 3, 12)) == date(2026, 4, 13)


def test_pause_of_zero_days_is_the_legal_deadline() -> None:
    receipt = date(2026, 3, 5)
    assert paused_due(receipt, receipt, receipt) == deadlines_for(receipt).legal_due


def test_pause_refuses_an_id_received_before_it_was_requested() -> None:
    with pytest.raises(ValueError, match="received before"):
        paused_due(date(2026, 3, 5), date(2026, 3, 6), date(2026, 3, 5))


@given(receipts, st.integers(min_value=0, max_value=5), st.integers(min_value=0, max_value=120))
def test_paused_due_is_never_before_legal_due(receipt: date, asked_after: int, waited: int) -> None:
    requested = receipt + timedelta(days=asked_after)
    received = requested + timedelta(days=waited)
    paused = paused_due(receipt, requested, received)
    assert paused >= deadlines_for(receipt).legal_due
    assert is_working_day(paused)


def test_pause_needs_a_recorded_doubt_reason() -> None:
    assert pause_applies(date(2026, 3, 5), date(2026, 3, 5), has_doubt_reason=True)
    assert not pause_applies(date(2026, 3, 5), date(2026, 3, 5), has_doubt_reason=False)


def test_friday_receipt_allows_a_monday_request_but_not_tuesday() -> None:
    friday = date(2026, 3, 6)
    assert pause_applies(friday, date(2026, 3, 9), has_doubt_reason=True)
    assert not pause_applies(friday, date(2026, 3, 10), has_doubt_reason=True)


def test_holiday_monday_stretches_the_request_window_to_tuesday() -> None:
    good_friday = date(2026, 4, 3)  # Easter Monday 6 April follows the weekend
    assert pause_applies(good_friday, date(2026, 4, 7), has_doubt_reason=True)
    assert not pause_applies(good_friday, date(2026, 4, 8), has_doubt_reason=True)


def test_weekend_receipt_allows_a_monday_request() -> None:
    saturday = date(2026, 3, 7)
    assert pause_applies(saturday, date(2026, 3, 9), has_doubt_reason=True)
    assert not pause_applies(saturday, date(2026, 3, 10), has_doubt_reason=True)


# --- extension ------------------------------------------------------------------------


def test_extension_needs_a_written_reason() -> None:
    due = date(2026, 4, 7)
    assert can_extend(date(2026, 4, 1), due, "Twelve linked accounts to search")
    assert not can_extend(date(2026, 4, 1), due, "")
    assert not can_extend(date(2026, 4, 1), due, "   \n")


def test_extension_is_possible_up_to_the_due_day_and_never_after() -> None:
    due = date(2026, 4, 7)
    assert can_extend(due, due, "Complex request")
    assert not can_extend(due + timedelta(days=1), due, "Complex request")


# --- lateness -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("due", "last_on_time_utc"),
    [
        (date(2026, 1, 15), datetime(2026, 1, 15, 22, 59, tzinfo=UTC)),  # CET, +1
        (date(2026, 7, 15), datetime(2026, 7, 15, 21, 59, tzinfo=UTC)),  # CEST, +2
        (date(2026, 3, 29), datetime(2026, 3, 29, 21, 59, tzinfo=UTC)),  # spring forward day
        (date(2026, 10, 25), datetime(2026, 10, 25, 22, 59, tzinfo=UTC)),  # fall back day
        (date(2026, 3, 28), datetime(2026, 3, 28, 22, 59, tzinfo=UTC)),  # eve of spring forward
        (date(2026, 10, 24), datetime(2026, 10, 24, 21, 59, tzinfo=UTC)),  # eve of fall back
    ],
)
def test_late_is_decided_on_the_brussels_clock(due: date, last_on_time_utc: datetime) -> None:
    assert not is_late(last_on_time_utc, due)
    assert is_late(last_on_time_utc + timedelta(minutes=1), due)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 30)))
def test_late_from_brussels_midnight_after_the_due_day(due: date) -> None:
    last_minute = datetime.combine(due, time(23, 59), tzinfo=BRUSSELS).astimezone(UTC)
    next_midnight = datetime.combine(due + timedelta(days=1), time(0), tzinfo=BRUSSELS)
    assert not is_late(last_minute, due)
    assert not is_late(deadline_end(due), due)
    assert is_late(next_midnight.astimezone(UTC), due)
    assert is_late(next_midnight, due)


def test_deadline_end_is_an_aware_brussels_instant() -> None:
    end = deadline_end(date(2026, 10, 25))
    assert end.tzinfo is BRUSSELS
    assert end.astimezone(UTC) == datetime(2026, 10, 25, 22, 59, 59, 999999, tzinfo=UTC)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        is_late(datetime(2026, 4, 7, 12, 0), date(2026, 4, 7))
