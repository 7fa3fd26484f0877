"""What the DPO does with a mail the bot kept but could not handle.

A quarantined mail (malformed, empty, or stopped by an internal error) is kept whole
and sealed, because it may be a request. The DPO reads it (`mailbot mails show`), hands
it back to the bot once the cause is fixed (`mails retry`: the worker runs it through
the pipeline again), or sets it aside (`mails dismiss`): its content, ID copies
included, is erased at once (LEGAL.md §2.5, §5) and only who dismissed it, when and
why stay on the row.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from mailbot.sealing import Sealer
from mailbot.store.models import Disposition, InboundMessage
from mailbot.store.sealed import erase_mail, stored_whole


class ReviewRefused(ValueError):
    """The mail cannot be retried or dismissed; the message says why."""


def retry(session: Session, inbound: InboundMessage) -> None:
    """Hand a quarantined mail back to the worker, which handles it as if just stored."""
    _require_quarantined(inbound)
    if not stored_whole(inbound):
        # Handling its headers as the whole mail would open a case without its text and
        # never see its attachments; the mail itself stays in the mailbox folder.
        raise ReviewRefused(
            f"mail {inbound.id} was stored without its content ({inbound.reason}): read it "
            "in the mailbox folder, where it stays flagged $MailbotQuarantined"
        )
    inbound.disposition = Disposition.PENDING
    inbound.reason = None
    inbound.handled_at = None
    # Flag it again in the IMAP folder once handled: "done" replaces "quarantined".
    inbound.marked_in_source = False
    session.add(inbound)


def dismiss(
    session: Session,
    inbound: InboundMessage,
    actor: str,
    why: str,
    sealer: Sealer,
    now: datetime,
) -> None:
    """The DPO read it and nothing is to be done: erase its content, keep the decision."""
    _require_quarantined(inbound)
    if not actor.strip() or not why.strip():
        raise ValueError("a dismissal needs who decided (--as) and why (--reason)")
    erase_mail(session, inbound, sealer, now)
    inbound.disposition = Disposition.DISMISSED
    decision = f"dismissed by {actor.strip()} on {now:%Y-%m-%d}: {why.strip()}"
    inbound.reason = f"{inbound.reason}; {decision}"[:1000] if inbound.reason else decision[:1000]
    session.add(inbound)


def _require_quarantined(inbound: InboundMessage) -> None:
    if inbound.disposition != Disposition.QUARANTINED:
        raise ReviewRefused(
            f"mail {inbound.id} is {inbound.disposition}, not quarantined: "
            "only a quarantined mail can be retried or dismissed"
        )
