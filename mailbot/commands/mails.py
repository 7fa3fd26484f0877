"""`mailbot mails`: the mails that reached the inbox, and the quarantined ones.

`list` says what became of every stored mail; `show` lets the DPO read one; a
quarantined mail is handed back to the bot with `retry` or set aside with `dismiss`
(its content, ID copies included, is then erased: mailbot.actions.mails).
"""

from __future__ import annotations

from typing import Annotated

import typer
from sqlmodel import Session

from mailbot.actions import Refused, mails
from mailbot.commands.common import (
    ActorOption,
    ConfigOption,
    JsonFlag,
    act,
    act_sealed,
    database,
    emit,
    fail,
    sealed_database,
)
from mailbot.sealing import SealingError
from mailbot.store.models import InboundMessage, utcnow
from mailbot.store.reading import read_stored

app = typer.Typer(no_args_is_help=True, help="The mails that reached the inbox.")
MailId = Annotated[int, typer.Argument(help="The mail's number, as `mailbot mails list` shows.")]


@app.command("list")
def list_mails(
    config: ConfigOption = None,
    json_output: JsonFlag = False,
    quarantined: Annotated[bool, typer.Option(help="Only the quarantined ones.")] = False,
) -> None:
    """Every stored mail and what became of it (case, follow-up, bounce, quarantine...)."""
    from mailbot.reports import inbound_rows

    _, engine = database(config)
    for row in inbound_rows(engine, "quarantined" if quarantined else None):
        emit(
            row,
            json_output,
            f"{row['id']:>6}  {row['received_at']}  {row['disposition']:<12} "
            f"{row['case'] or ''}  {row['reason'] or ''}",
        )


@app.command()
def show(mail_id: MailId, config: ConfigOption = None, json_output: JsonFlag = False) -> None:
    """Read one stored mail: sender, subject, text and the names of its attachments."""
    _, engine, sealer = sealed_database(config)
    with Session(engine) as session:
        try:
            stored = read_stored(_mail(session, mail_id), sealer)
        except SealingError as exc:
            fail(f"mail {mail_id} cannot be opened: {exc}", 1)
    row = {
        "id": stored.id,
        "received_at": stored.received_at.isoformat(),
        "disposition": stored.disposition,
        "reason": stored.reason,
        "erased": stored.erased,
        "sender": stored.sender,
        "subject": stored.subject,
        "attachments": list(stored.attachments),
        "text": stored.text,
    }
    lines = [f"{key:<12} {row[key]}" for key in ("id", "received_at", "disposition", "reason")]
    if stored.erased:
        lines.append("content     erased")
    else:
        lines += [f"from         {stored.sender or ''}", f"subject      {stored.subject}"]
        lines += [f"attachment   {name}" for name in stored.attachments]
        lines += ["", stored.text]
    emit(row, json_output, "\n".join(lines))


@app.command("retry")
def retry_mail(mail_id: MailId, actor: ActorOption, config: ConfigOption = None) -> None:
    """Hand a quarantined mail back to the bot (once what stopped it is fixed)."""
    act(config, lambda session, _: mails.retry_mail(session, mail_id, actor))


@app.command("dismiss")
def dismiss_mail(
    mail_id: MailId,
    actor: ActorOption,
    reason: Annotated[str, typer.Option("--reason", help="Why nothing is to be done.")],
    config: ConfigOption = None,
) -> None:
    """Set a quarantined mail aside: its content, ID copies included, is erased."""
    act_sealed(
        config,
        lambda session, _, sealer: mails.dismiss_mail(
            session, mail_id, actor, reason, sealer, utcnow()
        ),
    )


def _mail(session: Session, mail_id: int) -> InboundMessage:
    try:
        return mails.find_mail(session, mail_id)
    except Refused as exc:
        fail(str(exc), 1)
