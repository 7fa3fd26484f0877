"""Turn the bytes of a mail part into text: charset fallback, HTML to plain text, type sniffing."""

import codecs
import re
from collections.abc import Callable
from email import charset as email_charset
from html.parser import HTMLParser
from typing import TypeVar

import filetype

_T = TypeVar("_T")

_SURROGATE = re.compile("[\ud800-\udfff]")


def attempt(read: Callable[[], _T], fallback: _T) -> _T:
    """Run one read of CPython's email API, which has known crashes on hostile input."""
    try:
        return read()
    except Exception:
        return fallback


def clean_text(text: str) -> str:
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
    info = attempt(lambda: codecs.lookup(name), None)
    if info is None or not getattr(info, "_is_text_encoding", True):
        return None  # unknown, or a bytes-to-bytes codec such as "base64"
    return info.name


def sniff_type(data: bytes) -> str:
    """The media type the bytes really are, whatever name or type the sender gave them."""
    kind = attempt(lambda: filetype.guess(data), None) if data else None
    if kind is not None:
        return str(kind.mime)
    return "text/plain" if _looks_printable(data) else "application/octet-stream"


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
