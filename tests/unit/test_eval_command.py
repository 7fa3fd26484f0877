"""`mailbot eval`: the yardstick's mails go through the bot's own reading as real
messages with real attached files (PDF text layers, scans and photos through the OCR,
DOCX, ODT), and the report gives the figures of each set."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from classifiers.evaluate import LETTERS, load_yardstick
from mailbot.cli import app
from mailbot.yardstick import as_read

needs_ocr = pytest.mark.skipif(shutil.which("tesseract") is None, reason="needs tesseract")


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"\w{4,}", text.casefold()) if not w.isdigit()}


@needs_ocr
def test_every_attached_letter_of_the_yardstick_is_read_back_from_its_file() -> None:
    from classifiers.evaluate import Yardstick

    with_letters = [letter for letter in load_yardstick() if letter.attachments]
    assert len(with_letters) >= 40
    read = as_read(Yardstick("inbox", "", "", with_letters))
    for letter, (subject, text) in zip(with_letters, read, strict=True):
        assert subject == letter.subject
        written = _words(" ".join(body for _, body in letter.attachments))
        found = written & _words(text)
        # Scans and photos go through the OCR: most words, not necessarily every one.
        assert len(found) >= 0.8 * len(written), (letter.id, sorted(written - found)[:10])


def test_eval_reports_the_yardstick_and_the_letters_when_present(tmp_path: Path) -> None:
    report = tmp_path / "evaluation.md"
    result = CliRunner().invoke(app, ["eval", "--classifier", "baseline", "--out", str(report)])
    assert result.exit_code == 0, result.output
    summary = r"baseline on inbox: primary accuracy \d+\.\d%, macro-F1 0\.\d\d"
    assert re.search(summary, result.stdout)
    text = report.read_text("utf-8")
    assert "# `baseline` on the inbox yardstick (independent authors, frozen)" in text
    assert ("# `baseline` on the public letters benchmark" in text) == LETTERS.is_file()
