"""`mailbot drafts`: the DPO reads, edits, approves or rejects the replies the bot drafted.

Until the web app exists this is how a held draft gets out: `list` what waits, `show`
one, `edit` it in $EDITOR (fill-ins `[[ ... ]]` must be replaced), `approve --as NAME`
or `reject --as NAME --why TEXT`. Every decision is an audit event naming its author.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import Session, col, select

from mailbot.actions import Refused, drafts
from mailbot.cases.models import Case, OutboundMessage, OutboundStatus
from mailbot.commands.common import ActorOption, ConfigOption, JsonFlag, act, database, emit, fail
from mailbot.replies.approval import approval_problems
from mailbot.store.models import utcnow
from mailbot.store.reading import displayable

app = typer.Typer(no_args_is_help=True, help="Replies waiting for the DPO.")
DraftId = Annotated[int, typer.Argument(help="The draft's number, from `mailbot drafts list`.")]


@app.command("list")
def list_drafts(
    config: ConfigOption = None,
    json_output: JsonFlag = False,
    every: Annotated[bool, typer.Option("--all", help="Sent and rejected ones too.")] = False,
) -> None:
    """Drafts waiting for approval, oldest first."""
    _, engine = database(config)
    with Session(engine) as session:
        query = select(OutboundMessage, Case).where(OutboundMessage.case_id == Case.id)
        if not every:
            query = query.where(OutboundMessage.status == OutboundStatus.AWAITING_APPROVAL)
        for draft, case in session.exec(query.order_by(col(OutboundMessage.id))).all():
            problems = approval_problems(draft, case)
            row = {
                "id": draft.id,
                "case": case.reference,
                "kind": draft.kind,
                "language": draft.language,
                "status": draft.status,
                "legal_due": case.legal_due.isoformat(),
                "problems": problems,
            }
            note = f"  ({len(problems)} to fix)" if problems else ""
            line = (
                f"{draft.id:>5}  {case.reference}  {draft.kind:<20} {draft.language}  "
                f"{draft.status:<17} due {case.legal_due}{note}"
            )
            emit(row, json_output, line)


@app.command()
def show(draft_id: DraftId, config: ConfigOption = None) -> None:
    """The draft as the requester would receive it, and what blocks its approval."""
    _, engine = database(config)
    with Session(engine) as session:
        draft = _draft(session, draft_id)
        # Control characters replaced: the text (a DPO's edit, a name quoted from a mail)
        # must not drive the terminal.
        typer.echo(displayable(f"To: {draft.to_address}\nSubject: {draft.subject}\n"))
        typer.echo(displayable(draft.body))
        for problem in approval_problems(draft, session.get_one(Case, draft.case_id)):
            typer.echo(displayable(f"! {problem}"), err=True)


@app.command("edit")
def edit_draft(draft_id: DraftId, actor: ActorOption, config: ConfigOption = None) -> None:
    """Open the draft's text in $EDITOR (or $VISUAL); saving changes it."""
    _, engine = database(config)
    with Session(engine) as session:
        text = _edited(_draft(session, draft_id).body)
    act(config, lambda session, _: drafts.edit_draft(session, draft_id, text, actor))


@app.command("approve")
def approve_draft(draft_id: DraftId, actor: ActorOption, config: ConfigOption = None) -> None:
    """Send the draft (the worker sends it on its next round)."""
    act(config, lambda session, _: drafts.approve_draft(session, draft_id, actor, utcnow()))


@app.command("reject")
def reject_draft(
    draft_id: DraftId,
    actor: ActorOption,
    why: Annotated[str, typer.Option(help="Why it must not go out.")] = "",
    config: ConfigOption = None,
) -> None:
    """Never send the draft."""
    act(config, lambda session, _: drafts.reject_draft(session, draft_id, actor, why, utcnow()))


def _draft(session: Session, draft_id: int) -> OutboundMessage:
    try:
        return drafts.find_draft(session, draft_id)
    except Refused as exc:
        fail(str(exc), 1)


def _edited(text: str) -> str:
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    with tempfile.TemporaryDirectory() as directory:
        file = Path(directory) / "draft.txt"
        file.write_text(text, encoding="utf-8")
        done = subprocess.run([*shlex.split(editor), str(file)], check=False)
        if done.returncode != 0:
            fail(f"the editor exited with status {done.returncode}; nothing changed", 1)
        return file.read_text(encoding="utf-8")
