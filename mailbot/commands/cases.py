"""`mailbot cases`: what the DPO does to a case besides approving drafts.

`list` and `show` read; `verify` records the identity check the DPO made by eye (and
deletes the copy); `extend` drafts the extension notice (approving it extends);
`refuse` drafts the refusal (Art. 12(4)). Each change is one lifecycle function.
"""

from __future__ import annotations

from typing import Annotated

import typer
from sqlmodel import Session, col, select

from mailbot.cases.dpo_reading import decide_reading
from mailbot.cases.handling import Handling, prepare_answer
from mailbot.cases.lifecycle import IllegalTransition, current_due, transition
from mailbot.cases.models import Case, CaseEvent, CaseStatus, OutboundMessage, OutboundStatus
from mailbot.cases.verification import mark_checked
from mailbot.commands.common import ActorOption, ConfigOption, JsonFlag, database, emit, fail
from mailbot.replies.approval import reject
from mailbot.replies.drafts import Letterhead, draft_reply
from mailbot.store.models import utcnow

app = typer.Typer(no_args_is_help=True, help="The cases the bot opened.")
Reference = Annotated[str, typer.Argument(help="The case reference, e.g. JAIMY-PRIV-2026-0042.")]


@app.command("list")
def list_cases(config: ConfigOption = None, json_output: JsonFlag = False) -> None:
    """Every case, oldest first."""
    from mailbot.reports import case_rows

    _, engine = database(config)
    for row in case_rows(engine):
        emit(
            row,
            json_output,
            f"{row['reference']}  {row['status']:<17} {row['primary']:<16} "
            f"{row['language']}  due {row['legal_due']}  {row['requester']}",
        )


@app.command()
def show(reference: Reference, config: ConfigOption = None, json_output: JsonFlag = False) -> None:
    """A case's facts and its audit trail."""
    _, engine = database(config)
    with Session(engine) as session:
        case = _case(session, reference)
        facts = {
            "reference": case.reference,
            "status": case.status,
            "outcome": case.outcome,
            "rights": case.label_list,
            "language": case.language,
            "receipt_date": case.receipt_date.isoformat(),
            "due": current_due(case).isoformat(),
            "extended": case.extension_notified_on is not None,
            "doubt_reason": case.doubt_reason,
            "identity_verified": case.identity_verified,
            "identity_method": case.identity_method,
        }
        emit(facts, json_output, "\n".join(f"{k:<18} {v}" for k, v in facts.items()))
        events = session.exec(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(col(CaseEvent.id))
        ).all()
        for event in events:
            row = {"at": event.at.isoformat(), "kind": event.kind, "actor": event.actor}
            emit(row, json_output, f"  {event.at:%Y-%m-%d %H:%M}  {event.kind:<22} {event.actor}")


@app.command()
def verify(
    reference: Reference,
    actor: ActorOption,
    verified: Annotated[bool, typer.Option("--verified/--not-verified")],
    config: ConfigOption = None,
) -> None:
    """Record the identity check you made on the ID copy; the copy is then deleted."""
    settings, engine = database(config)
    with Session(engine) as session:
        case = _case(session, reference)
        now = utcnow()
        try:
            handling = Handling.of(settings, settings.sealer())
            mark_checked(session, case, verified, "dpo-review", actor, now, handling.sealer)
            pending_closure = _pending(session, case, "not_identified")
            if verified:
                for draft in pending_closure:  # drafted by the clock; pointless now
                    reject(session, draft, actor, "identity verified")
                transition(session, case, CaseStatus.IN_PROGRESS, actor, "identity verified")
                prepare_answer(session, case, handling)
            elif not pending_closure:
                # Art. 12(2): we cannot act; the letter saying so (with the remedies)
                # waits for the DPO's approval like every refusal.
                draft_reply(session, case, "not_identified", {}, handling.letterhead)
                transition(session, case, CaseStatus.AWAITING_APPROVAL, actor, "not identified")
        except IllegalTransition as exc:
            fail(str(exc), 1)
        session.commit()
    typer.echo(f"{reference}: identity {'verified' if verified else 'not verified'}; copy deleted")


@app.command()
def decide(
    reference: Reference,
    actor: ActorOption,
    rights: Annotated[
        str, typer.Option(help="What the mail asks, first the primary: access,erasure ...")
    ],
    config: ConfigOption = None,
) -> None:
    """Settle a triaged case's reading; the bot then goes on as for any request."""
    settings, engine = database(config)
    labels = [label.strip() for label in rights.split(",") if label.strip()]
    with Session(engine) as session:
        case = _case(session, reference)
        try:
            handling = Handling.of(settings, settings.sealer())
            decide_reading(session, case, labels, actor, handling, utcnow())
        except IllegalTransition as exc:
            fail(str(exc), 1)
        session.commit()
        typer.echo(f"{reference}: {', '.join(labels)}; now {case.status}")


@app.command()
def extend(
    reference: Reference,
    actor: ActorOption,
    reason: Annotated[str, typer.Option(help="Why, in the requester's language.")],
    config: ConfigOption = None,
) -> None:
    """Draft the extension notice; approving it (before the deadline) extends the case."""
    settings, engine = database(config)
    with Session(engine) as session:
        case = _case(session, reference)
        if not reason.strip():
            fail("an extension needs a written reason (LEGAL.md §1.5)", 1)
        case.extension_reason = reason.strip()
        extra = {"extended_due": case.extended_due, "extension_reason": case.extension_reason}
        draft = draft_reply(session, case, "extension_notice", extra, Letterhead.of(settings))
        session.commit()
        typer.echo(f"{reference}: extension notice drafted as draft {draft.id} ({actor})")


@app.command()
def refuse(
    reference: Reference,
    actor: ActorOption,
    reasons: Annotated[str, typer.Option(help="The reasons, in the requester's language.")],
    partial: Annotated[bool, typer.Option(help="Only part of the request is refused.")] = False,
    config: ConfigOption = None,
) -> None:
    """Draft the refusal (reasons, complaint to the GBA/APD, judicial remedy)."""
    if not reasons.strip():
        fail("a refusal must give its reasons (Art. 12(4), LEGAL.md §3.4)", 1)
    settings, engine = database(config)
    with Session(engine) as session:
        case = _case(session, reference)
        extra = {"refusal_reasons": reasons.strip(), "partial": partial}
        draft = draft_reply(session, case, "refusal", extra, Letterhead.of(settings))
        session.commit()
        typer.echo(f"{reference}: refusal drafted as draft {draft.id} ({actor})")


def _pending(session: Session, case: Case, kind: str) -> list[OutboundMessage]:
    """The case's drafts of `kind` waiting for approval."""
    waiting = session.exec(
        select(OutboundMessage)
        .where(OutboundMessage.case_id == case.id)
        .where(OutboundMessage.kind == kind)
        .where(OutboundMessage.status == OutboundStatus.AWAITING_APPROVAL)
    )
    return list(waiting.all())


def _case(session: Session, reference: str) -> Case:
    case = session.exec(select(Case).where(Case.reference == reference.upper())).first()
    if case is None:
        fail(f"no case {reference}", 1)
    return case
