"""What the DPO does with a mail the bot kept but could not handle.

A quarantined mail (malformed, empty, or stopped by an internal error) is kept whole
and sealed, because it may be a request. The DPO reads it (`mailbot.store.reading`),
hands it back to the bot once the cause is fixed (`retry_mail`: the worker runs it
through the pipeline again), or sets it aside (`dismiss_mail`): its content, ID copies
included, is erased at once (LEGAL.md §2.5, §5) and only who dismissed it, when and
why stay on the row.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from mailbot.actions import Done, NotFound, Refused, who
from mailbot.sealing import Sealer
from mailbot.store.models import Disposition, InboundMessage
from mailbot.store.sealed import erase_mail, stored_whole


def find_mail(session: Session, mail_id: int) -> InboundMessage:
    inbound = session.get(InboundMessage, mail_id)
    if inbound is None:
        raise NotFound(f"no stored mail numbered {mail_id}")
    return inbound


def retry_mail(session: Session, mail_id: int, actor: str) -> Done:
    """Hand a quarantined mail back to the worker, which handles it as if just stored."""
    who(actor)
    inbound = _quarantined(find_mail(session, mail_id))
    if not stored_whole(inbound):
        # Handling its headers as the whole mail would open a case without its text and
        # never see its attachments; the mail itself stays in the mailbox folder.
        raise Refused(
            f"mail {inbound.id} was stored without its content ({inbound.reason}): read it "
            "in the mailbox folder, where it stays flagged $MailbotQuarantined"
        )
    inbound.disposition = Disposition.PENDING
    inbound.reason = None
    inbound.handled_at = None
    inbound.attempts = 0  # the cause is fixed: two tries again
    # Flag it again in the IMAP folder once handled: "done" replaces "quarantined".
    inbound.marked_in_source = False
    session.add(inbound)
    return Done(f"mail {mail_id} is pending again: the worker handles it on its next round")


def dismiss_mail(
    session: Session, mail_id: int, actor: str, why: str, sealer: Sealer, now: datetime
) -> Done:
    """The DPO read it and nothing is to be done: erase its content, keep the decision."""
    name = who(actor)
    inbound = _quarantined(find_mail(session, mail_id))
    if not why.strip():
        raise Refused("a dismissal needs a reason (--reason)")
    erase_mail(session, inbound, sealer, now)
    inbound.disposition = Disposition.DISMISSED
    decision = f"dismissed by {name} on {now:%Y-%m-%d}: {why.strip()}"
    inbound.reason = f"{inbound.reason}; {decision}"[:1000] if inbound.reason else decision[:1000]
    session.add(inbound)
    return Done(
        f"mail {mail_id} dismissed; its content is erased (the worker also removes it "
        "from the mailbox folder)"
    )


def _quarantined(inbound: InboundMessage) -> InboundMessage:
    if inbound.disposition != Disposition.QUARANTINED:
        raise Refused(
            f"mail {inbound.id} is {inbound.disposition}, not quarantined: "
            "only a quarantined mail can be retried or dismissed"
        )
    return inbound
