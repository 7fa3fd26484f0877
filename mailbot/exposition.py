"""What /metrics tells Prometheus: the bot's state, read from the database at each scrape.

Every figure comes from rows, so the web app (any of its processes) reports the worker's
work without talking to it. Labels are fixed words (a disposition, a reply status, a
band of days); no figure ever carries an address, a name, a reference or a mail's text.

* `mailbot_mails{disposition}`: mails stored, by what became of them (pending,
  case_opened, quarantined, ...).
* `mailbot_replies{status}`: the outbox; `mailbot_oldest_queued_reply_age_seconds`.
* `mailbot_worker_last_round_age_seconds`: since the worker last finished a round with
  the mail source answering (absent before its first); `mailbot_worker_leader{worker}`:
  which worker (host:pid) leads, with a standby beside it.
* `mailbot_cases_open{days_left}`: open cases by days to their legal deadline
  (`overdue`, `0-2`, `3-7`, `8-14`, `15+`) and `paused` while the ID copy is awaited.
* `mailbot_acknowledgement_seconds`: histogram of receipt to first answer.
* `mailbot_id_copies_held{waiting_for}` and `mailbot_oldest_id_copy_age_seconds
  {waiting_for}`: ID copies kept, by what they wait for: `identity_check` (the DPO's
  eye), `reading` (the DPO's reading of a triaged case), `nothing` (the worker's next
  round deletes them; lasting, it is not running).
* On the worker's own endpoint only (`MAILBOT_WORKER_METRICS_PORT`, for deployments
  without the web app): `mailbot_classification_seconds`, a histogram of the time the
  classifier takes per mail (a batch's time shared by its mails).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Final, NamedTuple

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func
from sqlalchemy import select as columns_of  # sqlmodel's select types four at most
from sqlmodel import Session, col, select

from mailbot.cases.deadlines import BRUSSELS
from mailbot.cases.models import Case, CaseStatus, OutboundMessage, OutboundStatus, WorkerState
from mailbot.cases.timeliness import due_for
from mailbot.cases.verification import ID_COPY_KINDS
from mailbot.handling.id_copies import why_id_copies_kept
from mailbot.store.models import Attachment, Disposition, InboundMessage

ACKNOWLEDGEMENT_BUCKETS: Final = (60.0, 300.0, 900.0, 3600.0, 4 * 3600.0, 86400.0, 3 * 86400.0)
DAY_BANDS: Final = ((0, "0-2"), (3, "3-7"), (8, "8-14"), (15, "15+"))


class BotCollector(Collector):
    """The figures above, computed when Prometheus asks."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.clock = clock

    def collect(self) -> Iterator[Metric]:
        now = self.clock()
        with Session(self.engine) as session:
            yield from _mails(session)
            yield from _outbox(session, now)
            yield from _worker(session, now)
            yield from _open_cases(session, now)
            yield from _acknowledgements(session)
            yield from _id_copies(session, now)


def _mails(session: Session) -> Iterator[Metric]:
    family = GaugeMetricFamily(
        "mailbot_mails", "Mails stored, by disposition", labels=["disposition"]
    )
    counts = dict(
        session.exec(
            select(InboundMessage.disposition, func.count()).group_by(
                col(InboundMessage.disposition)
            )
        ).all()
    )
    for disposition in Disposition:  # every one, 0 included: alerts need the series
        family.add_metric([disposition.value], counts.get(disposition.value, 0))
    yield family


def _outbox(session: Session, now: datetime) -> Iterator[Metric]:
    family = GaugeMetricFamily("mailbot_replies", "Replies, by status", labels=["status"])
    counts = dict(
        session.exec(
            select(OutboundMessage.status, func.count()).group_by(col(OutboundMessage.status))
        ).all()
    )
    for status in OutboundStatus:
        family.add_metric([status.value], counts.get(status.value, 0))
    yield family
    oldest = session.exec(
        select(func.min(OutboundMessage.created_at)).where(
            OutboundMessage.status == OutboundStatus.QUEUED
        )
    ).one()
    yield GaugeMetricFamily(
        "mailbot_oldest_queued_reply_age_seconds",
        "Age of the oldest reply waiting to be sent (0: none waits)",
        value=_age(now, oldest),
    )


def _worker(session: Session, now: datetime) -> Iterator[Metric]:
    state = session.get(WorkerState, 1)
    if state is None:
        return
    yield GaugeMetricFamily(
        "mailbot_worker_last_round_age_seconds",
        "Seconds since the worker last finished a round with the mail source answering",
        value=_age(now, state.last_round_at),
    )
    leader = GaugeMetricFamily(
        "mailbot_worker_leader", "The worker that leads (host:pid)", labels=["worker"]
    )
    leader.add_metric([state.leader], 1)
    yield leader


def _open_cases(session: Session, now: datetime) -> Iterator[Metric]:
    today = now.astimezone(BRUSSELS).date()
    bands: Counter[str] = Counter()
    for case in session.exec(select(Case).where(Case.status != CaseStatus.CLOSED)).all():
        if case.clock_paused:
            bands["paused"] += 1
            continue
        left = (due_for(case, now) - today).days
        bands["overdue" if left < 0 else _band(left)] += 1
    family = GaugeMetricFamily(
        "mailbot_cases_open", "Open cases by days to their legal deadline", labels=["days_left"]
    )
    for band in ("overdue", *(name for _, name in DAY_BANDS), "paused"):
        family.add_metric([band], bands[band])
    yield family


def _band(days_left: int) -> str:
    return [name for start, name in DAY_BANDS if days_left >= start][-1]


def _acknowledgements(session: Session) -> Iterator[Metric]:
    seconds = session.exec(
        select(Case.acknowledge_seconds).where(col(Case.acknowledge_seconds).is_not(None))
    ).all()
    buckets = [
        (f"{bound:g}", sum(1 for s in seconds if s is not None and s <= bound))
        for bound in ACKNOWLEDGEMENT_BUCKETS
    ]
    yield HistogramMetricFamily(
        "mailbot_acknowledgement_seconds",
        "Time from a request's receipt to its first answer",
        buckets=[*buckets, ("+Inf", len(seconds))],
        sum_value=float(sum(s for s in seconds if s is not None)),
    )


ID_COPIES_WAIT_FOR: Final = ("identity_check", "reading", "nothing")


class _Holder(NamedTuple):
    """The columns of the case holding a copy that decide what it waits for."""

    status: str
    needs_triage: bool
    identity_verified: bool | None
    id_copy_in_review: bool
    id_received_at: datetime | None


def _id_copies(session: Session, now: datetime) -> Iterator[Metric]:
    held = session.execute(
        columns_of(
            col(InboundMessage.received_at),
            col(Case.status),
            col(Case.needs_triage),
            col(Case.identity_verified),
            col(Case.id_copy_in_review),
            col(Case.id_received_at),
        )
        .join(Attachment, col(Attachment.inbound_id) == col(InboundMessage.id))
        .outerjoin(Case, col(Case.id) == col(InboundMessage.case_id))
        .where(col(Attachment.purged_at).is_(None))
        .where(col(Attachment.kind).in_(ID_COPY_KINDS))
    ).all()
    waiting_since: dict[str, list[datetime]] = {why: [] for why in ID_COPIES_WAIT_FOR}
    for received_at, *columns in held:
        holder = _Holder(*columns) if columns[0] is not None else None
        why = why_id_copies_kept(holder)
        # Under the DPO's check since it was found to need one (IdReceived), not since
        # the mail came: a copy that waited for the reading first is not late for it.
        since = holder.id_received_at if holder and why == "identity_check" else None
        waiting_since[why].append(since or received_at)
    count = GaugeMetricFamily(
        "mailbot_id_copies_held", "ID copies kept, by what they wait for", labels=["waiting_for"]
    )
    oldest = GaugeMetricFamily(
        "mailbot_oldest_id_copy_age_seconds",
        "Age of the oldest ID copy kept, by what it waits for (0: none)",
        labels=["waiting_for"],
    )
    for why, times in waiting_since.items():
        count.add_metric([why], len(times))
        oldest.add_metric([why], _age(now, min(times) if times else None))
    yield count
    yield oldest


def _age(now: datetime, then: datetime | None) -> float:
    return max((now - then).total_seconds(), 0.0) if then is not None else 0.0


CLASSIFICATION_BUCKETS: Final = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


def worker_registry(
    engine: Engine, clock: Callable[[], datetime]
) -> tuple[CollectorRegistry, Histogram]:
    """The worker's registry: the database's figures and its classification times."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(BotCollector(engine, clock))
    seconds = Histogram(
        "mailbot_classification_seconds",
        "Time the classifier takes per mail",
        buckets=CLASSIFICATION_BUCKETS,
        registry=registry,
    )
    return registry, seconds
