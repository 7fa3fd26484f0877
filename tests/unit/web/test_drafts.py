"""The draft editor (/drafts/N): only for the DPO; what blocks approval; the diff
against the bot's text; edit and approve under the DPO's name; two editors, the
second refused without losing their text; reject with a reason."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from mailbot.accounts import account_key
from mailbot.cases.models import OutboundMessage
from mailbot.database import transaction
from mailbot.store.models import KnownAccount
from mailbot.web.context import WebContext
from mailbot.worker import Worker
from tests.mailfactory import request_mail
from tests.unit.web.conftest import (
    PEOPLE,
    csrf_of,
    delivered,
    drafts_of,
    editor_base,
    editor_text,
    events_of,
    refused_to_others,
    signed_in_as,
    token_of,
)

DANA = PEOPLE["dpo"]
ANNA = "Anna Peeters <anna.peeters@example.org>"
FILL_IN = re.compile(r"\[\[.*?\]\]", re.S)


def answer_draft(context: WebContext, worker: Worker) -> OutboundMessage:
    """Anna, a known account, asks for access: the bot drafts the answer with fill-ins."""
    with transaction(context.engine) as session:
        session.add(KnownAccount(address=account_key("anna.peeters@example.org")))
    case = delivered(
        worker, request_mail(sender=ANNA, subject="Access", body="I want a copy of my data.")
    )
    draft = drafts_of(context, case.id)[-1]
    assert draft.kind == "access_answer" and FILL_IN.search(draft.body)
    return draft


def save(
    client: TestClient, draft_id: int, page: str, body: str, intent: str = "save"
) -> tuple[int, str]:
    answer = client.post(
        f"/drafts/{draft_id}/save",
        data={"csrf": csrf_of(page), "base": editor_base(page), "body": body, "intent": intent},
        follow_redirects=False,
    )
    return answer.status_code, answer.headers.get("location", "") or answer.text


def stored(context: WebContext, draft_id: int | None) -> OutboundMessage:
    with Session(context.engine) as session:
        return session.get_one(OutboundMessage, draft_id)


def test_only_the_dpo_opens_or_changes_a_draft(context: WebContext, worker: Worker) -> None:
    draft = answer_draft(context, worker)
    url = f"/drafts/{draft.id}"
    assert signed_in_as(context, "dpo").get(url).status_code == 200
    refused_to_others(context, "GET", url, secret="Anna Peeters")
    refused_to_others(context, "POST", f"{url}/save", {"body": "x", "intent": "approve"})
    refused_to_others(context, "POST", f"{url}/reject", {"why": "no"})
    dpo = signed_in_as(context, "dpo")
    other = token_of(signed_in_as(context, "dpo"), context)
    for form in ({"body": "x"}, {"body": "x", "csrf": other}):
        assert dpo.post(f"{url}/save", data=form).status_code == 403
    for form in ({"why": "no"}, {"why": "no", "csrf": other}):
        assert dpo.post(f"{url}/reject", data=form).status_code == 403
    assert stored(context, draft.id).body == draft.body
    assert stored(context, draft.id).status == "awaiting_approval"
    assert signed_in_as(context, "dpo").get("/drafts/9999").status_code == 404


def test_a_draft_with_a_fill_in_is_not_approved_and_the_page_says_why(
    context: WebContext, worker: Worker
) -> None:
    draft = answer_draft(context, worker)
    dpo = signed_in_as(context, "dpo")
    page = dpo.get(f"/drafts/{draft.id}").text
    assert "Before it can be approved:" in page
    assert "<li>fill in: check this; if we hold no" in page

    status, target = save(dpo, draft.id or 0, page, editor_text(page), intent="approve")
    assert (status, target) == (303, f"/drafts/{draft.id}")
    after = dpo.get(target).text
    assert f"Refused: draft {draft.id} cannot be approved: fill in:" in after
    assert stored(context, draft.id).status == "awaiting_approval"
    assert not events_of(context, draft.case_id, "reply_approved")


def test_edit_then_approve_under_the_dpos_name(context: WebContext, worker: Worker) -> None:
    draft = answer_draft(context, worker)
    dpo = signed_in_as(context, "dpo")
    page = dpo.get(f"/drafts/{draft.id}").text
    filled = FILL_IN.sub("filled in by Dana", editor_text(page))

    status, target = save(dpo, draft.id or 0, page, filled, intent="approve")
    assert status == 303 and target.startswith("/cases/JAIMY-PRIV-")
    approved = stored(context, draft.id)
    assert approved.status == "queued" and approved.approved_by == DANA
    assert "filled in by Dana" in approved.body and "[[" not in approved.body
    assert [e.actor for e in events_of(context, draft.case_id, "reply_edited")] == [DANA]
    assert [e.actor for e in events_of(context, draft.case_id, "reply_approved")] == [DANA]
    assert f"approved by {DANA}" in dpo.get(target).text
    # Approved, the draft is read-only.
    assert 'name="body"' not in dpo.get(f"/drafts/{draft.id}").text


def test_the_diff_shows_the_dpos_change_against_the_bots_text(
    context: WebContext, worker: Worker
) -> None:
    draft = answer_draft(context, worker)
    dpo = signed_in_as(context, "dpo")
    page = dpo.get(f"/drafts/{draft.id}").text
    assert "No changes: the text is as the bot drafted it." in page
    text = editor_text(page).replace(
        "Dear Anna Peeters,", "Dear Ms Peeters,\n\nThank you for your patience."
    )
    assert save(dpo, draft.id or 0, page, text) == (303, f"/drafts/{draft.id}")
    page = dpo.get(f"/drafts/{draft.id}").text
    assert '<span class="del">- Dear Anna Peeters,</span>' in page
    assert '<span class="add">+ Dear Ms Peeters,</span>' in page
    assert '<span class="add">+ Thank you for your patience.</span>' in page
    assert f"draft {draft.id} changed" in page  # the notice


def test_the_second_of_two_editors_is_refused_and_keeps_their_text(
    context: WebContext, worker: Worker
) -> None:
    draft = answer_draft(context, worker)
    first, second = signed_in_as(context, "dpo"), signed_in_as(context, "dpo")
    first_page = first.get(f"/drafts/{draft.id}").text
    second_page = second.get(f"/drafts/{draft.id}").text
    mine = editor_text(first_page).replace("Dear Anna Peeters,", "Dear Anna,")
    theirs = editor_text(second_page).replace("Dear Anna Peeters,", "Hello Anna,")

    assert save(first, draft.id or 0, first_page, mine)[0] == 303
    status, answer = save(second, draft.id or 0, second_page, theirs)
    assert status == 409
    assert "was changed by someone else after you opened it; your text was not saved" in answer
    assert "Hello Anna," in editor_text(answer)  # nothing lost: their text is in the editor
    assert "The version saved by someone else" in answer and "Dear Anna," in answer
    assert stored(context, draft.id).body.startswith("Dear Anna,\n")
    # Saving again from the refusal page (the new base) goes through.
    assert save(second, draft.id or 0, answer, editor_text(answer))[0] == 303
    assert stored(context, draft.id).body.startswith("Hello Anna,\n")


def test_reject_needs_a_reason_and_the_reason_is_audited(
    context: WebContext, worker: Worker
) -> None:
    draft = answer_draft(context, worker)
    dpo = signed_in_as(context, "dpo")
    csrf = csrf_of(dpo.get(f"/drafts/{draft.id}").text)
    url = f"/drafts/{draft.id}/reject"
    empty = dpo.post(url, data={"csrf": csrf, "why": "  "}, follow_redirects=False)
    assert empty.headers["location"] == f"/drafts/{draft.id}"
    assert "Refused: say why the draft must not go out" in dpo.get(f"/drafts/{draft.id}").text
    assert stored(context, draft.id).status == "awaiting_approval"

    done = dpo.post(url, data={"csrf": csrf, "why": "We hold no data"}, follow_redirects=False)
    assert done.headers["location"].startswith("/cases/")
    assert stored(context, draft.id).status == "rejected"
    (event,) = events_of(context, draft.case_id, "reply_rejected")
    assert event.actor == DANA and '"why": "We hold no data"' in event.data


def test_an_approval_as_a_colleague_rejects_the_draft_is_refused_and_the_rejection_stands(
    context: WebContext, worker: Worker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two DPOs on one draft: one rejects it while the other's approval is under way
    (read, checked, not yet written). Written from what it read, the approval would
    queue the rejected letter and it would go out; it is refused instead, says why,
    and the rejection stands."""
    from mailbot.actions import acting
    from mailbot.actions.drafts import reject_draft
    from mailbot.replies import approval

    draft = answer_draft(context, worker)
    dpo = signed_in_as(context, "dpo")
    page = dpo.get(f"/drafts/{draft.id}").text
    filled = FILL_IN.sub("filled in by Dana", editor_text(page))
    real = approval.approve

    def approved_as_a_colleague_rejects(
        session: Session, read: OutboundMessage, *args: Any
    ) -> None:
        with acting(context.engine) as colleague:
            reject_draft(
                colleague, draft.id or 0, "Chris DPO", "We hold no data on her", context.clock()
            )
        real(session, read, *args)

    monkeypatch.setattr(approval, "approve", approved_as_a_colleague_rejects)
    status, target = save(dpo, draft.id or 0, page, filled, intent="approve")
    assert (status, target) == (303, f"/drafts/{draft.id}")
    assert "Refused: the case changed while you acted" in dpo.get(target).text
    rejected = stored(context, draft.id)
    assert (rejected.status, rejected.approved_by) == ("rejected", None)
    assert events_of(context, draft.case_id, "reply_approved") == []
    assert "filled in by Dana" in rejected.body  # the edit, saved before, is kept


def test_an_edit_saved_as_a_colleague_saves_hers_comes_back_with_the_text_typed(
    context: WebContext, worker: Worker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Dana saves while Chris's save of the same letter is committed between Dana's
    read (the text version she started from still matched) and her write. Her write is
    refused, and the editor comes back with the letter she typed, as when the version
    no longer matches (409): the time she spent writing it is not lost."""
    from mailbot.actions import acting
    from mailbot.actions.drafts import edit_draft
    from mailbot.replies import approval

    draft = answer_draft(context, worker)
    dpo = signed_in_as(context, "dpo")
    page = dpo.get(f"/drafts/{draft.id}").text
    mine = editor_text(page).replace("Dear Anna Peeters,", "Dear Anna, a long letter by Dana")
    real = approval.edit

    def edited_as_a_colleague_saves(session: Session, read: OutboundMessage, *args: Any) -> bool:
        monkeypatch.setattr(approval, "edit", real)
        with acting(context.engine) as colleague:
            theirs = read.body.replace("Dear Anna Peeters,", "Hello Anna,")
            edit_draft(colleague, draft.id or 0, theirs, "Chris DPO")
        return real(session, read, *args)

    monkeypatch.setattr(approval, "edit", edited_as_a_colleague_saves)
    status, answer = save(dpo, draft.id or 0, page, mine)
    assert stored(context, draft.id).body.startswith("Hello Anna,\n")  # Chris's stands
    assert status == 409
    assert "the case changed while you acted" in answer
    assert "a long letter by Dana" in editor_text(answer)
