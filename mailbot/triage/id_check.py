"""Reads one attachment as a possible ID copy: decode within bounds, OCR, then judge.

The imperative shell around `id_evidence`: `id_images` turns the bytes into at most two
greyscale pages of about 2000 px, the local `tesseract` command reads them (turned upright
first), and the pure core decides. Whatever the bytes, the answer
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

from PIL import Image

from mailbot.triage.holder_name import holder_matches
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
from mailbot.triage.id_images import (
    DOCUMENT_TYPES,
    UnreadableDocument,
    decoded_pages,
    prepared_page,
)

log = logging.getLogger(__name__)

OCR_LANGUAGES = "nld+fra+deu+eng"
OCR_TIMEOUT = 20.0  # seconds for one tesseract run
DOCUMENT_BUDGET = 45.0  # seconds of OCR per attachment before we settle for what we have
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


@dataclass(frozen=True, slots=True)
class _Reading:
    text: str
    words: int
    confidence: float  # mean word confidence, 0-100
    strength: int  # how much it reads like an ID document
    rotation: int


def check_attachment(data: bytes, sniffed_type: str, holder: str = "") -> IdCheck:
    """What ID document the attachment shows, and whether it shows `holder` (the
    requester's name, compared and forgotten); never raises."""
    if sniffed_type not in DOCUMENT_TYPES:
        return no_document()
    try:
        return _check(data, sniffed_type, holder)
    except UnreadableDocument as exc:
        return unreadable(exc.reason)
    except Exception as exc:  # the contract: a strange file is an outcome, not a crash
        log.warning("ID check failed unexpectedly (%s)", type(exc).__name__)
        return unreadable("document could not be read", (f"error:{type(exc).__name__}",))


def _check(data: bytes, sniffed_type: str, holder: str) -> IdCheck:
    pages, facts = decoded_pages(data, sniffed_type)
    if shutil.which("tesseract") is None:
        return replace(ocr_unavailable(), evidence=tuple(facts))
    deadline = time.monotonic() + DOCUMENT_BUDGET
    results, texts = [], []
    for page in pages:
        prepared, sideways = prepared_page(page)
        reading = _read_upright(prepared, sideways, deadline)
        check = assess_text(reading.text, _shape(prepared, reading.rotation))
        turned = [f"rotation:{reading.rotation}"] if reading.rotation else []
        named = holder_matches(reading.text, holder) if check.kind in IDENTITY_KINDS else None
        evidence = (*check.evidence, *turned, *facts)
        results.append(replace(check, evidence=evidence, holder_match=named))
        texts.append(reading.text)
        if check.verified:
            break
    best = max(results, key=_preference)
    # An identity document's words (name, number, MRZ) never go further than this check.
    letter = "" if best.kind in IDENTITY_KINDS else "\n\n".join(texts)
    return replace(best, text=letter)


def _preference(check: IdCheck) -> tuple[bool, bool, bool]:
    return (check.kind in IDENTITY_KINDS, check.verified, check.kind == "eid_front")


# --- reading, upright ------------------------------------------------------------------------


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
        except UnreadableDocument:
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
    except UnreadableDocument:
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
        raise UnreadableDocument("ocr timed out") from exc
    except OSError as exc:
        raise UnreadableDocument("ocr unavailable") from exc
    if completed.returncode != 0:
        raise UnreadableDocument("ocr failed")
    return completed.stdout.decode("utf-8", errors="replace")
