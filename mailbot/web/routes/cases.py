"""One case: its facts, the deadline explainer, the timeline of mails and events, and
the DPO's decisions on it (settle a triaged reading, record the identity check, draft
an extension or a refusal, stop marketing). Each decision is one function of
`mailbot.actions.cases`, run under the signed-in person's name.

While an identity check is pending the DPO can look at the ID copy: decoded from the
sealed mail in memory, re-encoded as PNG and sent with `Cache-Control: no-store`;
nothing is written to disk and nothing is served once the check is recorded.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session
from starlette.datastructures import FormData

from classifiers import LABELS
from classifiers import RIGHTS as CLASSIFIER_RIGHTS
from mailbot.actions import Done, Refused
from mailbot.actions.cases import (
    correct_reading,
    decide_case,
    draft_extension,
    draft_refusal,
    failed_authentication,
    find_case,
    suppress_marketing,
    verify_identity,
)
from mailbot.cases.deadlines import receipt_date
from mailbot.cases.explainer import explain_deadline
from mailbot.cases.models import Case, CaseStatus, OutboundStatus
from mailbot.handling.id_copies import awaits_reading, awaits_review
from mailbot.mail.parse import MalformedMail, parse_mail
from mailbot.replies.approval import approval_problems
from mailbot.replies.drafts import letters_of
from mailbot.schedule import waits_for_id_since
from mailbot.store.models import Attachment, InboundMessage
from mailbot.store.sealed import stored_raw
from mailbot.triage.id_images import UnreadableDocument, decoded_pages
from mailbot.web.auth import Staff, dpo_only, form_of, text_field, web
from mailbot.web.pages import after_action, render
from mailbot.web.routes.queue import days_left_band
from mailbot.web.timeline import case_timeline, holds_id_copy, pending_id_copies

router = APIRouter()
DpoForm = Annotated[tuple[Staff, FormData], Depends(form_of(dpo_only))]


@router.get("/cases/{reference}", response_class=HTMLResponse)
def case_page(
    request: Request, reference: str, staff: Annotated[Staff, Depends(dpo_only)]
) -> HTMLResponse:
    context = web(request)
    now = context.clock()
    with Session(context.engine) as session:
        case = _found(session, reference)
        timeline = case_timeline(session, case, context.handling.sealer)
        copies = pending_id_copies(session, case)
        awaiting_reading = awaits_reading(case) and case.identity_verified is None
        card_for_reading = awaiting_reading and holds_id_copy(session, case)
        unauthenticated = failed_authentication(session, case)
        letters = letters_of(session, case)
    closure_again_on = _closure_again_on(case, letters, context.settings.id_close_days)
    explanation = explain_deadline(case, now, context.settings.target_days)
    drafts = [
        (entry.reply, approval_problems(entry.reply, case))
        for entry in timeline
        if entry.reply is not None and entry.reply.status == OutboundStatus.AWAITING_APPROVAL
    ]
    return render(
        request,
        "case.html",
        staff,
        case=case,
        explanation=explanation,
        band=days_left_band(case, explanation.days_left, context.settings.dpo_warning_days),
        timeline=timeline,
        drafts=drafts,
        copies=copies,
        unauthenticated=unauthenticated,
        rights=LABELS,
        is_open=case.status != CaseStatus.CLOSED,
        identity_pending=case.identity_verified is None
        and (case.id_requested_at is not None or awaits_review(case)),
        awaiting_reading=awaiting_reading,
        card_for_reading=card_for_reading,
        closure_again_on=closure_again_on,
    )


def _closure_again_on(case: Case, letters: frozenset[str], close_days: int) -> date | None:
    """The Brussels day the clock drafts the "not identified" closure again, when its
    wait was renewed (the DPO rejected it, or a card's back came) and no copy has come;
    None once a closure is drafted or sent, and for every other case."""
    since = waits_for_id_since(case)
    if since is None or since != case.id_wait_renewed_at or "not_identified" in letters:
        return None
    return receipt_date(since + timedelta(days=close_days))


@router.post("/cases/{reference}/decide")
def decide(request: Request, reference: str, checked: DpoForm) -> Response:
    """The DPO's reading: settles a triaged case, or corrects the rights of a sure one
    (the classifier learns from both)."""
    staff, form = checked
    primary = text_field(form, "primary", 40)
    others = [r for r in form.getlist("rights") if isinstance(r, str) and r != primary]
    if primary in ("other", "not_a_request"):
        labels = [primary]
    else:
        labels = [r for r in [primary, *others] if r in CLASSIFIER_RIGHTS]
    context = web(request)

    def action(session: Session) -> Done:
        if not labels:
            raise Refused("choose the request's main right")
        settle = decide_case if find_case(session, reference).needs_triage else correct_reading
        return settle(session, reference, labels, staff.name, context.handling, context.clock())

    return after_action(request, f"/cases/{reference}", action)


@router.post("/cases/{reference}/verify")
def verify(request: Request, reference: str, checked: DpoForm) -> Response:
    staff, form = checked
    verdict = text_field(form, "verdict", 10)
    context = web(request)

    def action(session: Session) -> Done:
        if verdict not in ("yes", "no"):
            raise Refused("say whether the copy shows the requester (verified or not)")
        return verify_identity(
            session, reference, verdict == "yes", staff.name, context.handling, context.clock()
        )

    return after_action(request, f"/cases/{reference}", action)


@router.post("/cases/{reference}/extend")
def extend(request: Request, reference: str, checked: DpoForm) -> Response:
    staff, form = checked
    reason = text_field(form, "reason", 2000)
    context = web(request)
    return _to_draft(
        request,
        reference,
        lambda session: draft_extension(
            session, reference, reason, staff.name, context.handling, context.clock()
        ),
    )


@router.post("/cases/{reference}/refuse")
def refuse(request: Request, reference: str, checked: DpoForm) -> Response:
    staff, form = checked
    reasons = text_field(form, "reasons", 5000)
    partial = text_field(form, "scope", 10) == "partial"
    context = web(request)
    return _to_draft(
        request,
        reference,
        lambda session: draft_refusal(
            session, reference, reasons, partial, staff.name, context.handling, context.clock()
        ),
    )


@router.post("/cases/{reference}/suppress")
def suppress(request: Request, reference: str, checked: DpoForm) -> Response:
    staff, form = checked
    right = text_field(form, "right", 40)
    context = web(request)
    return after_action(
        request,
        f"/cases/{reference}",
        lambda session: suppress_marketing(
            session, reference, right, staff.name, context.handling, context.clock()
        ),
    )


@router.get("/cases/{reference}/id-copies/{attachment_id}")
def id_copy(
    request: Request,
    reference: str,
    attachment_id: int,
    staff: Annotated[Staff, Depends(dpo_only)],
) -> Response:
    context = web(request)
    with Session(context.engine) as session:
        case = _found(session, reference)
        held = {copy.attachment_id for copy in pending_id_copies(session, case)}
        attachment = session.get(Attachment, attachment_id)
        if attachment is None or attachment_id not in held:
            raise HTTPException(404, "no ID copy awaiting a check here")
        inbound = session.get_one(InboundMessage, attachment.inbound_id)
        raw = stored_raw(inbound, context.handling.sealer)
    png = _as_png(raw, attachment)
    return Response(
        png,
        media_type="image/png",
        headers={
            "Cache-Control": "no-store, max-age=0",
            "Pragma": "no-cache",
            "Content-Disposition": "inline",
        },
    )


def _as_png(raw: bytes, attachment: Attachment) -> bytes:
    """The copy's first page, decoded in memory with the ID check's bounded decoders."""
    try:
        mail = parse_mail(raw)
        part = next(a for a in mail.attachments if a.sha256 == attachment.sha256)
        pages, _ = decoded_pages(part.data, part.sniffed_type)
    except (MalformedMail, StopIteration, UnreadableDocument) as exc:
        raise HTTPException(404, "the copy cannot be shown; it is still in the mailbox") from exc
    out = io.BytesIO()
    pages[0].convert("RGB").save(out, format="PNG")
    return out.getvalue()


def _to_draft(request: Request, reference: str, action: Callable[[Session], Done]) -> Response:
    """Run an action that drafts a letter: open the draft, or come back with the refusal."""
    return after_action(
        request,
        f"/cases/{reference}",
        action,
        forward=lambda done: f"/drafts/{done.draft_id}" if done.draft_id else None,
    )


def _found(session: Session, reference: str) -> Case:
    try:
        return find_case(session, reference)
    except Refused as missing:
        raise HTTPException(404, str(missing)) from missing
