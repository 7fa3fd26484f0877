"""Work the clock brings, done by the worker every round: ID reminders, closing cases
whose ID never came, warning the DPO before a legal deadline, deleting the ID copies a
case no longer needs (it closed, or was answered, while one waited), purging old cases.

`due_work` decides from a case and the time alone (pure); `run_scheduled_work` does it,
one transaction per case, so a crash repeats nothing that was committed, and a case the
DPO moves on meanwhile (its version, mailbot.cases.models) is decided again next round.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Engine, and_, func, not_, or_
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, select

from mailbot.cases.audit import append_event
from mailbot.cases.deadlines import receipt_date
from mailbot.cases.lifecycle import acted_on, current_due, transition
from mailbot.cases.models import Case, CaseStatus, OutboundMessage, OutboundStatus
from mailbot.cases.retention import purge_caseless_mails, purge_closed_cases
from mailbot.cases.verification import ID_COPY_KINDS
from mailbot.config import Settings
from mailbot.database import transaction
from mailbot.handling.decide import still_owes_an_id
from mailbot.handling.id_copies import keeps_id_copies
from mailbot.handling.plan import DiscardIdCopies, Note, Step
from mailbot.handling.record import apply_steps
from mailbot.mail.compose import new_message_id
from mailbot.pipeline import Bot
from mailbot.replies.drafts import draft_reply, letters_of
from mailbot.store.models import Attachment, InboundMessage

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Timing:
    id_reminder_days: int
    id_close_days: int
    dpo_warning_days: int

    @classmethod
    def of(cls, settings: Settings) -> Timing:
        return cls(settings.id_reminder_days, settings.id_close_days, settings.dpo_warning_days)


def due_work(case: Case, now: datetime, timing: Timing, drafted: frozenset[str]) -> list[str]:
    """What the clock asks of `case` now: id_reminder, not_identified, dpo_warning."""
    work = []
    waiting_since = waits_for_id_since(case)
    if waiting_since is not None and case.id_requested_at is not None:
        reminder_due = now - case.id_requested_at >= timedelta(days=timing.id_reminder_days)
        asking = case.status == CaseStatus.AWAITING_IDENTITY  # reminded once, while asking
        if asking and case.id_reminded_at is None and reminder_due:
            work.append("id_reminder")
        closure_due = now - waiting_since >= timedelta(days=timing.id_close_days)
        if closure_due and "not_identified" not in drafted:
            work.append("not_identified")
    open_case = case.status not in (CaseStatus.CLOSED, CaseStatus.ANSWERED)
    warn_from = current_due(case) - timedelta(days=timing.dpo_warning_days)
    # Warned once per deadline: an extension moves it, and the new one is warned again.
    warned_for_it = case.dpo_warned_at is not None and receipt_date(case.dpo_warned_at) >= warn_from
    if open_case and not warned_for_it and receipt_date(now) >= warn_from:
        work.append("dpo_warning")
    return work


def waits_for_id_since(case: Case) -> datetime | None:
    """Since when the clock counts the wait for an ID copy that ends in the "not
    identified" closure: the request, or the DPO's last rejection of that closure (they
    chose to wait longer: handling.decide.still_owes_an_id). None: no copy is awaited;
    one under the DPO's review is not missing."""
    if case.id_requested_at is None or case.id_received_at is not None:
        return None
    if case.status == CaseStatus.AWAITING_IDENTITY or still_owes_an_id(case):
        # A back alone may come before the request left: the later moment counts.
        return max(case.id_wait_renewed_at or case.id_requested_at, case.id_requested_at)
    return None


def may_be_due(now: datetime, timing: Timing) -> ColumnElement[bool]:
    """Which open cases `due_work` could find work in now: every one it would (a test
    holds it to that), and few besides. The rest cannot have any, and reading every
    open case at every round cost a backlog's rounds seconds each."""
    horizon = receipt_date(now) + timedelta(days=timing.dpo_warning_days)
    asked_before = now - timedelta(days=min(timing.id_reminder_days, timing.id_close_days))
    close_before = now - timedelta(days=timing.id_close_days)
    return and_(
        col(Case.status).not_in([CaseStatus.CLOSED, CaseStatus.ANSWERED]),
        or_(
            # The deadline held to is the legal or the extended one: warned before either.
            col(Case.legal_due) <= horizon,
            col(Case.extended_due) <= horizon,
            and_(
                col(Case.status) == CaseStatus.AWAITING_IDENTITY,
                col(Case.id_requested_at) <= asked_before,
            ),
            # Still owed after the DPO rejected the closure to wait longer.
            and_(
                col(Case.status).in_([CaseStatus.IN_PROGRESS, CaseStatus.AWAITING_APPROVAL]),
                col(Case.id_received_at).is_(None),
                col(Case.identity_verified).is_(None),
                func.coalesce(col(Case.id_wait_renewed_at), col(Case.id_requested_at))
                <= close_before,
            ),
        ),
    )


def run_scheduled_work(engine: Engine, bot: Bot, now: datetime) -> None:
    """Everything due now, one transaction per case."""
    timing = Timing.of(bot.settings)
    with transaction(engine) as session:
        open_ids = session.exec(select(Case.id).where(may_be_due(now, timing))).all()
    for case_id in open_ids:
        try:
            with transaction(engine) as session:
                case = session.get_one(Case, case_id)
                for work in due_work(case, now, timing, letters_of(session, case)):
                    _do(session, case, work, bot, now)
        except StaleDataError:
            # The DPO moved the case on meanwhile: nothing was written, and the next
            # round decides again what is due on what the case has become.
            log.info("case %s changed during its scheduled work; left for the next round", case_id)
    settle_id_copies_done_with(engine, bot, now)
    try:
        with transaction(engine) as session:
            purged = purge_closed_cases(session, bot.sealer, now, bot.settings.retention_days)
            erased = purge_caseless_mails(session, bot.sealer, now, bot.settings.retention_days)
    except StaleDataError:
        log.info("a case changed while old cases were purged; the purge waits for the next round")
        return
    if purged or erased:
        log.info("past retention: purged %d closed case(s), %d other mail(s)", len(purged), erased)


def done_with_id_copies() -> ColumnElement[bool]:
    """The cases `keeps_id_copies` lets go of, in SQL (a test holds the two equal): the
    round reads only those, not every case rightly keeping a copy."""
    review = and_(
        col(Case.id_copy_in_review).is_(True),
        col(Case.status).not_in([CaseStatus.ANSWERED, CaseStatus.CLOSED]),
    )
    reading = and_(
        col(Case.needs_triage).is_(True),
        col(Case.status).in_([CaseStatus.NEW, CaseStatus.IN_PROGRESS]),
    )
    return not_(and_(col(Case.identity_verified).is_(None), or_(review, reading)))


def settle_id_copies_done_with(engine: Engine, bot: Bot, now: datetime) -> None:
    """Delete the ID copies of cases that no longer wait for them (LEGAL.md §2.5). Each
    mail's handling and each of the DPO's decisions settles them as it goes; a case can
    still move on without either (closed by its letter while a copy waited for the
    DPO's eye or reading), and this catches every such case, one transaction each."""
    with transaction(engine) as session:
        holding = session.exec(
            select(Case.id)
            .join(InboundMessage, col(InboundMessage.case_id) == col(Case.id))
            .join(Attachment, col(Attachment.inbound_id) == col(InboundMessage.id))
            .where(col(Attachment.purged_at).is_(None))
            .where(col(Attachment.kind).in_(ID_COPY_KINDS))
            .where(done_with_id_copies())
            .distinct()
        ).all()
    for case_id in holding:
        try:
            with transaction(engine) as session:
                case = session.get_one(Case, case_id)
                if keeps_id_copies(case):
                    continue  # moved on since the selection
                acted_on(case)  # decided from its status: a case moved on meanwhile refuses
                why = {"status": str(case.status), "identity_verified": case.identity_verified}
                steps: list[Step] = [Note("id_copies_no_longer_needed", why), DiscardIdCopies()]
                apply_steps(session, case, steps, bot.handling, now)
        except StaleDataError:
            log.info("case %s changed as its ID copies were settled; next round", case_id)
        except Exception as exc:  # one case's damaged mail must not stop sending and purging
            kind = type(exc).__name__
            log.error("ID copies of case %s not deleted (%s); next round", case_id, kind)


def _do(session: Session, case: Case, work: str, bot: Bot, now: datetime) -> None:
    assert case.id is not None
    letterhead = bot.handling.letterhead
    if work == "id_reminder":
        since = waits_for_id_since(case)  # a card's back may have renewed the wait
        assert since is not None and case.id_requested_at and case.doubt_reason is not None
        closes_on = receipt_date(since) + timedelta(days=bot.settings.id_close_days)
        extra = {
            "doubt_reason": case.doubt_reason,
            "id_requested_on": receipt_date(case.id_requested_at),
            "closes_on": closes_on,
        }
        draft_reply(session, case, "id_reminder", extra, letterhead)
        case.id_reminded_at = now
    elif work == "not_identified":
        draft_reply(session, case, "not_identified", {}, letterhead)
        transition(session, case, CaseStatus.AWAITING_APPROVAL, "bot", "no ID copy arrived")
    elif work == "dpo_warning":
        case.dpo_warned_at = now
        append_event(session, case.id, "dpo_warned", "bot", {"due": current_due(case).isoformat()})
        if bot.settings.dpo_address:
            session.add(_warning(case, bot.settings.dpo_address, letterhead.message_id_domain))
    session.add(case)


def _warning(case: Case, dpo_address: str, domain: str) -> OutboundMessage:
    due = current_due(case).isoformat()
    assert case.id is not None
    return OutboundMessage(
        case_id=case.id,
        kind="dpo_warning",
        template="dpo_warning",
        language="en",
        status=OutboundStatus.QUEUED,
        to_address=dpo_address,
        subject=f"[{case.reference}] due {due}: still {case.status}",
        body=(
            f"Case {case.reference} must be answered by {due} (Brussels) and is still"
            f" {case.status}.\nSee `mailbot cases show {case.reference}` and"
            " `mailbot drafts list`.\n"
        ),
        message_id=new_message_id(case.reference, domain),
        approved_by="automatic",
    )
