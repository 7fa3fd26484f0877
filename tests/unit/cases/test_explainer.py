"""The deadline explainer: each rule that set a case's date, in sentences that agree
with the date itself (mailbot.cases.explainer; pure, no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from mailbot.cases.explainer import explain_deadline
from mailbot.cases.models import Case, CaseOutcome, CaseStatus
from tests.casefactory import new_case


def case_of(received: datetime, **changes: object) -> Case:
    return new_case(received, **{"status": CaseStatus.IN_PROGRESS, **changes})


def texts(case: Case, now: datetime) -> dict[str, str]:
    return {step.rule: step.text for step in explain_deadline(case, now).steps}


def test_a_weekend_moves_the_deadline_to_monday() -> None:
    case = case_of(datetime(2026, 2, 28, 10, tzinfo=UTC))
    explained = explain_deadline(case, datetime(2026, 3, 2, 9, tzinfo=UTC))
    steps = {step.rule: step.text for step in explained.steps}
    assert explained.due == date(2026, 3, 30) == case.legal_due
    assert "Sat 2026-03-28 is a Saturday; Sun 2026-03-29 is a Sunday" in steps["working day"]
    assert steps["working day"].endswith("next working day, Mon 2026-03-30.")
    assert explained.days_left == 28 and not explained.late


def test_a_belgian_holiday_is_named() -> None:
    case = case_of(datetime(2026, 4, 1, 8, tzinfo=UTC))
    steps = texts(case, datetime(2026, 4, 2, 9, tzinfo=UTC))
    assert "Fri 2026-05-01 is a public holiday (Labour Day)" in steps["working day"]
    assert "Mon 2026-05-04" in steps["working day"]
    # Easter Monday 2026 is 6 April: a receipt on 6 March lands on it.
    steps = texts(case_of(datetime(2026, 3, 6, 8, tzinfo=UTC)), datetime(2026, 3, 7, tzinfo=UTC))
    assert "Mon 2026-04-06 is a public holiday (Easter Monday)" in steps["working day"]


def test_a_working_day_stays_and_a_short_month_is_said() -> None:
    steps = texts(case_of(datetime(2026, 3, 10, 8, tzinfo=UTC)), datetime(2026, 3, 11, tzinfo=UTC))
    assert "Fri 2026-04-10 is a working day" in steps["working day"]
    steps = texts(case_of(datetime(2026, 1, 31, 8, tzinfo=UTC)), datetime(2026, 2, 1, tzinfo=UTC))
    assert "that month has no day 31, so its last day counts" in steps["month"]


def test_late_evening_utc_is_the_next_day_in_brussels() -> None:
    case = case_of(datetime(2026, 1, 31, 23, 30, tzinfo=UTC), receipt_date=date(2026, 2, 1))
    steps = texts(case, datetime(2026, 2, 2, tzinfo=UTC))
    assert "Received 2026-02-01 00:30 Brussels time" in steps["receipt"]


def test_a_pause_for_the_id_copy_is_explained_while_waiting_and_after() -> None:
    received = datetime(2026, 3, 10, 8, tzinfo=UTC)
    waiting = case_of(
        received,
        id_requested_at=received,
        doubt_reason="unknown_address",
        clock_paused=True,
        status=CaseStatus.AWAITING_IDENTITY,
    )
    now = datetime(2026, 3, 20, 9, tzinfo=UTC)
    explained = explain_deadline(waiting, now)
    steps = {step.rule: step.text for step in explained.steps}
    assert "asked for on Tue 2026-03-10 (doubt: unknown_address)" in steps["identity"]
    assert "the copy has not come yet" in steps["pause"]
    assert "counted to Fri 2026-03-20" in steps["pause"]
    assert explained.due > waiting.legal_due  # ten days waited move the deadline

    came = case_of(
        received,
        id_requested_at=received,
        id_received_at=datetime(2026, 3, 17, 9, tzinfo=UTC),
        doubt_reason="unknown_address",
        legal_due=date(2026, 4, 17),
    )
    steps = texts(came, now)
    assert "from Tue 2026-03-10 until the copy came on Tue 2026-03-17: 7 day(s)" in steps["pause"]
    assert "Fri 2026-04-17" in steps["pause"]


def test_an_extension_gives_its_reason_and_the_notice_date() -> None:
    case = case_of(
        datetime(2026, 3, 10, 8, tzinfo=UTC),
        extension_reason="Data in six systems",
        extension_notified_on=date(2026, 3, 20),
    )
    explained = explain_deadline(case, datetime(2026, 4, 20, tzinfo=UTC))
    steps = {step.rule: step.text for step in explained.steps}
    assert "the requester was told on Fri 2026-03-20" in steps["extension"]
    assert "Reason: Data in six systems" in steps["extension"]
    assert explained.due == case.extended_due and not explained.late


def test_not_extended_says_by_when_it_could_be() -> None:
    case = case_of(datetime(2026, 3, 10, 8, tzinfo=UTC))
    steps = texts(case, datetime(2026, 3, 11, tzinfo=UTC))
    assert steps["extension"].startswith("Not extended.")
    assert "by Fri 2026-04-10" in steps["extension"]


def test_late_open_closed_and_refused_verdicts() -> None:
    case = case_of(datetime(2026, 3, 10, 8, tzinfo=UTC))
    explained = explain_deadline(case, datetime(2026, 4, 14, 9, tzinfo=UTC))
    assert explained.late and explained.days_left == -4
    assert "4 day(s) late" in explained.steps[-1].text

    closed = case_of(
        datetime(2026, 3, 10, 8, tzinfo=UTC),
        status=CaseStatus.CLOSED,
        closed_at=datetime(2026, 4, 1, 9, tzinfo=UTC),
    )
    verdict = explain_deadline(closed, datetime(2026, 5, 1, tzinfo=UTC)).steps[-1].text
    assert verdict == "Closed on Wed 2026-04-01, held to Fri 2026-04-10: on time."

    refused = case_of(
        datetime(2026, 3, 10, 8, tzinfo=UTC),
        outcome=CaseOutcome.REFUSED,
        extension_notified_on=date(2026, 3, 20),
    )
    explained = explain_deadline(refused, datetime(2026, 3, 21, tzinfo=UTC))
    assert explained.due == date(2026, 4, 10)  # a refusal is never extended
    assert any(step.rule == "refusal" for step in explained.steps)
