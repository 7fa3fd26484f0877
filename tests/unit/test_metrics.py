"""The SLA figures of LEGAL.md §6, from case facts built by hand (each figure checked
against the cases that make it), and `mailbot report` on a real worker's database."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mailbot.cases.models import Case, CaseOutcome, CaseStatus, OutboundMessage
from mailbot.cli import app
from mailbot.metrics import CaseFacts, StoredCopies, sla_figures
from tests.idcards.render import render_sample
from tests.maildir_worker import deliver, maildir_worker, send_queued
from tests.mailfactory import request_mail

RECEIVED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday; due 2 April, target 30 March


def _case(number: int, **facts: object) -> Case:
    values: dict[str, object] = {
        "reference": f"JAIMY-PRIV-2026-{number:04d}",
        "requester": f"requester{number}@example.org",
        "language": "en",
        "detected_language": "en",
        "primary": "access",
        "labels": "access",
        "confidence": 0.9,
        "status": CaseStatus.IN_PROGRESS,
        "received_at": RECEIVED,
        "receipt_date": date(2026, 3, 2),
        "legal_due": date(2026, 4, 2),
        "target_due": date(2026, 3, 30),
        "extended_due": date(2026, 6, 2),
        "rule_version": "test",
    }
    values.update(facts)
    return Case(id=number, **values)  # type: ignore[arg-type]


def _closed(number: int, day: date, **facts: object) -> Case:
    at = datetime(day.year, day.month, day.day, 15, 0, tzinfo=UTC)
    facts.setdefault("outcome", CaseOutcome.ANSWERED)
    return _case(number, status=CaseStatus.CLOSED, closed_at=at, **facts)


def _reply(case: Case, kind: str, hours: float, body: str = "Dear requester") -> OutboundMessage:
    return OutboundMessage(
        case_id=case.id or 0,
        kind=kind,
        template=kind,
        language="en",
        status="sent",
        to_address=case.requester,
        subject="Re",
        body=body,
        message_id=f"<{case.id}-{kind}@example.test>",
        sent_at=case.received_at + timedelta(hours=hours),
    )


def _facts(
    case: Case,
    *replies: OutboundMessage,
    suppressed: float | None = None,
    follow_up: float | None = None,
    late_notice: bool = False,
) -> CaseFacts:
    mails = [case.received_at]
    if follow_up is not None:
        mails.append(case.received_at + timedelta(hours=follow_up))
    at = None if suppressed is None else case.received_at + timedelta(hours=suppressed)
    return CaseFacts(case, tuple(replies), tuple(mails), at, late_notice)


NO_COPIES = StoredCopies(after_check=0, awaiting_removal_from_mailbox=0)
REMEDIES = (
    "We cannot grant your request. You may lodge a complaint with the GBA/APD, "
    "Rue de la Presse 35, 1000 Brussels, or bring the matter before a court."
)


def _figures(facts: list[CaseFacts], now: datetime | None = None) -> dict[str, Any]:
    moment = now or datetime(2026, 4, 20, tzinfo=UTC)
    return sla_figures(facts, NO_COPIES, moment, None, None).as_json()


def test_each_figure_counts_the_cases_it_should() -> None:
    on_time = _closed(1, date(2026, 3, 20))
    late_for_target = _closed(2, date(2026, 4, 1), id_requested_at=RECEIVED)
    late = _closed(3, date(2026, 4, 3), id_requested_at=RECEIVED)
    extended = _closed(
        4,
        date(2026, 5, 20),
        extension_notified_on=date(2026, 3, 25),
        extension_reason="three accounts, two languages",
    )
    notice_too_late = _case(5)
    overdue = _case(6)
    objection = _closed(7, date(2026, 3, 2), primary="objection", labels="objection")
    redirected = _closed(8, date(2026, 3, 3), outcome=CaseOutcome.NOT_A_REQUEST)
    facts = [
        _facts(on_time, _reply(on_time, "acknowledgement", 0.5)),
        _facts(late_for_target, _reply(late_for_target, "acknowledgement", 2.5)),
        _facts(late, _reply(late, "acknowledgement", 1), _reply(late, "refusal", 700, REMEDIES)),
        _facts(extended, _reply(extended, "acknowledgement", 4)),
        _facts(notice_too_late, late_notice=True),
        _facts(overdue, _reply(overdue, "dpo_warning", 600)),
        _facts(objection, _reply(objection, "objection_done", 1), suppressed=0.25),
        _facts(redirected, _reply(redirected, "redirect", 1)),
    ]
    figures = _figures(facts)

    assert figures["cases"] == 7 and figures["closed"] == 5  # the redirect is no request
    assert figures["closed_by_legal_deadline"] == {"count": 4, "of": 5, "percent": 80.0}
    # Cases 1 and 7 only: case 4 met its extended deadline, not the target.
    assert figures["closed_by_target"]["count"] == 2
    assert figures["extended"]["count"] == 1
    assert figures["extension_reasons"] == ["three accounts, two languages"]
    # Case 5's notice went out after the deadline: it extended nothing and counts against.
    assert figures["extensions_notified_in_first_month"] == {"count": 1, "of": 2, "percent": 50.0}
    assert figures["id_requested"]["count"] == 2
    assert figures["refusals_with_remedies"] == {"count": 1, "of": 1, "percent": 100.0}
    # The DPO's warning to case 6 is no acknowledgement: 6 is listed as not acknowledged.
    assert figures["time_to_acknowledge"] == {"cases": 5, "median_hours": 1.0, "max_hours": 4.0}
    assert figures["not_acknowledged"] == ["JAIMY-PRIV-2026-0005", "JAIMY-PRIV-2026-0006"]
    assert figures["time_to_suppress"] == {"cases": 1, "median_hours": 0.25, "max_hours": 0.25}
    assert figures["open_overdue"] == ["JAIMY-PRIV-2026-0005", "JAIMY-PRIV-2026-0006"]


def test_a_refusal_is_held_to_the_first_month_even_when_paused_or_extended() -> None:
    refused = _closed(
        1,
        date(2026, 5, 4),
        outcome=CaseOutcome.REFUSED,
        extension_notified_on=date(2026, 3, 23),
    )
    figures = _figures([_facts(refused, _reply(refused, "refusal", 1500, "No. Goodbye."))])
    assert figures["closed_by_legal_deadline"]["count"] == 0
    # and a refusal without the complaint and court paragraph is counted as such
    assert figures["refusals_with_remedies"] == {"count": 0, "of": 1, "percent": 0.0}


def test_a_clock_stopped_for_an_id_copy_is_not_overdue_while_it_waits() -> None:
    waiting = _case(1, clock_paused=True, id_requested_at=RECEIVED + timedelta(hours=1))
    # 40 days after receipt: past the unpaused month, but the clock has stood still.
    figures = _figures([_facts(waiting)], now=RECEIVED + timedelta(days=40))
    assert figures["open_overdue"] == []
    closed_unidentified = _closed(
        2,
        date(2026, 4, 10),
        outcome=CaseOutcome.NOT_IDENTIFIED,
        clock_paused=True,
        id_requested_at=RECEIVED + timedelta(hours=1),
    )
    assert _figures([_facts(closed_unidentified)])["closed_by_legal_deadline"]["count"] == 1


def test_a_copy_waiting_for_the_dpos_eye_stops_the_clock_until_it_came() -> None:
    # The card came on day 30 and waits for `cases verify`: the clock stood still from
    # the request to day 30, so on day 33 the case is not overdue.
    waiting = _case(
        1,
        clock_paused=True,
        id_requested_at=RECEIVED + timedelta(hours=1),
        id_received_at=RECEIVED + timedelta(days=30),
    )
    assert _figures([_facts(waiting)], now=RECEIVED + timedelta(days=33))["open_overdue"] == []


def test_a_not_identified_letter_counts_as_a_refusal_and_purged_reasons_are_not_shown() -> None:
    unidentified = _closed(1, date(2026, 3, 20), outcome=CaseOutcome.NOT_IDENTIFIED)
    purged = _closed(
        2,
        date(2026, 3, 20),
        extension_notified_on=date(2026, 3, 10),
        extension_reason="purged",
        purged_at=datetime(2027, 3, 20, tzinfo=UTC),
    )
    figures = _figures(
        [
            _facts(unidentified, _reply(unidentified, "not_identified", 400, REMEDIES)),
            _facts(purged),
        ]
    )
    assert figures["refusals_with_remedies"] == {"count": 1, "of": 1, "percent": 100.0}
    assert figures["extension_reasons"] == []


def test_an_objection_in_a_follow_up_is_timed_from_the_follow_up() -> None:
    case = _case(1)
    # The access request came on day 0; the objection 20 days later, suppressed in 6 min.
    facts = _facts(case, suppressed=480.1, follow_up=480.0)
    assert _figures([facts])["time_to_suppress"]["max_hours"] == 0.1


def test_no_cases_gives_no_percentages_rather_than_a_division_by_zero() -> None:
    figures = _figures([])
    assert figures["closed_by_legal_deadline"] == {"count": 0, "of": 0, "percent": None}
    assert figures["time_to_acknowledge"] == {"cases": 0, "median_hours": None, "max_hours": None}


# Runs the worker's stages on a Maildir, so integration; the file stays with its unit tests.
@pytest.mark.integration
def test_report_command_on_a_real_database(tmp_path: Path) -> None:
    worker = maildir_worker(tmp_path)
    deliver(worker, request_mail(sender="Anna Peeters <anna.peeters@example.org>", language="nl"))
    deliver(
        worker,
        request_mail(
            sender="Piet Claes <piet.claes@example.org>",
            language="nl",
            subject="Geen reclame meer",
            body="Stuur mij geen nieuwsbrieven of reclame meer.",
        ),
    )
    send_queued(worker.engine)  # an ID request counts once it has left
    env = {"MAILBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    done = CliRunner().invoke(app, ["report", "--json"], env=env)
    assert done.exit_code == 0, done.output
    figures = json.loads(done.output)
    assert figures["cases"] == 2
    assert figures["id_requested"]["count"] == 1  # Anna, an unknown address, asks access
    assert figures["time_to_suppress"]["cases"] == 1  # Piet's objection, at once
    human = CliRunner().invoke(app, ["report", "--from", "2000-01-01"], env=env)
    assert human.exit_code == 0 and "closed by the legal deadline" in human.output
    bad = CliRunner().invoke(app, ["report", "--from", "yesterday"], env=env)
    assert bad.exit_code == 2 and "not a date" in bad.output
    nothing = CliRunner().invoke(app, ["report", "--from", "2999-01-01", "--json"], env=env)
    assert json.loads(nothing.output)["cases"] == 0


# Runs the worker's stages on a Maildir, so integration; the file stays with its unit tests.
@pytest.mark.integration
def test_the_report_sees_an_id_copy_until_the_mailbox_original_is_gone(tmp_path: Path) -> None:
    worker = maildir_worker(tmp_path)
    card = render_sample(3, "eid_front", "clean", "png", holder=("Peeters", "Anna"))
    deliver(
        worker,
        request_mail(
            sender="Anna Peeters <anna.peeters@example.org>",
            language="nl",
            body="Graag een kopie van mijn gegevens; mijn identiteitskaart zit erbij.",
            attachments=[("kaart.png", "image/png", card.data)],
        ),
    )
    env = {"MAILBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}

    def stored() -> tuple[int, int]:
        figures = json.loads(CliRunner().invoke(app, ["report", "--json"], env=env).output)
        return (
            figures["id_copies_kept_after_check"],
            figures["id_copies_awaiting_removal_from_mailbox"],
        )

    # Checked and cut out of the stored mail at once; the Maildir file goes next round.
    assert stored() == (0, 1)
    worker.remove_from_source()
    assert stored() == (0, 0)
