"""A drafted reply beside its editor: what still blocks it (fill-ins, a lost complaint
paragraph), the DPO's changes as a diff against the bot's draft, and save, approve or
reject. The rules are `mailbot.actions.drafts` and `mailbot.replies.approval`.

A save names the version of the text the editor started from; when someone else saved
in between, the save is refused and the page comes back with the person's own text in
the editor and the other version beside it, so no edit is lost.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session
from starlette.datastructures import FormData

from mailbot.actions import CaseChanged, NotFound, Refused, acting
from mailbot.actions.cases import failed_authentication
from mailbot.actions.drafts import approve_draft, edit_draft, find_draft, reject_draft
from mailbot.cases.models import Case, OutboundMessage, OutboundStatus
from mailbot.replies.approval import ApprovalRefused, approval_problems, text_digest
from mailbot.web.auth import Staff, dpo_only, form_of, text_field, web
from mailbot.web.pages import after_action, leave_notice, render

router = APIRouter()
DpoForm = Annotated[tuple[Staff, FormData], Depends(form_of(dpo_only))]
MAX_LETTER = 100_000


@dataclass(frozen=True, slots=True)
class DiffLine:
    kind: str  # "add", "del", "same" or "gap"
    text: str


def changes(drafted: str, current: str) -> list[DiffLine]:
    """The DPO's text against the bot's, line by line, with three lines of context."""
    lines = []
    diff = difflib.unified_diff(drafted.splitlines(), current.splitlines(), lineterm="", n=3)
    for line in list(diff)[2:]:  # the two file header lines say nothing here
        if line.startswith("@@"):
            lines.append(DiffLine("gap", "…"))
        elif line.startswith("+"):
            lines.append(DiffLine("add", line[1:]))
        elif line.startswith("-"):
            lines.append(DiffLine("del", line[1:]))
        else:
            lines.append(DiffLine("same", line[1:]))
    return lines


@router.get("/drafts/{draft_id}", response_class=HTMLResponse)
def draft_page(
    request: Request, draft_id: int, staff: Annotated[Staff, Depends(dpo_only)]
) -> HTMLResponse:
    return _editor(request, staff, draft_id)


@router.post("/drafts/{draft_id}/save")
def save(request: Request, draft_id: int, checked: DpoForm) -> Response:
    staff, form = checked
    body = text_field(form, "body", MAX_LETTER)
    base = text_field(form, "base", 64)
    approve = text_field(form, "intent", 10) == "approve"
    context = web(request)
    try:
        with acting(context.engine) as session:
            edited = edit_draft(session, draft_id, body, staff.name, based_on=base)
    except NotFound as missing:
        raise HTTPException(404, str(missing)) from missing
    except (ApprovalRefused, CaseChanged) as refused:
        # Changed by someone else meanwhile too: the editor again, the text typed kept.
        return _editor(request, staff, draft_id, mine=body, refusal=str(refused))
    except Refused as refused:
        leave_notice(request, f"Refused: {refused}")
        return RedirectResponse(f"/drafts/{draft_id}", status_code=303)
    if not approve:
        leave_notice(request, edited.summary)
        return RedirectResponse(f"/drafts/{draft_id}", status_code=303)
    # Approved in its own transaction: when approval is refused the saved edit stays.
    return after_action(
        request,
        f"/drafts/{draft_id}",
        lambda session: approve_draft(session, draft_id, staff.name, context.clock()),
        forward=lambda _: f"/cases/{_reference_of(request, draft_id)}",
    )


@router.post("/drafts/{draft_id}/reject")
def reject(request: Request, draft_id: int, checked: DpoForm) -> Response:
    staff, form = checked
    why = text_field(form, "why", 2000)
    context = web(request)
    return after_action(
        request,
        f"/drafts/{draft_id}",
        lambda session: reject_draft(session, draft_id, staff.name, why, context.clock()),
        forward=lambda _: f"/cases/{_reference_of(request, draft_id)}",
    )


def _editor(
    request: Request,
    staff: Staff,
    draft_id: int,
    mine: str | None = None,
    refusal: str | None = None,
) -> HTMLResponse:
    context = web(request)
    with Session(context.engine) as session:
        draft = _found(session, draft_id)
        case = session.get_one(Case, draft.case_id)
        unauthenticated = failed_authentication(session, case)
    return render(
        request,
        "draft.html",
        staff,
        status_code=409 if refusal else 200,
        draft=draft,
        case=case,
        unauthenticated=unauthenticated,
        text=mine if mine is not None else draft.body,
        base=text_digest(draft.body),
        problems=approval_problems(draft, case),
        diff=changes(draft.drafted_body, draft.body) if draft.drafted_body else [],
        refusal=refusal,
        editable=draft.status == OutboundStatus.AWAITING_APPROVAL,
    )


def _found(session: Session, draft_id: int) -> OutboundMessage:
    try:
        return find_draft(session, draft_id)
    except NotFound as missing:
        raise HTTPException(404, str(missing)) from missing


def _reference_of(request: Request, draft_id: int) -> str:
    with Session(web(request).engine) as session:
        draft = _found(session, draft_id)
        return session.get_one(Case, draft.case_id).reference
