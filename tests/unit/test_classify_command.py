"""`mailbot classify FILE.eml ... --json`: the DESIGN.md contract other tools parse."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from classifiers import LABELS
from mailbot.cli import app
from tests.idcards.render import render_sample
from tests.mailfactory import PNG_1PX, auto_reply, bounce, request_mail

CONTRACT_KEYS = {
    "file",
    "language",
    "primary",
    "labels",
    "scores",
    "confidence",
    "auto_reply",
    "id_document",
}


def _classify(*files: Path) -> tuple[int, list[dict[str, object]]]:
    result = CliRunner().invoke(app, ["classify", *map(str, files), "--json"])
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return result.exit_code, lines


def test_one_object_per_file_with_the_contract_fields(tmp_path: Path) -> None:
    files = {
        "fr.eml": request_mail(
            language="fr",
            subject="Accès",
            body=("Bonjour, je voudrais recevoir une copie de mes données personnelles. Merci."),
        ),
        "oof.eml": auto_reply(),
        "bounce.eml": bounce(),
        "id.eml": request_mail(language="nl", attachments=[("scan.pdf", "image/png", PNG_1PX)]),
    }
    for name, raw in files.items():
        (tmp_path / name).write_bytes(raw)
    code, rows = _classify(*(tmp_path / name for name in files))
    assert code == 0
    assert [Path(str(row["file"])).name for row in rows] == list(files)
    for row in rows:
        assert set(row) == CONTRACT_KEYS
        assert row["primary"] in LABELS
        assert row["primary"] == row["labels"][0]  # type: ignore[index]
        assert set(row["scores"]) == set(LABELS)  # type: ignore[arg-type]
        assert 0.0 <= float(row["confidence"]) <= 1.0  # type: ignore[arg-type]
        assert set(row["id_document"]) == {"present", "kind", "filename"}  # type: ignore[arg-type]
    fr, oof, bounce_row, with_id = rows
    assert (fr["language"], fr["primary"], fr["auto_reply"]) == ("fr", "access", False)
    assert fr["id_document"] == {"present": False, "kind": "none", "filename": None}
    assert oof["auto_reply"] is True and oof["primary"] == "not_a_request"
    assert bounce_row["auto_reply"] is True and bounce_row["primary"] == "not_a_request"
    # Judged by its bytes: a PNG named .pdf is still an image that may be an ID copy.
    assert with_id["id_document"] == {
        "present": True,
        "kind": "other_document",
        "filename": "scan.pdf",
    }


def test_unreadable_file_is_reported_and_the_rest_still_classified(tmp_path: Path) -> None:
    good = tmp_path / "good.eml"
    good.write_bytes(request_mail(language="de"))
    code, rows = _classify(tmp_path / "missing.eml", good)
    assert code == 1
    assert [Path(str(row["file"])).name for row in rows] == ["good.eml"]


def test_malformed_mail_is_still_read(tmp_path: Path) -> None:
    empty = tmp_path / "empty.eml"
    empty.write_bytes(b"")
    code, rows = _classify(empty)
    assert code == 0
    assert rows[0]["primary"] == "other" and rows[0]["error"] == "empty message"


def test_a_broken_model_is_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = tmp_path / "model"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    monkeypatch.setenv("MAILBOT_MODEL_DIR", str(broken))
    mail = tmp_path / "a.eml"
    mail.write_bytes(request_mail(language="en"))
    result = CliRunner().invoke(app, ["classify", str(mail), "--json"])
    assert result.exit_code == 2
    assert str(broken) in result.stderr
    assert "python -m classifiers.encoder build --force" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_head_is_one_clear_error(tmp_path: Path) -> None:
    from classifiers import ClassifierUnavailable
    from classifiers.trained import load_trained_classifier

    with pytest.raises(ClassifierUnavailable, match=r"python -m classifiers\.train"):
        load_trained_classifier(head_file=tmp_path / "head.json")


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="the ID check reads with tesseract")
def test_id_document_names_what_the_check_read_not_the_file_name(tmp_path: Path) -> None:
    front = render_sample(1, "eid_front", "clean", "jpeg")
    room = render_sample(2, "other_document", "clean", "jpeg", negative="room")
    mails = {
        "front.eml": [("scan.jpg", "image/jpeg", front.data)],
        "room.eml": [("identiteitskaart.jpg", "image/jpeg", room.data)],
        "both.eml": [("a.jpg", "image/jpeg", room.data), ("b.jpg", "image/jpeg", front.data)],
    }
    for name, attachments in mails.items():
        (tmp_path / name).write_bytes(request_mail(language="nl", attachments=attachments))
    code, rows = _classify(*(tmp_path / name for name in mails))
    assert code == 0
    assert [row["id_document"] for row in rows] == [
        {"present": True, "kind": "eid_front", "filename": "scan.jpg"},
        {"present": True, "kind": "other_document", "filename": "identiteitskaart.jpg"},
        {"present": True, "kind": "eid_front", "filename": "b.jpg"},
    ]


ATTACHED_LETTERS = {
    # file name, letter, the right it asks
    "fr": (
        "courrier.pdf",
        "Madame, Monsieur,\n\nJe vous demande de m'envoyer une copie de toutes les données "
        "personnelles que vous conservez à mon sujet, ainsi que leur origine.\n\n"
        "Veuillez agréer mes salutations distinguées.\nClaire Dumont",
        "access",
    ),
    "nl": (
        "brief.docx",
        "Beste,\n\nIk wil dat jullie mijn account en al mijn gegevens volledig verwijderen. "
        "Ik wil niets meer met Jaimy te maken hebben.\n\nGroeten,\nKoen Verbeke",
        "erasure",
    ),
    "de": (
        "IMG_2231.jpg",
        "Sehr geehrte Damen und Herren,\n\nich möchte keine Werbung mehr von Ihnen oder "
        "Ihren Partnern erhalten, weder per E-Mail noch per Telefon.\n\n"
        "Mit freundlichen Grüßen\nJonas Brandt",
        "objection",
    ),
}


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="a photo is read with tesseract")
def test_a_request_in_an_attached_pdf_docx_or_photo_is_classified_by_its_content(
    tmp_path: Path,
) -> None:
    from mailbot.letter_files import letter_file

    names = []
    for language, (filename, letter, _right) in ATTACHED_LETTERS.items():
        data, media_type = letter_file(filename, letter)
        for with_letter in (True, False):
            name = f"{language}-{'letter' if with_letter else 'bare'}.eml"
            attachments = [(filename, media_type, data)] if with_letter else []
            raw = request_mail(
                language=language, subject="Brief", body="Zie bijlage / voir PJ / siehe Anhang",
                attachments=attachments,
            )  # fmt: skip
            (tmp_path / name).write_bytes(raw)
            names.append(name)
    code, rows = _classify(*(tmp_path / name for name in names))
    assert code == 0
    by_file = {Path(str(row["file"])).stem: row for row in rows}
    for language, (_filename, _letter, right) in ATTACHED_LETTERS.items():
        read = by_file[f"{language}-letter"]
        assert (read["primary"], read["language"]) == (right, language)
        # Without the letter the same mail names no right: the attachment decided.
        assert by_file[f"{language}-bare"]["primary"] not in (right,)
