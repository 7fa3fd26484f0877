"""The DPO's readings the classifier learns from: settling a triaged case or correcting
a sure case's rights keeps the text the classifier read, sealed, with both readings;
retention takes it with the case; the records are training data as classifiers/data has
them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from classifiers.dataset import load_files
from mailbot.cases.corrections import training_records
from mailbot.cases.models import ReadingCorrection, Suppression
from mailbot.cases.retention import purge_case
from mailbot.letter_files import DOCX_TYPE, docx, pdf_with_text
from mailbot.store.models import SEALED_PREFIX, utcnow
from mailbot.web.context import WebContext
from mailbot.worker import Worker
from tests.mailfactory import request_mail
from tests.unit.web.conftest import (
    PEOPLE,
    case_named,
    csrf_of,
    delivered,
    drafts_of,
    events_of,
    signed_in_as,
)
from tests.unit.web.test_case_actions import ANNA, VAGUE, page_of, post

CLEAR = "Verwijder al mijn gegevens uit jullie systeem, alstublieft."


def corrections(context: WebContext) -> list[ReadingCorrection]:
    with Session(context.engine) as session:
        rows = session.exec(select(ReadingCorrection)).all()
        session.expunge_all()
        return list(rows)


def test_a_settled_triage_is_kept_sealed_as_training_data(
    context: WebContext, worker: Worker, tmp_path: Path
) -> None:
    letter = docx("Ik wil graag weten welke gegevens jullie over mij bewaren.")
    mail = request_mail(
        sender=ANNA, language="nl", subject="Vraag", body=VAGUE,
        attachments=[("brief.docx", DOCX_TYPE, letter)],
    )  # fmt: skip
    case = delivered(worker, mail)
    dpo = signed_in_as(context, "dpo")
    post(dpo, case, "decide", csrf_of(page_of(dpo, case)), primary="access", rights="erasure")

    (kept,) = corrections(context)
    assert (kept.case_id, kept.actor) == (case.id, PEOPLE["dpo"])
    assert (kept.bot_labels, kept.labels, kept.language) == ("other", "access erasure", "nl")
    assert kept.subject == "Vraag"
    assert VAGUE in kept.text and "welke gegevens jullie over mij bewaren" in kept.text
    with context.engine.connect() as connection:
        stored = connection.execute(text("SELECT subject, text FROM reading_correction")).one()
    assert all(value.startswith(SEALED_PREFIX) for value in stored)  # never in the clear

    with Session(context.engine) as session:
        records = training_records(session)
    file = tmp_path / "corrections.jsonl"
    file.write_text("\n".join(json.dumps(r) for r in records), "utf-8")
    (example,) = load_files([file])
    assert (example.primary, example.labels, example.language) == (
        "access", ("access", "erasure"), "nl")  # fmt: skip
    assert example.body == kept.text


def test_correcting_a_sure_case_changes_its_reading_and_keeps_the_letters(
    context: WebContext, worker: Worker
) -> None:
    case = delivered(worker, request_mail(sender=ANNA, language="nl", subject="Weg", body=CLEAR))
    assert (case.needs_triage, case.primary) == (False, "erasure")
    drafted = [d.kind for d in drafts_of(context, case.id)]
    dpo = signed_in_as(context, "dpo")
    page = page_of(dpo, case)
    assert "Correct the rights" in page
    post(dpo, case, "decide", csrf_of(page), primary="objection", rights="erasure")

    corrected = case_named(context, case.reference)
    assert (corrected.primary, corrected.labels) == ("objection", "objection erasure")
    (event,) = events_of(context, case.id, "reading_corrected")
    assert event.actor == PEOPLE["dpo"]
    assert json.loads(event.data) == {"from": ["erasure"], "to": ["objection", "erasure"]}
    # The objection it brings in stops marketing now, confirmed by a letter; the rest stays.
    assert [d.kind for d in drafts_of(context, case.id)] == [*drafted, "objection_done"]
    with Session(context.engine) as session:
        stopped = session.exec(select(Suppression)).one()
    assert (stopped.address, stopped.reason) == ("anna.peeters@example.org", "objection")
    (kept,) = corrections(context)
    assert (kept.bot_labels, kept.labels) == ("erasure", "objection erasure")

    # Corrected again: the one correction of the case holds the latest reading, and what
    # the classifier said.
    post(dpo, case, "decide", csrf_of(page_of(dpo, case)), primary="not_a_request",
         rights="erasure")  # fmt: skip
    assert case_named(context, case.reference).labels == "not_a_request"
    (kept,) = corrections(context)
    assert (kept.bot_labels, kept.labels) == ("erasure", "not_a_request")


def test_the_same_reading_again_is_refused(context: WebContext, worker: Worker) -> None:
    case = delivered(worker, request_mail(sender=ANNA, language="nl", subject="Weg", body=CLEAR))
    dpo = signed_in_as(context, "dpo")
    post(dpo, case, "decide", csrf_of(page_of(dpo, case)), primary="erasure")
    assert "is read as erasure already" in page_of(dpo, case)
    assert corrections(context) == []
    assert events_of(context, case.id, "reading_corrected") == []


def test_retention_takes_the_correction_with_the_case(context: WebContext, worker: Worker) -> None:
    case = delivered(worker, request_mail(sender=ANNA, language="nl", subject="Weg", body=CLEAR))
    dpo = signed_in_as(context, "dpo")
    post(dpo, case, "decide", csrf_of(page_of(dpo, case)), primary="objection")
    assert len(corrections(context)) == 1
    with Session(context.engine) as session:
        purge_case(session, case_named(context, case.reference), worker.bot.sealer, utcnow())
        session.commit()
    assert corrections(context) == []


ID_CARD_TEXT = (
    "BELGIE BELGIQUE BELGIEN BELGIUM\nIDENTITEITSKAART CARTE D'IDENTITE PERSONALAUSWEIS "
    "IDENTITY CARD\nNaam / Name\nPEETERS\nVoornamen / Given names\nAnna Maria\n"
    "Geslacht / Sex  V/F\nNationaliteit / Nationality  BEL\nGeboortedatum / Date of birth  "
    "01 01 1980\nKaartnummer / Card No  592-1234567-89\nGeldig van - tot / Valid from - until"
)


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="the ID check reads with tesseract")
def test_an_id_card_with_a_text_layer_never_becomes_training_data(
    context: WebContext, worker: Worker
) -> None:
    card = pdf_with_text(ID_CARD_TEXT)
    mail = request_mail(
        sender=ANNA, language="nl", subject="Vraag", body=VAGUE,
        attachments=[("kaart.pdf", "application/pdf", card)],
    )  # fmt: skip
    case = delivered(worker, mail)
    dpo = signed_in_as(context, "dpo")
    post(dpo, case, "decide", csrf_of(page_of(dpo, case)), primary="access")
    (kept,) = corrections(context)
    assert VAGUE in kept.text
    assert "PEETERS" not in kept.text and "592-1234567-89" not in kept.text
