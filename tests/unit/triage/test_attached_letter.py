"""The text of attached letters joins the mail for the classifier: a PDF's text layer,
a scanned PDF and a phone photo (through the real tesseract), a DOCX, an ODT, plain
text. An ID card's words never join; a broken file gives no text and no exception."""

from __future__ import annotations

import shutil

import pytest

from mailbot.letter_files import letter_file
from mailbot.mail.parse import parse_mail
from mailbot.triage.attached_letter import ATTACHED_CHARS, attached_letter
from mailbot.triage.identity import check_documents
from tests.idcards.render import render_sample
from tests.mailfactory import request_mail

LETTER = (
    "Geachte heer, mevrouw,\n\nHierbij vraag ik u om al mijn persoonsgegevens te wissen "
    "en mij niet langer te contacteren.\n\nMet vriendelijke groeten,\nKoen Verbeke"
)
needs_ocr = pytest.mark.skipif(shutil.which("tesseract") is None, reason="needs tesseract")


def _read(*attachments: tuple[str, str, bytes]) -> str:
    mail = parse_mail(request_mail(language="nl", body="Zie bijlage.", attachments=[*attachments]))
    return attached_letter(mail, check_documents(mail))


def _as_attachment(filename: str, text: str = LETTER) -> tuple[str, str, bytes]:
    data, media_type = letter_file(filename, text)
    return filename, media_type, data


@pytest.mark.parametrize("filename", ["brief.pdf", "brief.docx", "verzoek.odt", "brief.txt"])
def test_a_letter_with_its_own_text_is_read_word_for_word(filename: str) -> None:
    text = _read(_as_attachment(filename))
    assert "al mijn persoonsgegevens te wissen" in " ".join(text.split())
    assert text.rstrip().endswith("Koen Verbeke")


@needs_ocr
@pytest.mark.parametrize("filename", ["scan_0042.pdf", "IMG_2231.jpg"])
def test_a_scanned_or_photographed_letter_is_read_by_the_ocr(filename: str) -> None:
    text = " ".join(_read(_as_attachment(filename)).split())
    assert "persoonsgegevens te wissen" in text
    assert "Koen Verbeke" in text


@needs_ocr
def test_the_words_on_an_id_card_never_join_the_letter() -> None:
    card = render_sample(1, "eid_front", "clean", "jpeg", holder=("Peeters", "Anna"))
    text = _read(("id.jpg", card.sniffed_type, card.data), _as_attachment("brief.docx"))
    assert "persoonsgegevens te wissen" in " ".join(text.split())
    assert "Peeters" not in text and "PEETERS" not in text


def test_several_letters_keep_the_mail_s_order_and_a_broken_file_gives_nothing() -> None:
    broken = ("kapot.pdf", "application/pdf", b"%PDF-1.7\n1 0 obj <<< garbage")
    text = _read(broken, _as_attachment("eerste.docx", "Eerste brief."), _as_attachment(
        "tweede.odt", "Tweede brief."))  # fmt: skip
    assert text.split() == ["Eerste", "brief.", "Tweede", "brief."]


def test_the_joined_text_is_capped() -> None:
    text = _read(_as_attachment("lang.docx", "woord " * 20_000))
    assert len(text) == ATTACHED_CHARS
