"""The bot on PostgreSQL (MAILBOT_DATABASE_URL=postgresql+psycopg://...), not only SQLite.

A throwaway cluster (tests.servers.postgres, the `postgres` fixture of conftest.py) runs
for the whole test run. The migrations must build the models' schema there, and the
whole worker (Maildir -> pipeline -> outbox -> SMTP sink)
must store cases, instants, large IMAP UIDs and the audit chain so they read back intact.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import getaddresses
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlmodel import SQLModel, col, select

import mailbot.cases.models
import mailbot.staff.models  # noqa: F401
from mailbot.cases.audit import verify_chain
from mailbot.cases.models import Case, CaseEvent
from mailbot.config import Settings
from mailbot.database import alembic_config, migrate, open_engine, transaction
from mailbot.lease import WorkerAlreadyRunning, worker_lease
from mailbot.reports import status_counts
from mailbot.runtime import open_worker
from mailbot.store.ingest import message_key
from mailbot.store.models import InboundMessage, MailboxCursor
from tests.mailfactory import auto_reply, bounce, request_mail
from tests.servers.mailservers import SmtpSink
from tests.servers.postgres import Postgres

REQUEST_LANGUAGES = ("nl", "fr", "de", "en")
# Fixed arrival instants with microseconds, an hour apart, well inside one year everywhere.
FIRST_ARRIVAL = datetime(2026, 11, 16, 8, 30, 15, 123456, tzinfo=UTC)


def fresh_engine(postgres: Postgres, purpose: str) -> Engine:
    """An engine on a database of its own, so no test sees another's rows."""
    return open_engine(postgres.create_database(f"{purpose}_{secrets.token_hex(4)}"))


@dataclass(frozen=True)
class WorkerRun:
    engine: Engine
    sink: SmtpSink
    requesters: frozenset[str]
    arrival_of: dict[str, datetime]  # message key -> when the file reached the Maildir


def write_maildir(directory: Path, mails: list[bytes]) -> dict[str, datetime]:
    """Files the mails in new/ with known arrival times (the file times the source reads)."""
    for sub in ("new", "cur", "tmp"):
        (directory / sub).mkdir(parents=True)
    arrival_of = {}
    for n, raw in enumerate(mails):
        arrival = FIRST_ARRIVAL + timedelta(hours=n)
        path = directory / "new" / f"{n:02d}.synthetic"
        path.write_bytes(raw)
        stamp = int(arrival.timestamp()) * 1_000_000_000 + arrival.microsecond * 1000
        os.utime(path, ns=(stamp, stamp))
        arrival_of[message_key(raw)] = arrival
    return arrival_of


@pytest.fixture
def worker_run(postgres: Postgres, smtp_sink: SmtpSink, tmp_path: Path) -> Iterator[WorkerRun]:
    """One worker round over four requests, an auto-reply and a bounce, on PostgreSQL."""
    requesters = [
        f"Tester {lang.upper()} <tester-{lang}@example.org>" for lang in REQUEST_LANGUAGES
    ]
    requests = [
        request_mail(sender=sender, language=lang)
        for sender, lang in zip(requesters, REQUEST_LANGUAGES, strict=True)
    ]
    arrival_of = write_maildir(tmp_path / "inbox", [*requests, auto_reply(), bounce()])
    database_url = postgres.create_database(f"worker_{secrets.token_hex(4)}")
    settings = Settings(
        classifier="baseline",
        maildir=tmp_path / "inbox",
        smtp_url=smtp_sink.url,
        database_url=database_url,
        data_dir=tmp_path,
    )
    worker = open_worker(settings)
    asyncio.run(worker.run(once=True))
    addresses = frozenset(address for _, address in getaddresses(requesters))
    yield WorkerRun(worker.engine, smtp_sink, addresses, arrival_of)
    worker.engine.dispose()


def test_migrations_build_exactly_the_models_schema(postgres: Postgres) -> None:
    engine = fresh_engine(postgres, "schema")
    try:
        migrate(engine)
        migrate(engine)  # every start runs it again
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, SQLModel.metadata)
            current = context.get_current_heads()
        head = ScriptDirectory.from_config(alembic_config(engine)).get_heads()
    finally:
        engine.dispose()
    assert differences == [], "the migrations and the models disagree on PostgreSQL"
    assert current == tuple(head)


def test_worker_opens_a_case_and_acknowledges_each_request(worker_run: WorkerRun) -> None:
    with transaction(worker_run.engine) as session:
        cases = session.exec(select(Case).order_by(col(Case.id))).all()
    year = FIRST_ARRIVAL.year
    assert [case.reference for case in cases] == [
        f"JAIMY-PRIV-{year}-{n:04d}" for n in range(1, len(REQUEST_LANGUAGES) + 1)
    ]
    assert sorted(case.language for case in cases) == sorted(REQUEST_LANGUAGES)
    acknowledgements = worker_run.sink.wait_for(len(REQUEST_LANGUAGES))
    assert len(acknowledgements) == len(REQUEST_LANGUAGES)
    recipients = {address for _, address in getaddresses([str(m["To"]) for m in acknowledgements])}
    assert recipients == worker_run.requesters
    for case in cases:
        assert any(case.reference in str(m["Subject"]) for m in acknowledgements), case.reference
    assert status_counts(worker_run.engine) == {
        "inbound": len(worker_run.arrival_of),
        "cases": len(REQUEST_LANGUAGES),
        "outbox": {"sent": len(REQUEST_LANGUAGES), "queued": 0, "failed": 0},
        "quarantined": 0,
        "sending": {"state": "sending", "reason": None, "since": None, "until": None},
    }


def test_arrival_instants_come_back_exact_and_in_utc(worker_run: WorkerRun) -> None:
    with transaction(worker_run.engine) as session:
        zone = session.connection().exec_driver_sql("SHOW TimeZone").scalar()
        inbound = session.exec(select(InboundMessage)).all()
        cases = session.exec(select(Case)).all()
    assert zone != "UTC", "the cluster should run in a local zone to catch shifted instants"
    stored = {row.message_key: row.received_at for row in inbound}
    assert stored == worker_run.arrival_of
    assert all(at.utcoffset() == timedelta(0) for at in stored.values())
    # A case's legal clock starts when the mail that opened it arrived.
    opened_by = {row.case_id: row.received_at for row in inbound if row.case_id is not None}
    assert {case.id: case.received_at for case in cases} == opened_by
    assert len(opened_by) == len(REQUEST_LANGUAGES)


def test_the_audit_chain_recomputes_from_what_postgres_returns(worker_run: WorkerRun) -> None:
    with transaction(worker_run.engine) as session:
        events = session.exec(select(CaseEvent).order_by(col(CaseEvent.id))).all()
    assert {event.kind for event in events} >= {"case_opened", "reply_queued"}
    assert verify_chain(events) is None


def test_imap_uids_above_two_to_the_31_fit(postgres: Postgres) -> None:
    engine = fresh_engine(postgres, "uids")
    try:
        migrate(engine)
        label = "imap://bot@imap.example.test:993/INBOX"
        with transaction(engine) as session:
            session.add(
                MailboxCursor(source=label, uidvalidity=4_000_000_000, last_uid=3_000_000_000)
            )
        with transaction(engine) as session:
            cursor = session.exec(select(MailboxCursor).where(MailboxCursor.source == label)).one()
    finally:
        engine.dispose()
    assert (cursor.uidvalidity, cursor.last_uid) == (4_000_000_000, 3_000_000_000)


def test_only_one_worker_holds_the_lease_on_a_postgres_database(postgres: Postgres) -> None:
    url = postgres.create_database(f"lease_{secrets.token_hex(4)}")
    first, second = open_engine(url), open_engine(url)
    with worker_lease(first), pytest.raises(WorkerAlreadyRunning), worker_lease(second):
        pass
    with worker_lease(second):  # released when the first lease ended
        pass


def test_a_person_acting_on_a_case_the_worker_moved_on_meanwhile_is_refused(
    postgres: Postgres,
) -> None:
    """Under READ COMMITTED a transaction reads what others committed since its last
    statement, and an UPDATE from an older read would win. The version a case's write
    names makes it fail instead: the person's action is refused, the worker's change
    stays (mailbot.cases.models)."""
    from mailbot.actions import CaseChanged, acting
    from mailbot.cases.models import CaseStatus
    from tests.casefactory import new_case

    engine = fresh_engine(postgres, "version")
    migrate(engine)
    with transaction(engine) as session:
        case = new_case(FIRST_ARRIVAL, requester_name="", needs_triage=True)
        session.add(case)
    with pytest.raises(CaseChanged), acting(engine) as person:
        mine = person.get_one(Case, case.id)
        with transaction(engine) as worker:  # the acknowledgement goes out meanwhile
            worker.get_one(Case, case.id).status = CaseStatus.IN_PROGRESS
        mine.needs_triage = False  # the person's decision, from the case as read
    with transaction(engine) as session:
        row = session.get_one(Case, case.id)
    assert (row.status, row.needs_triage, row.version) == (CaseStatus.IN_PROGRESS, True, 2)
    engine.dispose()
