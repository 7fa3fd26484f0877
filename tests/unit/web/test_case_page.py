"""The case page (/cases/REF): only for the DPO; the timeline of mails in, replies out
and events in order; the deadline explainer naming each rule that set the date."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

from sqlmodel import select

from mailbot.accounts import account_key
from mailbot.cases.deadlines import deadlines_for, receipt_date
from mailbot.cases.models import Case, OutboundMessage
from mailbot.database import transaction
from mailbot.replies.outcomes import after_sent
from mailbot.store.models import KnownAccount
from mailbot.web.context import WebContext
from mailbot.worker import Worker
from tests.mailfactory import request_mail
from tests.unit.web.conftest import (
    case_named,
    csrf_of,
    delivered,
    drafts_of,
    editor_base,
    editor_text,
    insert_case,
    refused_to_others,
    replies_left,
    signed_in_as,
)

ANNA = "Anna Peeters <anna.peeters@example.org>"
ACCESS = "Hello, I want a copy of all my personal data (access request)."


def known(context: WebContext, address: str) -> None:
    """An address of a Jaimy account: its requests need no ID copy."""
    with transaction(context.engine) as session:
        session.add(KnownAccount(address=account_key(address)))


def dated_case(context: WebContext, number: int, received: datetime) -> Case:
    dates = deadlines_for(received.date())
    return insert_case(
        context,
        number,
        received_at=received,
        legal_due=dates.legal_due,
        target_due=dates.target_due,
        extended_due=dates.extended_due,
    )


def timeline_of(page: str) -> str:
    return page.split("<h2>Timeline</h2>", 1)[1]


def test_only_the_dpo_reads_a_case(context: WebContext, worker: Worker) -> None:
    case = delivered(worker, request_mail(sender=ANNA, subject="Access", body=ACCESS))
    page = signed_in_as(context, "dpo").get(f"/cases/{case.reference}")
    assert page.status_code == 200
    assert "Anna Peeters" in page.text and ACCESS in page.text
    # Compliance and admin never get a case's text, nor the requester's name.
    refused_to_others(context, "GET", f"/cases/{case.reference}", secret="Anna Peeters")
    refused_to_others(context, "GET", f"/cases/{case.reference}", secret=ACCESS)


def test_an_unknown_case_is_404(context: WebContext) -> None:
    answer = signed_in_as(context, "dpo").get("/cases/JAIMY-PRIV-2026-9999")
    assert answer.status_code == 404 and "no case JAIMY-PRIV-2026-9999" in answer.text


def test_the_timeline_shows_mails_in_and_replies_out_in_order(
    context: WebContext, worker: Worker
) -> None:
    known(context, "anna.peeters@example.org")
    case = delivered(
        worker,
        request_mail(
            sender=ANNA,
            subject="Access",
            body=ACCESS,
            attachments=[("notes.txt", "text/plain", b"my notes")],
        ),
    )
    time.sleep(1.1)  # the audit trail counts in seconds: the follow-up comes a second later
    follow_up = request_mail(
        sender=ANNA,
        subject=f"More [{case.reference}]",
        body="I also attach my contract number.",
        attachments=[("contract.txt", "text/plain", b"contract 42")],
    )
    assert delivered(worker, follow_up).id == case.id  # joined the case
    acknowledgement, answer = drafts_of(context, case.id)
    assert (acknowledgement.kind, answer.kind) == ("acknowledgement", "access_answer")

    timeline = timeline_of(signed_in_as(context, "dpo").get(f"/cases/{case.reference}").text)
    positions = [
        timeline.index(ACCESS),
        timeline.index("Attachments: notes.txt (text/plain"),
        timeline.index(acknowledgement.subject),
        timeline.index("I also attach my contract number."),
        timeline.index("Attachments: contract.txt (text/plain"),
    ]
    assert positions == sorted(positions)
    # A mail comes before the events it caused, a reply after the event that queued it.
    assert timeline.index(ACCESS) < timeline.index("case opened")
    assert timeline.index("<div>reply queued") < timeline.index(acknowledgement.subject)
    assert timeline.index("follow up read") > positions[2]
    assert "mail in" in timeline and "reply queued" in timeline
    assert "reply awaiting approval" in timeline and f'href="/drafts/{answer.id}"' in timeline


def test_the_explainer_names_a_weekend_roll(context: WebContext) -> None:
    # 28 February 2026 + one month = Saturday 28 March: the deadline moves to Monday.
    case = dated_case(context, 1, datetime(2026, 2, 28, 10, tzinfo=UTC))
    assert case.legal_due == date(2026, 3, 30)
    page = signed_in_as(context, "dpo").get(f"/cases/{case.reference}").text
    assert "Deadline: 2026-03-30" in page
    assert "receipt date is Sat 2026-02-28" in page
    assert "Sat 2026-03-28 is a Saturday; Sun 2026-03-29 is a Sunday" in page
    assert "moves to the next working day, Mon 2026-03-30" in page


def test_the_explainer_names_a_belgian_holiday(context: WebContext) -> None:
    # 1 April 2026 + one month = Friday 1 May, Labour Day, then a weekend: Monday 4 May.
    case = dated_case(context, 2, datetime(2026, 4, 1, 8, tzinfo=UTC))
    page = signed_in_as(context, "dpo").get(f"/cases/{case.reference}").text
    assert "Fri 2026-05-01 is a public holiday (Labour Day)" in page
    assert "Sat 2026-05-02 is a Saturday; Sun 2026-05-03 is a Sunday" in page
    assert "Deadline: 2026-05-04" in page


def test_the_explainer_names_the_pause_for_an_id_copy(context: WebContext, worker: Worker) -> None:
    case = delivered(worker, request_mail(sender=ANNA))  # an unknown address: ID asked
    assert not case.clock_paused  # only drafted: the clock pauses once the request left
    replies_left(context)
    case = case_named(context, case.reference)
    assert case.clock_paused
    page = signed_in_as(context, "dpo").get(f"/cases/{case.reference}").text
    asked = f"{case.receipt_date:%a} {case.receipt_date.isoformat()}"
    assert f"An ID copy was asked for on {asked} (doubt: unknown_address)" in page
    assert "The clock stands still while the copy is awaited" in page
    assert "the copy has not come yet" in page
    assert '<span class="badge paused">paused</span>' in page


def test_the_explainer_names_the_extension_its_reason_and_the_notice_date(
    context: WebContext, worker: Worker
) -> None:
    known(context, "anna.peeters@example.org")
    case = delivered(worker, request_mail(sender=ANNA, subject="Access", body=ACCESS))
    dpo = signed_in_as(context, "dpo")
    page = dpo.get(f"/cases/{case.reference}").text
    assert "Not extended" in page
    moved = dpo.post(
        f"/cases/{case.reference}/extend",
        data={"csrf": csrf_of(page), "reason": "Your data sit in six systems"},
        follow_redirects=False,
    )
    editor = dpo.get(moved.headers["location"]).text
    approved = dpo.post(
        moved.headers["location"] + "/save",
        data={
            "csrf": csrf_of(editor),
            "base": editor_base(editor),
            "body": editor_text(editor),
            "intent": "approve",
        },
        follow_redirects=False,
    )
    assert approved.status_code == 303
    # The outbox sends the notice: only then is the case extended (LEGAL.md §1.5).
    sent_at = datetime.now(UTC)
    with transaction(context.engine) as session:
        notice = session.exec(
            select(OutboundMessage).where(OutboundMessage.kind == "extension_notice")
        ).one()
        after_sent(session, session.get_one(Case, case.id), notice, sent_at)
    extended = case_named(context, case.reference)
    assert extended.extension_notified_on is not None

    page = dpo.get(f"/cases/{case.reference}").text
    told = extended.extension_notified_on
    assert f"the requester was told on {told:%a} {told.isoformat()}" in page
    assert "Reason: Your data sit in six systems" in page
    assert f"New deadline: {extended.extended_due:%a} {extended.extended_due.isoformat()}" in page
    assert f"Deadline: {extended.extended_due.isoformat()}" in page


def test_a_late_case_says_how_late(context: WebContext) -> None:
    case = dated_case(context, 3, datetime.now(UTC) - timedelta(days=60))
    page = signed_in_as(context, "dpo").get(f"/cases/{case.reference}").text
    late = (receipt_date(datetime.now(UTC)) - case.legal_due).days  # Brussels' today
    assert f'<span class="badge red">{late} d late</span>' in page
    assert f"{late} day(s) late" in page


FORGED = "mx.jaimy.be; spf=fail smtp.mailfrom=example.org; dkim=fail; dmarc=fail"


def test_failed_sender_authentication_is_a_doubt_shown_on_case_and_draft(
    context: WebContext, worker: Worker
) -> None:
    known(context, "anna.peeters@example.org")
    forged = request_mail(
        sender=ANNA,
        subject="Access",
        body=ACCESS,
        extra_headers={"Authentication-Results": FORGED},
    )
    case = delivered(worker, forged)
    assert case.doubt_reason == "sender_not_authenticated"
    # A known account, and still an ID is asked (id_requested_at is set when it leaves).
    assert case.status == "awaiting_identity"
    dpo = signed_in_as(context, "dpo")
    page = dpo.get(f"/cases/{case.reference}").text
    assert "Sender authentication failed" in page and "dmarc" in page
    (ack,) = drafts_of(context, case.id)
    assert "Sender authentication failed" in dpo.get(f"/drafts/{ack.id}").text


def test_a_passing_sender_authentication_shows_no_warning(
    context: WebContext, worker: Worker
) -> None:
    known(context, "anna.peeters@example.org")
    passing = "mx.jaimy.be; spf=pass; dkim=pass; dmarc=pass"
    mail = request_mail(
        sender=ANNA,
        subject="Access",
        body=ACCESS,
        extra_headers={"Authentication-Results": passing},
    )
    case = delivered(worker, mail)
    assert case.doubt_reason is None and case.id_requested_at is None
    page = signed_in_as(context, "dpo").get(f"/cases/{case.reference}").text
    assert "Sender authentication failed" not in page
