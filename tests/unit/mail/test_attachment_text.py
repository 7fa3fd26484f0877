"""Reading the text of an attached letter (mailbot.mail.attachment_text): a PDF's text
layer, DOCX, ODT; broken and hostile files give a note, never an exception."""

from __future__ import annotations

import io
import zipfile

from mailbot.letter_files import pdf_with_text
from mailbot.mail.attachment_text import TextLimits, attachment_text

LETTER = "Geachte, ik vraag u al mijn gegevens te wissen."


def zipped(part: str, xml: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(part, xml)
    return buffer.getvalue()


def docx(paragraphs: list[str]) -> bytes:
    body = "".join(
        f"<w:p><w:r><w:t>{text[:10]}</w:t></w:r><w:r><w:t>{text[10:]}</w:t></w:r></w:p>"
        for text in paragraphs
    )
    xml = (
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        f"<w:body>{body}</w:body></w:document>"
    )
    return zipped("word/document.xml", xml)


def odt(paragraphs: list[str]) -> bytes:
    body = "".join(f"<text:p>{text}</text:p>" for text in paragraphs)
    xml = (
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:'
        'office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0">'
        f"<office:body><office:text><text:h>Brief</text:h>{body}</office:text></office:body>"
        "</office:document-content>"
    )
    return zipped("content.xml", xml)


def test_a_pdf_letter_is_read_from_its_text_layer() -> None:
    read = attachment_text(pdf_with_text("Geachte,\nik vraag u al mijn gegevens te wissen."),
                           "application/pdf")  # fmt: skip
    assert "Geachte," in read.text and "gegevens te wissen" in read.text
    assert read.note is None


def test_a_docx_letter_is_read_paragraph_by_paragraph() -> None:
    read = attachment_text(docx([LETTER, "Met vriendelijke groeten"]), "application/zip")
    assert read.text.splitlines() == [LETTER, "Met vriendelijke groeten"]


def test_an_odt_letter_is_read_with_its_heading() -> None:
    read = attachment_text(odt([LETTER]), "application/zip")
    assert read.text.splitlines() == ["Brief", LETTER]


def test_broken_and_hostile_files_give_a_note_not_an_exception() -> None:
    entity_bomb = (
        '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        "<w:body><w:p><w:r><w:t>&b;</w:t></w:r></w:p></w:body></w:document>"
    )
    cases = {
        "truncated pdf": (pdf_with_text(LETTER)[:200], "application/pdf"),
        "not a pdf": (b"%PDF-1.4 nothing else", "application/pdf"),
        "broken zip": (b"PK\x03\x04" + b"\x00" * 100, "application/zip"),
        "entity bomb": (zipped("word/document.xml", entity_bomb), "application/zip"),
        "other archive": (zipped("photos/1.jpg", "x"), "application/zip"),
        "an image": (b"\x89PNG\r\n\x1a\n", "image/png"),
    }
    for name, (data, kind) in cases.items():
        read = attachment_text(data, kind)
        assert read.text == "", name
        assert read.note, name


def test_limits_bound_the_work() -> None:
    big = docx([LETTER] * 2000)
    assert len(attachment_text(big, "application/zip", TextLimits(chars=500)).text) == 500
    refused = attachment_text(big, "application/zip", TextLimits(unpacked_bytes=1000))
    assert refused.text == "" and refused.note == "the document is too large to read"
