"""`mailbot cases`: what the DPO does to a case besides approving drafts.

`list` and `show` read; `decide` settles a triaged case, `correct` a sure one's rights;
`verify` records the identity check the DPO made by eye (and deletes the copy); `extend`
drafts the extension notice (approving it extends); `refuse` drafts the refusal (Art.
12(4)); `suppress` stops marketing to the requester. Each change is one function of
`mailbot.actions.cases`.
"""

from __future__ import annotations

from typing import Annotated

import typer
from sqlmodel import Session, col, select

from mailbot.actions import Refused
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
from mailbot.cases.lifecycle import current_due
from mailbot.cases.models import Case, CaseEvent
from mailbot.commands.common import (
    ActorOption,
    ConfigOption,
    JsonFlag,
    act_sealed,
    database,
    emit,
    fail,
)
from mailbot.handling.record import Handling
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
            # DMARC, or SPF and DKIM, failed on a mail of the case: the sender may be forged.
            "sender_auth_failed": ", ".join(failed_authentication(session, case)) or None,
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
    act_sealed(
        config,
        lambda session, settings, sealer: verify_identity(
            session, reference, verified, actor, Handling.of(settings, sealer), utcnow()
        ),
    )


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
    labels = [label.strip() for label in rights.split(",") if label.strip()]
    act_sealed(
        config,
        lambda session, settings, sealer: decide_case(
            session, reference, labels, actor, Handling.of(settings, sealer), utcnow()
        ),
    )


@app.command()
def correct(
    reference: Reference,
    actor: ActorOption,
    rights: Annotated[
        str, typer.Option(help="What the mail really asks, first the primary: erasure,objection")
    ],
    config: ConfigOption = None,
) -> None:
    """Correct the rights the classifier read in a case it was sure of; the classifier
    learns from it (`mailbot model retrain`). Drafted and sent letters stay as they are."""
    labels = [label.strip() for label in rights.split(",") if label.strip()]
    act_sealed(
        config,
        lambda session, settings, sealer: correct_reading(
            session, reference, labels, actor, Handling.of(settings, sealer), utcnow()
        ),
    )


@app.command()
def extend(
    reference: Reference,
    actor: ActorOption,
    reason: Annotated[str, typer.Option(help="Why, in the requester's language.")],
    config: ConfigOption = None,
) -> None:
    """Draft the extension notice; approving it (before the deadline) extends the case."""
    act_sealed(
        config,
        lambda session, settings, sealer: draft_extension(
            session, reference, reason, actor, Handling.of(settings, sealer), utcnow()
        ),
    )


@app.command()
def refuse(
    reference: Reference,
    actor: ActorOption,
    reasons: Annotated[str, typer.Option(help="The reasons, in the requester's language.")],
    partial: Annotated[bool, typer.Option(help="Only part of the request is refused.")] = False,
    config: ConfigOption = None,
) -> None:
    """Draft the refusal (reasons, complaint to the GBA/APD, judicial remedy)."""
    act_sealed(
        config,
        lambda session, settings, sealer: draft_refusal(
            session, reference, reasons, partial, actor, Handling.of(settings, sealer), utcnow()
        ),
    )


@app.command()
def suppress(
    reference: Reference,
    actor: ActorOption,
    right: Annotated[
        str, typer.Option(help="objection (direct marketing) or withdraw_consent.")
    ] = "objection",
    config: ConfigOption = None,
) -> None:
    """Put the case's requester on the suppression list (an objection the bot missed)."""
    act_sealed(
        config,
        lambda session, settings, sealer: suppress_marketing(
            session, reference, right, actor, Handling.of(settings, sealer), utcnow()
        ),
    )


def _case(session: Session, reference: str) -> Case:
    try:
        return find_case(session, reference)
    except Refused as exc:
        fail(str(exc), 1)
