"""`mailbot eval`: the classifier scored on its yardsticks as the bot reads real mail.

Each reference mail becomes a real message whose attached letters are real files (a PDF
with a text layer, a scanned PDF, a DOCX, an ODT, a phone photo; see `letter_files`),
and `mailbot classify`'s reading (`classify.read_file`: parse, ID check and OCR, the
attachments' text) gives the text the classifier sees. The figures are those of the
whole reading, not of the classifier on text someone else extracted.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

from classifiers.evaluate import Letter, Yardstick
from mailbot.classify import read_file
from mailbot.letter_files import letter_file

SENT: datetime = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def mail_of(letter: Letter) -> bytes:
    """The reference mail as it would arrive: text body, letters attached as files."""
    message = EmailMessage()
    message["From"] = "Requester <requester@example.org>"
    message["To"] = "privacy@jaimy.be"
    message["Subject"] = letter.subject
    message["Date"] = format_datetime(SENT)
    message["Message-ID"] = f"<{letter.id}@example.org>"
    message.set_content(letter.body or "\n")
    for filename, text in letter.attachments:
        data, media_type = letter_file(filename, text)
        main, sub = media_type.split("/", 1)
        message.add_attachment(data, maintype=main, subtype=sub, filename=filename)
    return message.as_bytes()


def as_read(yardstick: Yardstick) -> list[tuple[str, str]]:
    """(subject, text) of each mail as the bot's reading of the real message gives them."""
    read = [read_file(letter.id, mail_of(letter)) for letter in yardstick.letters]
    return [(file.subject, file.text) for file in read]


def attachment_count(letters: Sequence[Letter]) -> int:
    return sum(bool(letter.attachments) for letter in letters)
