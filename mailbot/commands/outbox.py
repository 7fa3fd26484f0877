"""`mailbot outbox`: the replies waiting to go out or given up on, and re-queuing them.

`list` shows failed and queued replies (reference, kind, attempts, last error; no
address or text); `requeue` hands failed ones back to the worker (mailbot.actions.outbox).
"""

from __future__ import annotations

from typing import Annotated

import typer
from sqlmodel import Session

from mailbot.actions import outbox
from mailbot.commands.common import ActorOption, ConfigOption, JsonFlag, act, database, emit
from mailbot.store.models import utcnow

app = typer.Typer(no_args_is_help=True, help="Replies waiting to go out, or given up on.")


@app.command("list")
def list_outbox(config: ConfigOption = None, json_output: JsonFlag = False) -> None:
    """Failed replies, then queued ones: what waits, and why the last try failed."""
    _, engine = database(config)
    with Session(engine) as session:
        rows = outbox.outbox_rows(session)
    for row in rows:
        fields = {
            "id": row.id,
            "case": row.reference,
            "kind": row.kind,
            "status": row.status,
            "attempts": row.attempts,
            "last_error": row.last_error,
            "next_attempt_at": row.next_attempt_at.isoformat(),
            "stays_failed": row.stays_failed,
        }
        kept = f"  (stays failed: {row.stays_failed})" if row.stays_failed else ""
        emit(
            fields,
            json_output,
            f"{row.id:>6}  {row.status:<7} {row.reference}  {row.kind:<20} "
            f"attempts {row.attempts}  {row.last_error or ''}{kept}",
        )


@app.command("requeue")
def requeue(
    actor: ActorOption,
    reply_id: Annotated[
        int | None, typer.Option("--id", help="Only this reply (as `outbox list` shows).")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Put failed replies (all, or one with --id) back in the queue, attempts reset."""
    act(config, lambda session, _: outbox.requeue_failed(session, actor, utcnow(), reply_id))
