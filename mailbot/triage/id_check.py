"""Reads one attachment as a possible ID copy: decode within bounds, OCR, then judge.

The imperative shell around `id_evidence`: Pillow, pillow-heif and PDFium turn the bytes
into at most two greyscale pages of about 2000 px, the local `tesseract` command reads
them (turned upright first), and the pure core decides. Whatever the bytes, the answer
is an `IdCheck`: a corrupt, locked, huge or endless file is a recorded outcome, never an
exception. Nothing leaves the machine (LEGAL.md §2.5: no OCR vendor).
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, replace

import numpy as np
import pillow_heif
import pypdfium2 as pdfium  # type: ignore[import-untyped]
import pypdfium2.raw as pdfium_raw  # type: ignore[import-untyped]
from PIL import Image, ImageChops, ImageFilter, ImageOps

from mailbot.triage.id_evidence import (
    DECIDE_SCORE,
    IDENTITY_KINDS,
    IdCheck,
    assess_text,
    no_document,
    ocr_unavailable,
    text_strength,
    unreadable,
)

log = logging.getLogger(__name__)

OCR_LANGUAGES = "nld+fra+deu+eng"
OCR_TIMEOUT = 20.0  # seconds for one tesseract run
DOCUMENT_BUDGET = 45.0  # seconds of OCR per attachment before we settle for what we have
WORK_LONG_SIDE = 2000  # px: ID text stays legible, tesseract stays around a second
SMALL_LONG_SIDE = 1000  # px: smaller pictures are enlarged, tesseract misreads tiny letters
ENLARGED_LONG_SIDE = 1300
WHITE_PAGE = 238  # grey level from which a border is paper, not a card or a table
DARK_SURROUND = 190  # grey level up to which a border is a table or a floor, not paper
MIN_DOCUMENT_SHARE, MAX_DOCUMENT_SHARE = 0.05, 0.8  # of the picture, for a crop to be kept
MAX_SKEW = 9.0  # degrees of tilt straightened (a card put down by hand); more is rotation
SKEW_PROBE_SIDE = 600  # px of the thumbnail the tilt is measured on
MAX_JPEG_PIXELS = 120_000_000  # declared size; draft mode decodes such a JPEG at 1/8 scale
MAX_IMAGE_PIXELS = 50_000_000  # other formats decode whole before they can be reduced
PDF_PAGES = 2
PDF_MAX_DPI = 300
PDF_RENDER_LONG_SIDE = 3600  # px: an A4 scan at 300 dpi, before margins are cropped
PILLOW_FORMATS = ("JPEG", "PNG", "WEBP", "TIFF")
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/tiff"})
HEIF_TYPES = frozenset({"image/heic", "image/heif"})
DOCUMENT_TYPES = IMAGE_TYPES | HEIF_TYPES | {"application/pdf"}
# Turning the page clockwise by so many degrees; Pillow names its turns counter-clockwise.
_UPRIGHT = {
    90: Image.Transpose.ROTATE_270,
    180: Image.Transpose.ROTATE_180,
    270: Image.Transpose.ROTATE_90,
}
MRZ_SETTINGS = (
    *("-c", "tessedit_char_whitelist=ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"),
    *("-c", "load_system_dawg=0", "-c", "load_freq_dawg=0"),
)
# Mean word confidence (0-100) from which text was read the right way up: on the test set
# upright text scores 85-95, text read upside down or sideways 45-65.
LEGIBLE_CONFIDENCE = 78.0


class _Unreadable(Exception):
    """The document cannot be read; `reason` is a fixed phrase without personal data."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class _Reading:
    text: str
    words: int
    confidence: float  # mean word confidence, 0-100
    strength: int  # how much it reads like an ID document
    rotation: int


def check_attachment(data: bytes, sniffed_type: str) -> IdCheck:
    """What ID document the attachment shows; never raises."""
    if sniffed_type not in DOCUMENT_TYPES:
        return no_document()
    try:
        return _check(data, sniffed_type)
    except _Unreadable as exc:
        return unreadable(exc.reason)
    except Exception as exc:  # the contract: a strange file is an outcome, not a crash
        log.warning("ID check failed unexpectedly (%s)", type(exc).__name__)
        return unreadable("document could not be read", (f"error:{type(exc).__name__}",))


def _check(data: bytes, sniffed_type: str) -> IdCheck:
    pages, facts = _pages(data, sniffed_type)
    if shutil.which("tesseract") is None:
        return replace(ocr_unavailable(), evidence=tuple(facts))
    deadline = time.monotonic() + DOCUMENT_BUDGET
    results = []
    for page in pages:
        prepared, sideways = _prepared(page)
        reading = _read_upright(prepared, sideways, deadline)
        check = assess_text(reading.text, _shape(prepared, reading.rotation))
        turned = [f"rotation:{reading.rotation}"] if reading.rotation else []
        results.append(replace(check, evidence=(*check.evidence, *turned, *facts)))
        if check.verified:
            break
    return max(results, key=_preference)


def _preference(check: IdCheck) -> tuple[bool, bool, bool]:
    return (check.kind in IDENTITY_KINDS, check.verified, check.kind == "eid_front")


# --- decoding, bounded -----------------------------------------------------------------------


def _pages(data: bytes, sniffed_type: str) -> tuple[list[Image.Image], list[str]]:
    if sniffed_type == "application/pdf":
        return _pdf_pages(data)
    if sniffed_type in HEIF_TYPES:
        return [_heif_image(data)], []
    return [_pillow_image(data)], []


def _pillow_image(data: bytes) -> Image.Image:
    try:
        # Pillow refuses more than 179 megapixels by itself; the limits below are tighter.
        image = Image.open(io.BytesIO(data), formats=PILLOW_FORMATS)
    except Image.DecompressionBombError as exc:
        raise _Unreadable("image too large") from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise _Unreadable("image is corrupt or of an unsupported kind") from exc
    width, height = image.size
    limit = MAX_JPEG_PIXELS if image.format == "JPEG" else MAX_IMAGE_PIXELS
    if width * height > limit:
        raise _Unreadable("image too large")
    if image.format == "JPEG":
        # Decode at 1/2, 1/4 or 1/8 scale straight from the DCT data: a 40-megapixel
        # photo never exists in memory at full size.
        factor = WORK_LONG_SIDE / max(width, height)
        if factor < 1:
            image.draft("L", (round(width * factor), round(height * factor)))
    try:
        image.load()
        return ImageOps.exif_transpose(image)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise _Unreadable("image is corrupt or truncated") from exc


def _heif_image(data: bytes) -> Image.Image:
    try:
        heif = pillow_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=True)
        width, height = heif.size
        if width * height > MAX_IMAGE_PIXELS:
            raise _Unreadable("image too large")
        return heif.to_pillow()
    except (OSError, ValueError, RuntimeError) as exc:
        raise _Unreadable("image is corrupt or of an unsupported kind") from exc


def _pdf_pages(data: bytes) -> tuple[list[Image.Image], list[str]]:
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if exc.err_code == pdfium_raw.FPDF_ERR_PASSWORD:
            raise _Unreadable("pdf is password-protected") from exc
        raise _Unreadable("pdf is corrupt or of an unsupported kind") from exc
    try:
        total = len(document)
        if total == 0:
            raise _Unreadable("pdf has no pages")
        pages = [_rendered(document[index]) for index in range(min(total, PDF_PAGES))]
    except pdfium.PdfiumError as exc:
        raise _Unreadable("pdf page could not be rendered") from exc
    finally:
        document.close()
    facts = [f"pdf-pages-read:{len(pages)}-of-{total}"] if total > PDF_PAGES else []
    return pages, facts


def _rendered(page: pdfium.PdfPage) -> Image.Image:
    width, height = page.get_size()  # in points, 1/72 inch
    scale = min(PDF_RENDER_LONG_SIDE / max(width, height, 1.0), PDF_MAX_DPI / 72)
    image: Image.Image = page.render(scale=scale, grayscale=True).to_pil()
    return image


# --- preparing and reading -------------------------------------------------------------------


def _prepared(image: Image.Image) -> tuple[Image.Image, bool]:
    """The page cropped, straightened and sized for OCR, and whether it lies on its side.

    Greyscale, the table or scan margin cut off, a hand-placed tilt undone, the long side
    brought between 1000 and 2000 px (tesseract misreads small letters and slows on big
    pictures without reading them better).
    """
    grey = _cropped(image.convert("L"))
    long_side = max(grey.size)
    if long_side > WORK_LONG_SIDE or long_side < SMALL_LONG_SIDE:
        target = WORK_LONG_SIDE if long_side > WORK_LONG_SIDE else ENLARGED_LONG_SIDE
        factor = target / long_side
        size = (max(1, round(grey.width * factor)), max(1, round(grey.height * factor)))
        grey = grey.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    angle, sideways = _text_lines(grey)
    if angle:
        grey = grey.rotate(
            angle, Image.Resampling.BICUBIC, expand=True, fillcolor=_border_level(grey)
        )
    return grey, sideways


def _cropped(grey: Image.Image) -> Image.Image:
    """Cut to the document: a card scanned on a white page, or photographed on a table.

    Tesseract's page layout analysis takes a table's wood grain for text and then misses
    the card's lines, so the surround goes before reading.
    """
    thumb = grey.copy()
    thumb.thumbnail((400, 400))
    border = _border_level(thumb)
    if border >= WHITE_PAGE:  # paper: whatever differs from it is the document
        mask = ImageChops.difference(thumb, Image.new("L", thumb.size, border))
        found = mask.point(lambda level: 255 if level > 10 else 0)
    elif border <= DARK_SURROUND:  # a darker table: the document is the light part
        level = _otsu_level(thumb)
        light = thumb.point(lambda value: 255 if value > level else 0)
        # An opening (erode, then dilate) drops thin light streaks such as wood grain.
        found = light.filter(ImageFilter.MinFilter(5)).filter(ImageFilter.MaxFilter(5))
    else:
        return grey  # a tight scan or a picture: its frame is the document
    box = found.getbbox()
    if box is None:
        return grey  # a blank page: nothing to cut to
    scale = grey.width / thumb.width
    pad = round(0.015 * max(grey.size))
    left, top, right, bottom = (round(edge * scale) for edge in box)
    kept = (
        max(0, left - pad),
        max(0, top - pad),
        min(grey.width, right + pad),
        min(grey.height, bottom + pad),
    )
    share = (kept[2] - kept[0]) * (kept[3] - kept[1]) / (grey.width * grey.height)
    return grey.crop(kept) if MIN_DOCUMENT_SHARE <= share <= MAX_DOCUMENT_SHARE else grey


def _otsu_level(image: Image.Image) -> int:
    """The grey level that best splits the picture into a dark and a light class."""
    histogram = np.array(image.histogram()[:256], dtype=np.float64)
    levels = np.arange(256, dtype=np.float64)
    weight_dark = np.cumsum(histogram)
    weight_light = weight_dark[-1] - weight_dark
    sum_dark = np.cumsum(histogram * levels)
    mean_dark = sum_dark / np.maximum(weight_dark, 1)
    mean_light = (sum_dark[-1] - sum_dark) / np.maximum(weight_light, 1)
    between = weight_dark * weight_light * (mean_dark - mean_light) ** 2
    return int(np.argmax(between))


def _border_level(image: Image.Image) -> int:
    """The median grey of the outermost pixels: the page or table around the document."""
    pixels = np.asarray(image)
    edge = np.concatenate((pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]))
    return int(np.median(edge))


def _text_lines(grey: Image.Image) -> tuple[float, bool]:
    """The small tilt (degrees) that lines text up best, and whether the lines are vertical.

    Straight text lines give sharp peaks in the ink per row, or per column when the page
    lies on its side: the angle and axis whose ink profile varies most win. Tesseract
    copes with a degree or two by itself, so smaller corrections are skipped.
    """
    thumb = ImageOps.autocontrast(grey.copy())
    thumb.thumbnail((SKEW_PROBE_SIDE, SKEW_PROBE_SIDE))
    # Ink is what is much darker than its lightest neighbour: thin strokes, not the broad
    # stripes of a wooden table or a shadow.
    surround = thumb.filter(ImageFilter.MaxFilter(7))
    ink = ImageChops.subtract(surround, thumb).point(lambda level: 255 if level > 50 else 0)
    if np.count_nonzero(np.asarray(ink)) < 0.002 * ink.width * ink.height:
        return 0.0, False  # no text to line up
    contrast = {}
    for angle in np.arange(-MAX_SKEW, MAX_SKEW + 0.01, 0.5):
        turned = np.asarray(ink.rotate(float(angle), Image.Resampling.NEAREST), np.float32)
        contrast[(float(angle), False)] = float(turned.sum(axis=1).var())
        contrast[(float(angle), True)] = float(turned.sum(axis=0).var())
    angle, sideways = max(contrast, key=lambda key: contrast[key])
    return (angle if abs(angle) >= 1.5 else 0.0), sideways


def _shape(image: Image.Image, rotation: int) -> tuple[int, int]:
    width, height = image.size
    return (height, width) if rotation in (90, 270) else (width, height)


def _read_upright(page: Image.Image, sideways: bool, deadline: float) -> _Reading:
    """OCR as the page lies, then turned while that reads badly and time allows.

    Which way round is left to the OCR itself: text read the right way up has confident
    words (or identity-document words); upside-down text is read as confident nonsense
    far less often. Sideways lines try the quarter turns first, level ones the half turn.
    """
    best = _ocr(page, 0)
    turns = (90, 270, 180) if sideways else (180, 90, 270)
    for rotation in turns:
        if _settled(best) or time.monotonic() > deadline:
            break
        try:
            reading = _ocr(page.transpose(_UPRIGHT[rotation]), rotation)
        except _Unreadable:
            break  # keep what an earlier rotation read
        if (reading.strength, reading.confidence) > (best.strength, best.confidence):
            best = reading
    return best


def _settled(reading: _Reading) -> bool:
    """No other rotation could read better: an ID found, legible text, or nothing to read."""
    if reading.strength >= DECIDE_SCORE or reading.words < 3:
        return True
    return reading.confidence >= LEGIBLE_CONFIDENCE


def _ocr(page: Image.Image, rotation: int) -> _Reading:
    lines: dict[tuple[str, str, str], list[str]] = {}
    boxes: dict[tuple[str, str, str], list[tuple[int, int, int, int]]] = {}
    confidences = []
    for row in _tesseract(page, "--psm", "3", "-l", OCR_LANGUAGES, "tsv").splitlines()[1:]:
        cells = row.split("\t")
        if len(cells) == 12 and cells[0] == "5" and cells[11].strip():
            line = (cells[2], cells[3], cells[4])
            lines.setdefault(line, []).append(cells[11])
            left, top, width, height = (int(cell) for cell in cells[6:10])
            boxes.setdefault(line, []).append((left, top, left + width, top + height))
            confidences.append(float(cells[10]))
    text = "\n".join(" ".join(words) for words in lines.values())
    zone = [box for line, words in lines.items() if _filled(words) for box in boxes[line]]
    if zone:
        text += "\n" + _reread_zone(page, zone)
    mean = sum(confidences) / len(confidences) if confidences else 0.0
    return _Reading(text, len(confidences), mean, text_strength(text), rotation)


def _filled(words: list[str]) -> bool:
    """A line with the '<' fillers of a machine-readable zone."""
    return sum(word.count("<") + 2 * word.count("«") for word in words) >= 3


def _reread_zone(page: Image.Image, boxes: list[tuple[int, int, int, int]]) -> str:
    """The machine-readable zone once more, as the 37 characters it can hold and no words.

    The general pass reads it as words in four languages and slips on digits and fillers;
    with the alphabet narrowed and the dictionaries off, most check digits come out right.
    """
    margin = max(bottom - top for _, top, _, bottom in boxes)  # about a line's height
    region = (
        max(0, min(box[0] for box in boxes) - margin),
        max(0, min(box[1] for box in boxes) - margin),
        min(page.width, max(box[2] for box in boxes) + margin),
        min(page.height, max(box[3] for box in boxes) + margin),
    )
    try:
        return _tesseract(page.crop(region), "--psm", "6", "-l", "eng", *MRZ_SETTINGS)
    except _Unreadable:
        return ""  # the first reading stands


def _tesseract(page: Image.Image, *arguments: str) -> str:
    buffer = io.BytesIO()
    page.save(buffer, "PNG", compress_level=1)
    # One thread per run: OpenMP threads only fight each other on a small machine.
    environment = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    try:
        completed = subprocess.run(
            ["tesseract", "stdin", "stdout", *arguments],
            input=buffer.getvalue(),
            capture_output=True,
            timeout=OCR_TIMEOUT,
            env=environment,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise _Unreadable("ocr timed out") from exc
    except OSError as exc:
        raise _Unreadable("ocr unavailable") from exc
    if completed.returncode != 0:
        raise _Unreadable("ocr failed")
    return completed.stdout.decode("utf-8", errors="replace")
