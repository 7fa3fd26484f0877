"""The dashboard's sums on PostgreSQL equal `mailbot report`'s walk over the same cases
(the SQL of mailbot.figures is written once for both dialects)."""

from __future__ import annotations

from datetime import date

from mailbot.database import migrate
from mailbot.figure_tables import period_figures
from mailbot.figures import dashboard
from mailbot.metrics import sla_figures
from mailbot.reports import load_facts
from mailbot.sealing import load_sealer
from mailbot.store.models import bind_sealer
from tests.conftest import TEST_DATA_KEY
from tests.integration.test_postgres import fresh_engine
from tests.servers.postgres import Postgres
from tests.unit.test_figures import NOW, realistic_cases


def test_the_sums_equal_the_reference_on_postgres(postgres: Postgres) -> None:
    engine = fresh_engine(postgres, "figures")
    try:
        migrate(engine)
        bind_sealer(engine, load_sealer(TEST_DATA_KEY, None))  # names and letters are sealed
        realistic_cases(engine)
        first, last = date(2026, 3, 1), date(2026, 5, 31)
        facts, copies = load_facts(engine, first, last)
        reference = sla_figures(facts, copies, NOW, first, last).as_json()
        assert period_figures(engine, first, last, NOW).as_json() == reference
        board = dashboard(engine, first, last, NOW)
        assert sum(week.received for week in board.weeks) == reference["cases"]
        assert board.open_now.overdue == len(reference["open_overdue"])
    finally:
        engine.dispose()
