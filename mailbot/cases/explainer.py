"""Why a case is due when it is: the deadline rules of LEGAL.md §1 applied to one case,
step by step, in sentences the DPO can check against a calendar.

Pure: the case and "now" in, the steps out. The dates come from the same functions that
set them (`mailbot.cases.deadlines`, `mailbot.cases.lifecycle`), so the explanation
cannot disagree with the deadline it explains.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from dateutil.easter import easter

from mailbot.cases.deadlines import (
    BRUSSELS,
    add_months,
    deadlines_for,
    is_late,
    is_working_day,
    receipt_date,
)
from mailbot.cases.models import Case, CaseOutcome, CaseStatus
from mailbot.cases.timeliness import due_after_pause, due_for


@dataclass(frozen=True, slots=True)
class Step:
    rule: str  # which rule: "receipt", "month", "working day", "pause", ...
    text: str


@dataclass(frozen=True, slots=True)
class Explanation:
    steps: tuple[Step, ...]
    due: date
    days_left: int  # negative once late
    late: bool


def explain_deadline(case: Case, now: datetime, target_days: int = 28) -> Explanation:
    steps = [_receipt(case)]
    month_end = add_months(case.receipt_date, 1)
    steps.append(_month(case.receipt_date, month_end))
    steps += _rolled(month_end, "one-month deadline")
    steps += _pause(case, now)
    steps.append(
        Step(
            "target",
            f"Internal target: {_day(case.target_due)}, {target_days} calendar days after "
            "receipt plus any pause (a goal, never moved to a working day).",
        )
    )
    steps += _extension(case)
    due = due_for(case, now)
    late = case.closed_at is None and is_late(now, due)
    days_left = (due - receipt_date(now)).days
    steps.append(_verdict(case, due, days_left, late))
    return Explanation(tuple(steps), due, days_left, late)


def _receipt(case: Case) -> Step:
    local = case.received_at.astimezone(BRUSSELS)
    return Step(
        "receipt",
        f"Received {local:%Y-%m-%d %H:%M} Brussels time: the receipt date is "
        f"{_day(case.receipt_date)} (the clock starts on the day the mail reached the inbox, "
        "whatever the hour).",
    )


def _month(receipt: date, month_end: date) -> Step:
    shortened = month_end.day != receipt.day
    note = f" (that month has no day {receipt.day}, so its last day counts)" if shortened else ""
    return Step(
        "month",
        f"One calendar month later (Regulation 1182/71 Art. 3, never 30 days): "
        f"{_day(month_end)}{note}.",
    )


def _rolled(day: date, what: str) -> list[Step]:
    """Each non-working day the deadline moved over, and where it landed."""
    moved = []
    while not is_working_day(day):
        moved.append(f"{_day(day)} is {_why_closed(day)}")
        day += timedelta(days=1)
    if not moved:
        return [Step("working day", f"{_day(day)} is a working day: the {what} stays there.")]
    return [
        Step(
            "working day",
            "; ".join(moved) + f": the {what} moves to the next working day, {_day(day)}.",
        )
    ]


def _pause(case: Case, now: datetime) -> list[Step]:
    if case.id_requested_at is None:
        return []
    asked = receipt_date(case.id_requested_at)
    reason = f" (doubt: {case.doubt_reason})" if case.doubt_reason else ""
    steps = [Step("identity", f"An ID copy was asked for on {_day(asked)}{reason}.")]
    unpaused = deadlines_for(case.receipt_date).legal_due
    if case.clock_paused:
        until = case.id_received_at or now
        if_now = due_after_pause(case, until)
        came = "came" if case.id_received_at else "has not come yet"
        steps.append(
            Step(
                "pause",
                f"The clock stands still while the copy is awaited (LEGAL.md §1.7: a recorded "
                f"doubt, asked within a working day of receipt); the copy {came}. Each day "
                f"waited moves the deadline by a day: counted to {_day(receipt_date(until))} "
                f"it is {_day(if_now)}.",
            )
        )
    elif case.legal_due != unpaused and case.id_received_at is not None:
        waited = (receipt_date(case.id_received_at) - asked).days
        steps.append(
            Step(
                "pause",
                f"The clock stood still from {_day(asked)} until the copy came on "
                f"{_day(receipt_date(case.id_received_at))}: {waited} day(s) added to the "
                f"month, then moved to a working day: {_day(case.legal_due)}.",
            )
        )
    else:
        steps.append(
            Step(
                "pause",
                "The request for an ID did not stop the clock (no recorded doubt, or asked "
                "later than one working day after receipt: LEGAL.md §1.7).",
            )
        )
    return steps


def _extension(case: Case) -> list[Step]:
    if case.outcome == CaseOutcome.REFUSED:
        return [
            Step(
                "refusal",
                "A refusal is due within one month of receipt, never paused or extended "
                "(Art. 12(4), LEGAL.md §3.4).",
            )
        ]
    if case.extension_notified_on is not None:
        return [
            Step(
                "extension",
                f"Extended by two months (Art. 12(3)); the requester was told on "
                f"{_day(case.extension_notified_on)}, before the one-month deadline. Reason: "
                f"{case.extension_reason or '(none recorded)'}. New deadline: "
                f"{_day(case.extended_due)}.",
            )
        ]
    if case.status == CaseStatus.CLOSED:
        return []
    return [
        Step(
            "extension",
            f"Not extended. An extension needs a written reason and a notice to the requester "
            f"by {_day(case.legal_due)}; it would move the deadline to {_day(case.extended_due)}.",
        )
    ]


def _verdict(case: Case, due: date, days_left: int, late: bool) -> Step:
    if case.closed_at is not None:
        closed = receipt_date(case.closed_at)
        timely = "on time" if closed <= due else f"{(closed - due).days} day(s) late"
        return Step("result", f"Closed on {_day(closed)}, held to {_day(due)}: {timely}.")
    if late:
        return Step("result", f"Due {_day(due)} (end of day, Brussels): {-days_left} day(s) late.")
    return Step("result", f"Due {_day(due)} (end of day, Brussels): {days_left} day(s) left.")


def _why_closed(day: date) -> str:
    if day.weekday() == 5:
        return "a Saturday"
    if day.weekday() == 6:
        return "a Sunday"
    return f"a public holiday ({_holiday_name(day)})"


def _holiday_name(day: date) -> str:
    sunday = easter(day.year)
    names = {
        date(day.year, 1, 1): "New Year's Day",
        sunday + timedelta(days=1): "Easter Monday",
        date(day.year, 5, 1): "Labour Day",
        sunday + timedelta(days=39): "Ascension Day",
        sunday + timedelta(days=50): "Whit Monday",
        date(day.year, 7, 21): "National Day",
        date(day.year, 8, 15): "Assumption Day",
        date(day.year, 11, 1): "All Saints' Day",
        date(day.year, 11, 11): "Armistice Day",
        date(day.year, 12, 25): "Christmas Day",
    }
    return names.get(day, "Belgian public holiday")


def _day(day: date) -> str:
    return f"{day:%a} {day.isoformat()}"
