"""A letter's text as the files people attach: a PDF with a text layer, a scanned PDF, a
DOCX, an ODT, or a phone photo of the printed page.

The yardstick (`mailbot eval`) and the tests send letters through the same reading as
real mail, so these files are real ones: PDFium, the OCR and the DOCX/ODT reader read
them as they would read a requester's. The photo is a page on a table, slightly
turned, soft and JPEG-compressed; fonts come from Debian's DejaVu when installed.
"""

from __future__ import annotations

import io
import textwrap
import zipfile
from pathlib import Path
from typing import Final
from xml.sax.saxutils import escape

from PIL import Image, ImageDraw, ImageFilter, ImageFont

PAGE: Final = (1240, 1754)  # A4 at 150 dpi
MARGIN: Final = 110
FONT_PX: Final = 30
LINE_PX: Final = 42
WRAP: Final = 62  # characters per line at FONT_PX
PDF_LINES_PER_PAGE: Final = 46
FONT_FILE: Final = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")

DOCX_TYPE: Final = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODT_TYPE: Final = "application/vnd.oasis.opendocument.text"


def letter_file(filename: str, text: str) -> tuple[bytes, str]:
    """The file a sender would attach under `filename`, and its media type. A PDF whose
    name starts with "scan" is a scan (pictures only); any other PDF has a text layer."""
    name = filename.lower()
    if name.endswith(".docx"):
        return docx(text), DOCX_TYPE
    if name.endswith(".odt"):
        return odt(text), ODT_TYPE
    if name.endswith((".jpg", ".jpeg", ".png", ".heic")):
        return photo(text), "image/jpeg"
    if name.endswith(".pdf") and Path(name).name.startswith("scan"):
        return scanned_pdf(text), "application/pdf"
    if name.endswith(".pdf"):
        return pdf_with_text(text), "application/pdf"
    return text.encode("utf-8"), "text/plain"


def lines_of(text: str, width: int = WRAP) -> list[str]:
    lines: list[str] = []
    for paragraph in text.splitlines():
        lines += textwrap.wrap(paragraph, width) or [""]
    return lines


# --- documents with their own text ----------------------------------------------------------


def pdf_with_text(text: str) -> bytes:
    """A PDF whose text layer holds the letter (Helvetica, WinAnsi: Western European
    letters survive; others become '?'). Written object by object, with its xref."""
    lines = lines_of(text, 90)
    pages = [lines[i : i + PDF_LINES_PER_PAGE] for i in range(0, len(lines), PDF_LINES_PER_PAGE)]
    pages = pages or [[]]
    font_number = 3 + 2 * len(pages)
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids ["
        + " ".join(f"{3 + 2 * i} 0 R" for i in range(len(pages)))
        + f"] /Count {len(pages)} >>",
    ]
    for index, page in enumerate(pages):
        shown = " ".join(f"({_pdf_string(line)}) Tj 0 -15 Td" for line in page)
        stream = f"BT /F1 11 Tf 60 790 Td {shown} ET"
        objects.append(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            f"/Contents {4 + 2 * index} 0 R /Resources << /Font << /F1 {font_number} 0 R >> >> >>"
        )
        objects.append(f"<< /Length {len(stream.encode('cp1252'))} >>\nstream\n{stream}\nendstream")
    objects.append(
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    )
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n{body}\nendobj\n".encode("cp1252"))
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n".encode())
    out.write(f"startxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def _pdf_string(line: str) -> str:
    encodable = line.encode("cp1252", errors="replace").decode("cp1252")
    return encodable.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def docx(text: str) -> bytes:
    paragraphs = "".join(
        f'<w:p><w:r><w:t xml:space="preserve">{escape(line)}</w:t></w:r></w:p>'
        for line in text.splitlines()
    )
    document = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        f"<w:body>{paragraphs}</w:body></w:document>"
    )
    types = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Override PartName="/word/document.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
    )
    return _zipped({"[Content_Types].xml": types, "word/document.xml": document})


def odt(text: str) -> bytes:
    paragraphs = "".join(f"<text:p>{escape(line)}</text:p>" for line in text.splitlines())
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:'
        'office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0">'
        f"<office:body><office:text>{paragraphs}</office:text></office:body>"
        "</office:document-content>"
    )
    return _zipped({"mimetype": ODT_TYPE, "content.xml": content})


def _zipped(parts: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return buffer.getvalue()


# --- pictures of the printed letter ---------------------------------------------------------


def printed_pages(text: str) -> list[Image.Image]:
    font = _font()
    per_page = (PAGE[1] - 2 * MARGIN) // LINE_PX
    lines = lines_of(text)
    pages = []
    for start in range(0, max(len(lines), 1), per_page):
        page = Image.new("L", PAGE, 255)
        draw = ImageDraw.Draw(page)
        for row, line in enumerate(lines[start : start + per_page]):
            draw.text((MARGIN, MARGIN + row * LINE_PX), line, fill=20, font=font)
        pages.append(page)
    return pages


def scanned_pdf(text: str) -> bytes:
    """A PDF of page images only, as a scanner or a scanning app makes it."""
    pages = printed_pages(text)
    buffer = io.BytesIO()
    pages[0].save(buffer, "PDF", resolution=150.0, save_all=True, append_images=pages[1:])
    return buffer.getvalue()


def photo(text: str) -> bytes:
    """The first printed page photographed on a table: turned a little, soft, JPEG."""
    page = printed_pages(text)[0].convert("RGB")
    table = Image.new("RGB", (PAGE[0] + 300, PAGE[1] + 300), (96, 72, 54))
    table.paste(page, (150, 150))
    turned = table.rotate(1.5, resample=Image.Resampling.BICUBIC, fillcolor=(96, 72, 54))
    soft = turned.filter(ImageFilter.GaussianBlur(0.8))
    buffer = io.BytesIO()
    soft.save(buffer, "JPEG", quality=72)
    return buffer.getvalue()


def _font() -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if FONT_FILE.exists():
        return ImageFont.truetype(str(FONT_FILE), FONT_PX)
    return ImageFont.load_default(FONT_PX)
