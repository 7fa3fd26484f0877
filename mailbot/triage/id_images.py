"""Turns an attachment's bytes into greyscale pages ready for OCR, within fixed bounds.

Pillow, pillow-heif and PDFium decode JPEG, PNG, WebP, TIFF, HEIC and PDF; a picture's
declared size is checked before it is decoded, and a large JPEG is decoded at reduced
scale, so a huge or hostile file costs little memory. At most two PDF pages are read.
Each page is then cut to the document, brought to a size tesseract reads well and
straightened. A file that cannot be decoded raises `UnreadableDocument` with a fixed
phrase, never its content.
"""

from __future__ import annotations

import io

import numpy as np
import pillow_heif
import pypdfium2 as pdfium  # type: ignore[import-untyped]
import pypdfium2.raw as pdfium_raw  # type: ignore[import-untyped]
from PIL import Image, ImageChops, ImageFilter, ImageOps

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


class UnreadableDocument(Exception):
    """The document cannot be read; `reason` is a fixed phrase without personal data."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- decoding, bounded -----------------------------------------------------------------------


def decoded_pages(data: bytes, sniffed_type: str) -> tuple[list[Image.Image], list[str]]:
    """The pages to read, and evidence of what was left unread (a long PDF's later pages)."""
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
        raise UnreadableDocument("image too large") from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise UnreadableDocument("image is corrupt or of an unsupported kind") from exc
    width, height = image.size
    limit = MAX_JPEG_PIXELS if image.format == "JPEG" else MAX_IMAGE_PIXELS
    if width * height > limit:
        raise UnreadableDocument("image too large")
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
        raise UnreadableDocument("image is corrupt or truncated") from exc


def _heif_image(data: bytes) -> Image.Image:
    try:
        heif = pillow_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=True)
        width, height = heif.size
        if width * height > MAX_IMAGE_PIXELS:
            raise UnreadableDocument("image too large")
        return heif.to_pillow()
    except (OSError, ValueError, RuntimeError) as exc:
        raise UnreadableDocument("image is corrupt or of an unsupported kind") from exc


def _pdf_pages(data: bytes) -> tuple[list[Image.Image], list[str]]:
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if exc.err_code == pdfium_raw.FPDF_ERR_PASSWORD:
            raise UnreadableDocument("pdf is password-protected") from exc
        raise UnreadableDocument("pdf is corrupt or of an unsupported kind") from exc
    try:
        total = len(document)
        if total == 0:
            raise UnreadableDocument("pdf has no pages")
        pages = [_rendered(document[index]) for index in range(min(total, PDF_PAGES))]
    except pdfium.PdfiumError as exc:
        raise UnreadableDocument("pdf page could not be rendered") from exc
    finally:
        document.close()
    facts = [f"pdf-pages-read:{len(pages)}-of-{total}"] if total > PDF_PAGES else []
    return pages, facts


def _rendered(page: pdfium.PdfPage) -> Image.Image:
    width, height = page.get_size()  # in points, 1/72 inch
    scale = min(PDF_RENDER_LONG_SIDE / max(width, height, 1.0), PDF_MAX_DPI / 72)
    image: Image.Image = page.render(scale=scale, grayscale=True).to_pil()
    return image


# --- preparing for OCR -----------------------------------------------------------------------


def prepared_page(image: Image.Image) -> tuple[Image.Image, bool]:
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
