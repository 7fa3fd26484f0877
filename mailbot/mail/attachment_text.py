"""The text of an attached letter: a PDF's text layer, a DOCX or an ODT document.

A request often sits in an attachment ("see my letter attached"). This reads the words
such a file carries, within fixed limits (pages, bytes unpacked, characters), and never
raises: a file it cannot read gives no text and a fixed note saying why. Scanned PDFs
and photographed letters carry no text layer: the ID check's OCR reads those
(`mailbot.triage.attached_letter` joins both).
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from xml.etree import ElementTree

import pypdfium2 as pdfium  # type: ignore[import-untyped]

PDF = "application/pdf"
DOCX_PART, ODT_PART = "word/document.xml", "content.xml"
_WORD = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_ODF_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"


@dataclass(frozen=True, slots=True)
class TextLimits:
    pages: int = 10
    unpacked_bytes: int = 5 * 1024 * 1024  # one XML part of a DOCX or ODT
    chars: int = 50_000


@dataclass(frozen=True, slots=True)
class AttachmentText:
    text: str
    note: str | None = None  # why there is no (or less) text; never personal data


def attachment_text(
    data: bytes, sniffed_type: str, limits: TextLimits = TextLimits()
) -> AttachmentText:
    try:
        if sniffed_type == PDF or data.startswith(b"%PDF-"):
            return _pdf(data, limits)
        if data.startswith(b"PK\x03\x04"):
            return _office(data, limits)
    except Exception:
        return AttachmentText("", "the file could not be read")
    return AttachmentText("", "no text to read in this kind of file")


def _pdf(data: bytes, limits: TextLimits) -> AttachmentText:
    document = pdfium.PdfDocument(data)
    try:
        pages = min(len(document), limits.pages)
        parts = []
        for index in range(pages):
            page = document[index]
            textpage = page.get_textpage()
            parts.append(textpage.get_text_range())
            textpage.close()
            page.close()
        note = f"only the first {pages} pages read" if len(document) > pages else None
    finally:
        document.close()
    text = _tidy("\n".join(parts), limits)
    return AttachmentText(text, note if text else "no text layer (a scan?)")


def _office(data: bytes, limits: TextLimits) -> AttachmentText:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = set(archive.namelist())
        part = DOCX_PART if DOCX_PART in names else ODT_PART
        if part not in names:
            return AttachmentText("", "an archive, not a document")
        if archive.getinfo(part).file_size > limits.unpacked_bytes:
            return AttachmentText("", "the document is too large to read")
        xml = archive.read(part)
    if b"<!DOCTYPE" in xml.upper():
        return AttachmentText("", "the document could not be read")
    # Without a DOCTYPE there are no entities to expand (billion laughs, external ones).
    root = ElementTree.fromstring(xml)  # noqa: S314
    if part == DOCX_PART:
        lines = ["".join(t.text or "" for t in p.iter(f"{_WORD}t")) for p in root.iter(f"{_WORD}p")]
    else:
        lines = [
            "".join(element.itertext())
            for element in root.iter()
            if element.tag in (f"{_ODF_TEXT}p", f"{_ODF_TEXT}h")
        ]
    return AttachmentText(_tidy("\n".join(lines), limits))


def _tidy(text: str, limits: TextLimits) -> str:
    text = re.sub(r"[ \t\r\f\v]+", " ", text.replace("\r\n", "\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip()[: limits.chars]
