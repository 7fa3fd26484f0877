"""Turn the raw bytes of one inbound mail into a ParsedMail, or refuse it with MalformedMail."""

import codecs
import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email import charset as email_charset
from email import policy
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser
from typing import Any, TypeVar

import filetype

_T = TypeVar("_T")


class MalformedMail(ValueError):
    """A mail the bot refuses to process; `reason` is a short sentence without personal data."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ParseLimits:
    max_parts: int = 100
    max_attachment_bytes: int = 25 * 1024 * 1024
    max_text_chars: int = 200_000


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str | None
    declared_type: str
    sniffed_type: str
    size: int
    sha256: str
    data: bytes


@dataclass(frozen=True, slots=True)
class ParsedMail:
    message_id: str | None
    subject: str
    sender: str | None
    sender_name: str
    reply_to: str | None
    recipients: tuple[str, ...]
    date: datetime | None
    in_reply_to: str | None
    references: tuple[str, ...]
    content_type: str
    headers: tuple[tuple[str, str], ...]
    text: str
    attachments: tuple[Attachment, ...]
    problems: tuple[str, ...]

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers if key == wanted), None)


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    value: str
    parsed: object  # the policy.default header object, or None when CPython could not parse it


_INJECTION_CHECKED = {
    "subject": "Subject",
    "from": "From",
    "reply-to": "Reply-To",
    "message-id": "Message-ID",
    "in-reply-to": "In-Reply-To",
    "references": "References",
}
_ENCLOSED_MESSAGE_TYPES = frozenset({"message/rfc822", "message/global"})
_BODY_TYPES = frozenset({"text/plain", "text/html"})
_BOUNDARY_PARAM = re.compile(rb'boundary\s*=\s*"?([^"\r\n;]+)', re.IGNORECASE)
_ADDR_SPEC = re.compile(r"[^\s<>(),;:@]+@[^\s<>(),;:@]+")
_MSG_ID = re.compile(r"<([^<>]*)>")
_SURROGATE = re.compile("[\ud800-\udfff]")
_DEFECT_WORDS = {"NoBoundaryInMultipartDefect": "multipart without boundary"}


def parse_mail(raw: bytes, limits: ParseLimits = ParseLimits()) -> ParsedMail:
    """Parse one mail; whatever the bytes, the only exception raised is MalformedMail."""
    try:
        return _parse(raw, limits)
    except MalformedMail:
        raise
    except Exception as exc:  # the contract: no other exception leaves the parser
        raise MalformedMail(f"message could not be parsed ({type(exc).__name__})") from exc


def sniff_type(data: bytes) -> str:
    """The media type the bytes really are, whatever name or type the sender gave them."""
    kind = _attempt(lambda: filetype.guess(data), None) if data else None
    if kind is not None:
        return str(kind.mime)
    return "text/plain" if _looks_printable(data) else "application/octet-stream"


def _parse(raw: bytes, limits: ParseLimits) -> ParsedMail:
    if not raw.strip():
        raise MalformedMail("empty message")
    # Parsing alone costs seconds on part bombs, so refuse obvious ones before parsing.
    estimate = _estimated_parts(raw)
    if estimate > 2 * limits.max_parts:
        raise MalformedMail(f"too many MIME parts ({estimate} > {limits.max_parts})")
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    counted = sum(1 for _ in msg.walk())
    if counted > limits.max_parts:
        raise MalformedMail(f"too many MIME parts ({counted} > {limits.max_parts})")
    fields = [_read_field(str(name), str(value)) for name, value in msg.raw_items()]
    _refuse_injection(fields)
    text, attachments, problems = _read_body(msg, limits)
    senders = _addresses(fields, "from")
    reply_to = _addresses(fields, "reply-to")
    references = [i for f in fields if f.name == "references" for i in _msg_ids(f.value)]
    return ParsedMail(
        message_id=_first_msg_id(fields, "message-id"),
        subject=_first_value(fields, "subject") or "",
        sender=senders[0][1] if senders else None,
        sender_name=senders[0][0] if senders else "",
        reply_to=reply_to[0][1] if reply_to else None,
        recipients=tuple(dict.fromkeys(a for _, a in _addresses(fields, "to", "cc"))),
        date=_date(fields),
        in_reply_to=_first_msg_id(fields, "in-reply-to"),
        references=tuple(references),
        content_type=_attempt(msg.get_content_type, "text/plain").lower(),
        headers=tuple((f.name, f.value) for f in fields),
        text=text,
        attachments=tuple(attachments),
        problems=tuple(dict.fromkeys(problems)),
    )


def _attempt(read: Callable[[], _T], fallback: _T) -> _T:
    """Run one read of CPython's email API, which has known crashes on hostile input."""
    try:
        return read()
    except Exception:
        return fallback


def _estimated_parts(raw: bytes) -> int:
    boundaries = {m.group(1).strip() for m in _BOUNDARY_PARAM.finditer(raw)}
    opened = sum(raw.count(b"\n--" + b) - raw.count(b"\n--" + b + b"--") for b in boundaries if b)
    return 1 + opened


def _clean(text: str) -> str:
    """Undo the parser's surrogate escapes for raw 8-bit bytes and drop NULs databases refuse."""
    if _SURROGATE.search(text):
        try:
            raw = text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:  # lone surrogates that never were raw bytes
            return _SURROGATE.sub("\ufffd", text).replace("\x00", "")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("cp1252", "replace")
    return text.replace("\x00", "")


def _read_field(name: str, raw: str) -> _Field:
    try:
        parsed: object = policy.default.header_fetch_parse(name, _clean(raw))
        value = str(parsed)
    except Exception:  # e.g. CPython issue 83281 on "To: unlisted-recipients:; (comment)"
        parsed = None
        value = _decode_words(re.sub(r"[\r\n]", "", raw))
    return _Field(_clean(name).lower(), _clean_value(value), parsed)


def _clean_value(value: str) -> str:
    return _clean(value).strip(" \t")


def _decode_words(value: str) -> str:
    return _attempt(lambda: str(make_header(decode_header(value))), value)


def _refuse_injection(fields: list[_Field]) -> None:
    for field in fields:
        label = _INJECTION_CHECKED.get(field.name)
        if label and ("\r" in field.value or "\n" in field.value):
            raise MalformedMail(f"CR/LF injection in {label} header")


def _first_value(fields: list[_Field], name: str) -> str | None:
    return next((f.value.strip() for f in fields if f.name == name), None)


def _msg_ids(value: str) -> list[str]:
    bracketed = _MSG_ID.findall(value)
    found = bracketed if bracketed else value.split()
    ids = (re.sub(r"\s+", "", i).strip("<>") for i in found)
    return [f"<{i}>" for i in ids if i]


def _first_msg_id(fields: list[_Field], name: str) -> str | None:
    value = _first_value(fields, name)
    ids = _msg_ids(value) if value else []
    return ids[0] if ids else None


def _addresses(fields: list[_Field], *names: str) -> list[tuple[str, str]]:
    """(display name, lowercased addr-spec) pairs of the named headers, unusable ones left out."""
    pairs: list[tuple[str, str]] = []
    for field in (f for f in fields if f.name in names):
        for display, found in _field_addresses(field):
            addr = _clean_value(str(found)).lower()
            if _ADDR_SPEC.fullmatch(addr):
                pairs.append((_clean_value(str(display)).strip(), addr))
    return pairs


def _field_addresses(field: _Field) -> list[tuple[str, str]]:
    parsed: Any = field.parsed
    found = _attempt(lambda: [(a.display_name, a.addr_spec) for a in parsed.addresses], None)
    return found if found is not None else getaddresses([field.value])


def _date(fields: list[_Field]) -> datetime | None:
    field = next((f for f in fields if f.name == "date"), None)
    if field is None:
        return None
    parsed: Any = field.parsed
    when = getattr(parsed, "datetime", None) or _attempt(
        lambda: parsedate_to_datetime(field.value), None
    )
    if not isinstance(when, datetime):
        return None
    # "-0000" means "zone unknown"; the instant is still given in UTC.
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _parts(msg: Message) -> Iterator[Message]:
    """Every part in document order, without entering enclosed messages (they are attachments)."""
    stack: list[Message] = [msg]
    while stack:
        part = stack.pop()
        yield part
        if part.is_multipart() and _attempt(part.get_content_maintype, "") == "multipart":
            children: Any = part.get_payload()
            stack.extend(reversed(children))


def _read_body(msg: Message, limits: ParseLimits) -> tuple[str, list[Attachment], list[str]]:
    plain: list[str] = []
    html: list[str] = []
    attachments: list[Attachment] = []
    problems: list[str] = []
    for part in _parts(msg):
        problems.extend(_defect_text(type(d).__name__) for d in getattr(part, "defects", []))
        ctype = _attempt(part.get_content_type, "application/octet-stream").lower()
        if ctype.startswith("multipart/"):
            if not part.is_multipart():  # boundary lost: the payload is just text
                plain.append(_part_text(part, problems))
                problems.append("multipart without boundary")
            continue
        disposition = _attempt(part.get_content_disposition, None)
        if ctype in _BODY_TYPES and disposition != "attachment":
            (plain if ctype == "text/plain" else html).append(_part_text(part, problems))
        else:
            attachments.append(_attachment(part, ctype, limits))
    text = "\n\n".join(t for t in plain if t.strip())
    if not text and html:
        text = "\n\n".join(_html_text(h, problems) for h in html)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "").strip()
    if len(text) > limits.max_text_chars:
        text = text[: limits.max_text_chars]
        problems.append(f"text truncated to {limits.max_text_chars} characters")
    return text, attachments, problems


def _html_text(html: str, problems: list[str]) -> str:
    try:
        return html_to_text(html)
    except Exception:  # html.parser still asserts on some marked sections
        problems.append("HTML could not be read; tags stripped")
        return re.sub(r"<[^>]*>", " ", html).strip()


def _defect_text(name: str) -> str:
    if name in _DEFECT_WORDS:
        return _DEFECT_WORDS[name]
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name.removesuffix("Defect")).lower()


def _part_bytes(part: Message) -> bytes:
    if part.is_multipart():  # message/* parts hold parsed messages
        enclosed: Any = part.get_payload()
        return b"".join(_message_bytes(m) for m in enclosed)
    payload: object = _attempt(lambda: part.get_payload(decode=True), None)
    return payload if isinstance(payload, bytes) else b""


def _message_bytes(msg: Message) -> bytes:
    compat = _attempt(lambda: msg.as_bytes(policy=policy.compat32), None)
    return compat if compat is not None else _attempt(msg.as_bytes, b"")


def _part_text(part: Message, problems: list[str]) -> str:
    charset = _attempt(part.get_content_charset, None)
    text, problem = decode_text(_part_bytes(part), charset)
    if problem:
        problems.append(problem)
    return text


def decode_text(data: bytes, charset: str | None) -> tuple[str, str | None]:
    """Text of the bytes in their declared charset, with a note when that did not work."""
    name = (charset or "us-ascii").strip().lower()
    shown = re.sub(r"[^\w.:+-]", "?", name)[:40]
    codec = _text_codec(name)
    problem = None if codec else f"unknown charset '{shown}'; decoded as utf-8"
    for candidate in dict.fromkeys((codec or "utf-8", "utf-8")):
        try:
            text = data.decode(candidate)
        except (UnicodeError, ValueError):
            continue
        if candidate != (codec or "utf-8"):
            problem = f"text not valid in charset '{shown}'; decoded as utf-8"
        return text, problem
    problem = problem or f"text not valid in charset '{shown}'; bad bytes replaced"
    try:
        return data.decode(codec or "utf-8", errors="replace"), problem
    except (UnicodeError, ValueError):
        return data.decode("latin-1"), problem


def _text_codec(name: str) -> str | None:
    name = email_charset.ALIASES.get(name, name)
    info = _attempt(lambda: codecs.lookup(name), None)
    if info is None or not getattr(info, "_is_text_encoding", True):
        return None  # unknown, or a bytes-to-bytes codec such as "base64"
    return info.name


def _attachment(part: Message, ctype: str, limits: ParseLimits) -> Attachment:
    data = _part_bytes(part)
    if len(data) > limits.max_attachment_bytes:
        too_big, allowed = _size(len(data)), _size(limits.max_attachment_bytes)
        raise MalformedMail(f"attachment too large ({too_big} > {allowed})")
    return Attachment(
        filename=_safe_filename(_attempt(part.get_filename, None)),
        declared_type=ctype,
        sniffed_type="message/rfc822" if ctype in _ENCLOSED_MESSAGE_TYPES else sniff_type(data),
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
    )


def _size(count: int) -> str:
    if count >= 1024 * 1024:
        return f"{count / (1024 * 1024):.1f} MB"
    return f"{count / 1024:.1f} KB" if count >= 1024 else f"{count} bytes"


def _safe_filename(name: str | None) -> str | None:
    """The sender's file name without directories or control characters, or None."""
    if not name:
        return None
    base = re.split(r"[/\\]", _clean_value(str(name)))[-1]
    # Cf covers bidi overrides that disguise "gpj.exe" as "exe.jpg".
    kept = "".join(c for c in base if unicodedata.category(c) not in ("Cc", "Cf")).strip()
    return kept[:255] if kept not in ("", ".", "..") else None


def _looks_printable(data: bytes) -> bool:
    sample = data[:4096]
    if not sample or b"\x00" in sample:
        return False
    # Tab, LF, FF, CR and ESC (ISO-2022-JP shifts) occur in text; other controls mean binary.
    controls = sum(1 for b in sample if (b < 32 and b not in (9, 10, 12, 13, 27)) or b == 127)
    return controls * 100 <= len(sample)


class _HtmlText(HTMLParser):
    """Visible text of an HTML body; block edges become soft breaks, <br> a hard one."""

    _PARAGRAPHS = frozenset({"p", "ul", "ol", "table", "blockquote", "pre"})
    _PARAGRAPHS |= {f"h{level}" for level in range(1, 7)}
    _LINES = frozenset({"div", "li", "tr", "hr", "dt", "dd", "section", "article"})
    _HIDDEN = frozenset({"script", "style", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._hidden_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._HIDDEN:
            self._hidden_depth += 1
        self._edge(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN:
            self._hidden_depth = max(0, self._hidden_depth - 1)
        elif tag != "br":
            self._edge(tag)

    def _edge(self, tag: str) -> None:
        # \f and \v cannot come from handle_data, which turns all whitespace into spaces.
        if tag == "br":
            self.chunks.append("\n")
        elif tag in self._PARAGRAPHS:
            self.chunks.append("\f")
        elif tag in self._LINES:
            self.chunks.append("\v")
        elif tag in ("td", "th"):
            self.chunks.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._hidden_depth:
            self.chunks.append(re.sub(r"\s+", " ", data))


def _line_breaks(run: re.Match[str]) -> str:
    breaks = run.group(0)
    return "\n" * min(2, max(breaks.count("\n"), 2 if "\f" in breaks else 1))


def html_to_text(html: str) -> str:
    """Readable plain text of an HTML mail body (scripts and styles dropped)."""
    reader = _HtmlText()
    reader.feed(html)
    reader.close()
    text = re.sub(r"[ \t]*[\n\v\f][\s]*", _line_breaks, "".join(reader.chunks))
    return "\n".join(line.strip() for line in text.split("\n")).strip()
