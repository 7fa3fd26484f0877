"""The DPO's decisions from the case page: triage, the identity check on the ID copy,
extension and refusal drafts, marketing stopped. Each is refused to other roles, to a
form without this session's CSRF token, and lands in the audit trail under the
signed-in person's name."""

from __future__ import annotations

import re
import shutil
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from mailbot.cases.deadlines import receipt_date
from mailbot.cases.models import Case, CaseStatus, Suppression
from mailbot.schedule import run_scheduled_work
from mailbot.web.context import WebContext
from mailbot.worker import Worker
from tests.idcards.render import render_sample
from tests.mailfactory import PNG_1PX, request_mail
from tests.unit.web.conftest import (
    PEOPLE,
    case_named,
    csrf_of,
    delivered,
    drafts_of,
    events_of,
    insert_case,
    refused_to_others,
    replies_left,
    signed_in_as,
    token_of,
)

DANA = PEOPLE["dpo"]
ANNA = "Anna Peeters <anna.peeters@example.org>"
VAGUE = "Hallo, ik heb een vraag over mijn account bij jullie."
CARD = [("scan.png", "image/png", PNG_1PX)]

ACTIONS = {
    "decide": {"primary": "access"},
    "verify": {"verdict": "yes"},
    "extend": {"reason": "Data in six systems"},
    "refuse": {"reasons": "Manifestly excessive", "scope": "whole"},
    "suppress": {"right": "objection"},
}


def page_of(client: TestClient, case: Case) -> str:
    page = client.get(f"/cases/{case.reference}")
    assert page.status_code == 200
    return page.text


def post(client: TestClient, case: Case, action: str, csrf: str, **data: str) -> str:
    """The action's answer: where the browser goes next (post, redirect, get)."""
    answer = client.post(
        f"/cases/{case.reference}/{action}", data={"csrf": csrf, **data}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    return str(answer.headers["location"])


def by_dana(context: WebContext, case: Case) -> list[str]:
    return [e.kind for e in events_of(context, case.id) if e.actor == DANA]


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_every_decision_is_only_the_dpos_and_needs_the_sessions_token(
    context: WebContext, worker: Worker, action: str
) -> None:
    case = delivered(worker, request_mail(sender=ANNA, language="nl", subject="Vraag", body=VAGUE))
    url = f"/cases/{case.reference}/{action}"
    refused_to_others(context, "POST", url, ACTIONS[action])

    dpo = signed_in_as(context, "dpo")
    assert dpo.post(url, data=ACTIONS[action], follow_redirects=False).status_code == 403
    other = signed_in_as(context, "dpo")  # the same person, another session
    stolen = {**ACTIONS[action], "csrf": token_of(other, context)}
    refused = dpo.post(url, data=stolen, follow_redirects=False)
    assert refused.status_code == 403 and "security token" in refused.text
    # Nothing happened: no event, no draft beyond the bot's acknowledgement.
    assert by_dana(context, case) == []
    assert [d.kind for d in drafts_of(context, case.id)] == ["acknowledgement"]
    assert case_named(context, case.reference).status == case.status


def test_deciding_a_triaged_case_sets_its_rights_and_the_bot_goes_on(
    context: WebContext, worker: Worker
) -> None:
    case = delivered(worker, request_mail(sender=ANNA, language="nl", subject="Vraag", body=VAGUE))
    assert case.needs_triage
    dpo = signed_in_as(context, "dpo")
    page = page_of(dpo, case)
    assert '<span class="badge amber">needs triage</span>' in page
    assert "Set the rights and go on" in page

    back = post(dpo, case, "decide", csrf_of(page), primary="access", rights="erasure")
    assert back == f"/cases/{case.reference}"
    decided = case_named(context, case.reference)
    assert not decided.needs_triage
    assert (decided.primary, decided.labels) == ("access", "access erasure")
    assert decided.status == CaseStatus.AWAITING_IDENTITY  # an unknown sender: ID asked
    assert [d.kind for d in drafts_of(context, case.id)] == ["acknowledgement", "id_request"]
    (decision,) = events_of(context, case.id, "reading_decided")
    assert decision.actor == DANA
    page = page_of(dpo, case)
    assert "access, erasure; now awaiting_identity" in page  # the notice
    assert '<span class="badge amber">needs triage</span>' not in page


def test_a_decision_on_a_case_the_bot_moves_on_meanwhile_is_refused_and_can_be_repeated(
    context: WebContext, worker: Worker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The DPO settles a triaged case while its acknowledgement goes out (the worker
    moves the case from new to in progress between the decision's reading the case and
    its writing). Written from what it read, the decision would put the case back to
    the state it had before the acknowledgement; it is refused with nothing written,
    says why, and the DPO repeats it on the case as it now is."""
    from mailbot.actions import cases as case_actions

    case = delivered(worker, request_mail(sender=ANNA, language="nl", subject="Vraag", body=VAGUE))
    assert case.status == CaseStatus.NEW and case.needs_triage
    dpo = signed_in_as(context, "dpo")
    page = page_of(dpo, case)
    real = case_actions.find_case

    def found_as_the_acknowledgement_goes_out(session: Session, reference: str) -> Case:
        found = real(session, reference)
        monkeypatch.setattr(case_actions, "find_case", real)
        replies_left(context)  # the worker's own transaction
        return found

    monkeypatch.setattr(case_actions, "find_case", found_as_the_acknowledgement_goes_out)
    assert post(dpo, case, "decide", csrf_of(page), primary="access") == f"/cases/{case.reference}"
    page = page_of(dpo, case)
    assert "Refused: the case changed while you acted" in page
    moved = case_named(context, case.reference)
    assert (moved.status, moved.needs_triage) == (CaseStatus.IN_PROGRESS, True)
    assert by_dana(context, case) == []
    assert [d.kind for d in drafts_of(context, case.id)] == ["acknowledgement"]

    post(dpo, case, "decide", csrf_of(page), primary="access")
    decided = case_named(context, case.reference)
    assert not decided.needs_triage and decided.primary == "access"
    assert by_dana(context, case) == ["reading_decided"]


def test_deciding_without_a_known_right_is_refused(context: WebContext, worker: Worker) -> None:
    case = delivered(worker, request_mail(sender=ANNA, language="nl", subject="Vraag", body=VAGUE))
    dpo = signed_in_as(context, "dpo")
    post(dpo, case, "decide", csrf_of(page_of(dpo, case)), primary="forget-me")
    assert "Refused: choose the request" in page_of(dpo, case)
    assert case_named(context, case.reference).needs_triage


def _copy_url(page: str) -> str:
    found = re.search(r'src="(/cases/[^"]+/id-copies/\d+)"', page)
    assert found is not None, "the page shows no ID copy"
    return found.group(1)


def _check_the_copy(context: WebContext, case: Case) -> None:
    """The DPO sees the copy while the check is pending; compliance never; after the
    verdict the copy is gone."""
    dpo = signed_in_as(context, "dpo")
    page = page_of(dpo, case)
    url = _copy_url(page)
    image = dpo.get(url)
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"
    assert "no-store" in image.headers["cache-control"]
    assert image.content.startswith(b"\x89PNG\r\n\x1a\n")
    refused_to_others(context, "GET", url)

    post(dpo, case, "verify", csrf_of(page), verdict="yes")
    checked = case_named(context, case.reference)
    assert checked.identity_verified is True and checked.identity_checked_by == DANA
    assert checked.status != CaseStatus.AWAITING_IDENTITY
    assert [e.actor for e in events_of(context, case.id, "identity_checked")] == [DANA]
    assert dpo.get(url).status_code == 404
    assert "id-copies" not in page_of(dpo, case)


def test_the_id_copy_sent_after_the_id_request(context: WebContext, worker: Worker) -> None:
    case = delivered(worker, request_mail(sender=ANNA))
    # Asked once the acknowledgement carrying the request has left, not when drafted.
    assert case.status == CaseStatus.AWAITING_IDENTITY and case.id_requested_at is None
    replies_left(context)
    assert case_named(context, case.reference).id_requested_at is not None
    follow_up = request_mail(
        sender=ANNA, subject=f"ID [{case.reference}]", body="Here it is.", attachments=CARD
    )
    assert delivered(worker, follow_up).id == case.id
    _check_the_copy(context, case)


def test_the_id_copy_sent_with_the_request(context: WebContext, worker: Worker) -> None:
    # The copy came with the request: nothing was asked for, yet it awaits the DPO's eye.
    case = delivered(worker, request_mail(sender=ANNA, attachments=CARD))
    assert case.status == CaseStatus.AWAITING_IDENTITY and case.id_requested_at is None
    page = page_of(signed_in_as(context, "dpo"), case)
    assert "ID copy sent with the request (unknown_address), not yet checked" in page
    _check_the_copy(context, case)


def test_an_extension_is_drafted_with_its_reason(context: WebContext, worker: Worker) -> None:
    case = delivered(worker, request_mail(sender=ANNA))
    dpo = signed_in_as(context, "dpo")
    target = post(dpo, case, "extend", csrf_of(page_of(dpo, case)), reason="Six systems")
    draft = drafts_of(context, case.id)[-1]
    assert target == f"/drafts/{draft.id}" and draft.kind == "extension_notice"
    assert draft.status == "awaiting_approval" and "Six systems" in draft.body
    assert case_named(context, case.reference).extension_reason == "Six systems"
    assert dpo.get(target).status_code == 200


@pytest.mark.parametrize(
    ("action", "data"), [("extend", ACTIONS["extend"]), ("refuse", ACTIONS["refuse"])]
)
def test_a_drafted_extension_or_refusal_names_the_dpo_in_the_audit_trail(
    context: WebContext, worker: Worker, action: str, data: dict[str, str]
) -> None:
    case = delivered(worker, request_mail(sender=ANNA))
    dpo = signed_in_as(context, "dpo")
    post(dpo, case, action, csrf_of(page_of(dpo, case)), **data)
    assert by_dana(context, case) != []


def test_a_refusal_is_drafted_and_an_empty_reason_refused(
    context: WebContext, worker: Worker
) -> None:
    case = delivered(worker, request_mail(sender=ANNA))
    dpo = signed_in_as(context, "dpo")
    csrf = csrf_of(page_of(dpo, case))
    back = post(dpo, case, "refuse", csrf, reasons="   ", scope="whole")
    assert back == f"/cases/{case.reference}"
    assert "Refused: a refusal must give its reasons" in page_of(dpo, case)
    assert [d.kind for d in drafts_of(context, case.id)] == ["acknowledgement"]

    target = post(dpo, case, "refuse", csrf, reasons="Manifestly excessive", scope="partial")
    draft = drafts_of(context, case.id)[-1]
    assert target == f"/drafts/{draft.id}" and draft.kind == "refusal"
    assert "Manifestly excessive" in draft.body
    editor = dpo.get(target)
    assert editor.status_code == 200 and "Draft" in editor.text


def test_an_extension_without_a_reason_is_refused(context: WebContext, worker: Worker) -> None:
    case = delivered(worker, request_mail(sender=ANNA))
    dpo = signed_in_as(context, "dpo")
    post(dpo, case, "extend", csrf_of(page_of(dpo, case)), reason=" ")
    assert "Refused: an extension needs a written reason" in page_of(dpo, case)
    assert [d.kind for d in drafts_of(context, case.id)] == ["acknowledgement"]


def test_marketing_is_stopped_under_the_dpos_name(context: WebContext, worker: Worker) -> None:
    case = delivered(worker, request_mail(sender=ANNA))
    dpo = signed_in_as(context, "dpo")
    post(dpo, case, "suppress", csrf_of(page_of(dpo, case)), right="objection")
    with Session(context.engine) as session:
        (row,) = session.exec(select(Suppression)).all()
    assert (row.address, row.reason, row.case_id) == (
        "anna.peeters@example.org",
        "objection",
        case.id,
    )
    assert DANA in {e.actor for e in events_of(context, case.id)}
    listing = dpo.get("/suppression").text
    assert "anna.peeters@example.org" in listing and case.reference in listing
    refused_to_others(context, "GET", "/suppression", secret="anna.peeters")


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="needs tesseract")
def test_a_triaged_case_says_its_card_waits_for_the_reading(
    context: WebContext, worker: Worker
) -> None:
    card = render_sample(6, "eid_front", "clean", "jpeg", holder=("Claes", "Pieter")).data
    mail = request_mail(
        sender=ANNA,
        language="nl",
        subject="Vraag",
        body=VAGUE,
        attachments=[("kaart.jpg", "image/jpeg", card)],
    )
    case = delivered(worker, mail)
    assert case.needs_triage
    page = page_of(signed_in_as(context, "dpo"), case)
    assert "decided with the reading: the ID copy sent is kept until then" in page
    assert "no check needed" not in page
    assert f"/cases/{case.reference}/verify" not in page  # the reading comes first


def test_a_closure_rejected_to_wait_longer_says_when_it_comes_back(
    context: WebContext, worker: Worker
) -> None:
    """The DPO rejects the "not identified" closure ("she will send it"): the case page
    tells them when the clock drafts it again if the card still has not come."""
    case = delivered(worker, request_mail(sender=ANNA))
    replies_left(context)  # the ID request left: the wait starts
    asked = case_named(context, case.reference).id_requested_at
    assert asked is not None
    run_scheduled_work(worker.engine, worker.bot, asked + timedelta(days=22))
    (closure,) = [d for d in drafts_of(context, case.id) if d.kind == "not_identified"]
    rejected = asked + timedelta(days=23)
    context.clock = lambda: rejected
    dpo = signed_in_as(context, "dpo")
    csrf = csrf_of(dpo.get(f"/drafts/{closure.id}").text)
    answer = dpo.post(
        f"/drafts/{closure.id}/reject",
        data={"csrf": csrf, "why": "She phoned: the card is coming"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    wait = timedelta(days=context.settings.id_close_days)
    again = receipt_date(rejected + wait)
    assert f"closure is drafted again on {again.isoformat()}" in page_of(dpo, case)
    assert [e.actor for e in events_of(context, case.id, "id_wait_renewed")] == [DANA]
    # The clock keeps the promise: not a minute before, and then the date is gone.
    run_scheduled_work(worker.engine, worker.bot, rejected + wait - timedelta(minutes=1))
    assert len([d for d in drafts_of(context, case.id) if d.kind == "not_identified"]) == 1
    run_scheduled_work(worker.engine, worker.bot, rejected + wait)
    assert len([d for d in drafts_of(context, case.id) if d.kind == "not_identified"]) == 2
    assert "closure is drafted again" not in page_of(dpo, case)


def test_a_flagged_case_with_letters_waiting_says_what_to_do_first(
    context: WebContext, worker: Worker
) -> None:
    case = insert_case(context, 1, needs_triage=True, status=CaseStatus.AWAITING_APPROVAL)
    dpo = signed_in_as(context, "dpo")
    assert "let the approved ones leave" in page_of(dpo, case)
    post(dpo, case, "decide", token_of(dpo, context), primary="access")
    assert "letters wait for approval or to be sent" in page_of(dpo, case)  # the refusal
    assert case_named(context, case.reference).needs_triage
    calm = insert_case(context, 2, needs_triage=True, status=CaseStatus.IN_PROGRESS)
    assert "let the approved ones leave" not in page_of(dpo, calm)
