"""Rendering a reply mail (subject and text/plain body) from templates/<lang>/<name>.txt.j2.

A template's output starts with a ``Subject: ...`` line, then one blank line, then the
body. Templates are strict: a variable the caller forgot is an error, never a silent
hole in a letter with legal weight.
"""

from __future__ import annotations

import functools
import re
import textwrap
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Final

from babel.dates import format_date as babel_format_date
from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound, Undefined

# Belgian variants where they exist; English replies follow British usage.
LOCALES: Final[Mapping[str, str]] = {"nl": "nl_BE", "fr": "fr_BE", "de": "de_BE", "en": "en_GB"}
SUPPORTED_LANGUAGES: Final[tuple[str, ...]] = tuple(LOCALES)
TEMPLATE_SUFFIX: Final = ".txt.j2"
LINE_WIDTH: Final = 78

_TEMPLATE_NAME = re.compile(r"[a-z][a-z0-9_]*")
_SUBJECT_LINE = re.compile(r"Subject: *(\S.*)")
# Prefixes mail clients put before a subject when replying or forwarding, in the four
# languages (Outlook writes "RE :" and "TR :" in French, Lotus Notes "Réf. :").
_REPLY_PREFIX = re.compile(
    r"\s*(?:re|aw|antw|antwoord|tr|r[ée]f\.?|fwd?|wg|doorst)\s*(?:\[\d+\]|\(\d+\))?\s*:",
    re.IGNORECASE,
)
# Any case tag of ours, whatever the configured prefix: "[JAIMY-PRIV-2026-0042]".
_CASE_TAG = re.compile(r"\[[A-Z][A-Z0-9-]*-\d{4}-\d{4,}\]", re.IGNORECASE)
_LIST_MARKER = re.compile(r"(\s*)([-*•] )?")
# Spaces a line must not break at: before French high punctuation ("demande :"), after
# an opening guillemet, and between "art."/"§" and the number that follows.
_GLUED_SPACE = re.compile(r" (?=[;:!?»])|(?<=«) |(?<=\b[Aa]rt\.) (?=\d)|(?<=§) (?=\d)")
_GLUE: Final = "\u00a0"

# What a forged sender may put in a display name or subject to make our reply carry it:
# a link, an address, a DPO fill-in. Such text is never repeated (issue 11).
_LINK = re.compile(
    r"https?|www\.|://|@|/|\\|\[\[|\]\]|[a-z0-9-]\.(?:[a-z]{2,}|xn--)", re.IGNORECASE
)
# A terminal escape sequence: CSI (colours, cursor), OSC (window title, clipboard) up to
# its terminator, or ESC and one character.
_ESCAPE_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?|(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[^\[\]]?"
)
# A greeting's name: letters (and their accents), spaces, hyphens, apostrophes, dots.
_NAME_PUNCTUATION = frozenset(" -'’.")
LONGEST_NAME: Final = 60
MOST_NAME_WORDS: Final = 6
# Longer subjects are not quoted back: our own subject is used instead.
LONGEST_TOPIC: Final = 80


@dataclass(frozen=True, slots=True)
class RenderedReply:
    """One rendered reply, ready to be composed into a MIME message."""

    template: str
    language: str
    subject: str
    body: str


def templates_dir() -> Path:
    """The reply templates: the copy inside an installed wheel, else the checkout's."""
    package_dir = Path(__file__).resolve().parent.parent
    installed = package_dir / "templates"
    if installed.is_dir():
        return installed
    return package_dir.parent / "templates"


def format_date(day: date, language: str) -> str:
    """The date spelled out as a reader of `language` expects, e.g. "7 avril 2026"."""
    locale = _locale(language)
    if not isinstance(day, date):
        raise TypeError(f"expected a date, got {type(day).__name__}")
    spelled = str(babel_format_date(day, format="long", locale=locale))
    if language == "fr" and day.day == 1:
        # Written French says "1er décembre"; CLDR's pattern has no ordinal.
        spelled = "1er" + spelled.removeprefix("1")
    return spelled


def one_line(text: str) -> str:
    """`text` with every run of whitespace, line breaks included, made one space."""
    return " ".join(text.split())


def without_controls(text: str) -> str:
    """`text` without control and format characters (escape sequences that drive a
    terminal, whole; bidirectional overrides that reorder what a reader sees); line
    breaks become spaces."""
    return "".join(
        " " if char.isspace() else char
        for char in _ESCAPE_SEQUENCE.sub("", text)
        if char.isspace() or unicodedata.category(char)[0] != "C"
    )


def reply_topic(original_subject: str) -> str:
    """The requester's subject without reply/forward prefixes and without our case tag;
    empty (our own subject is used) when it holds a link, an address or a fill-in, or is
    too long: a reply from privacy@ must not repeat a forged sender's message.

    Removing every leading prefix (not just one) is what keeps "Re: Re:" from piling
    up; flattening line breaks keeps a hostile subject from injecting headers.
    """
    topic = one_line(without_controls(_CASE_TAG.sub(" ", original_subject)))
    while match := _REPLY_PREFIX.match(topic):
        topic = topic[match.end() :].strip()
    if len(topic) > LONGEST_TOPIC or _LINK.search(topic):
        return ""
    return topic


def greeting_name(name: str) -> str:
    """The display name when it looks like a person's name, else "" (the neutral
    greeting): letters, spaces, hyphens, apostrophes and dots only, at most LONGEST_NAME
    characters and MOST_NAME_WORDS words, no link, address or fill-in. A forged sender's
    display name ("your account is locked, unlock at https://...") is never repeated."""
    flat = one_line(without_controls(name))
    if (
        len(flat) > LONGEST_NAME
        or len(flat.split()) > MOST_NAME_WORDS
        or _LINK.search(flat)
        or not any(char.isalpha() for char in flat)
        or any(
            not (char.isalpha() or unicodedata.category(char)[0] == "M")
            and char not in _NAME_PUNCTUATION
            for char in flat
        )
        or len(flat) != len(one_line(name))  # a control character: not what a name holds
    ):
        return ""
    return flat


def as_sentence(text: str) -> str:
    """`text` on one line, ending with a full stop unless it already ends a sentence."""
    sentence = one_line(text)
    if sentence and sentence[-1] not in ".!?…":
        sentence += "."
    return sentence


def split_subject(rendered: str) -> tuple[str, str]:
    """Split a template's output into its subject and its body.

    Raises ValueError when the first line is not a ``Subject:`` line or is not
    followed by a blank line.
    """
    first_line, _, rest = rendered.partition("\n")
    match = _SUBJECT_LINE.fullmatch(first_line.rstrip())
    if match is None:
        raise ValueError(f"a reply template must start with 'Subject: ...', got {first_line!r}")
    if not rest.startswith("\n"):
        raise ValueError("a reply template needs one blank line after the Subject line")
    subject = match.group(1).strip()
    if "\r" in subject:
        raise ValueError("the rendered subject contains a carriage return")
    return subject, rest


def tidy_body(body: str) -> str:
    """The body with long lines wrapped, no doubled blank lines, one final newline."""
    lines: list[str] = []
    for line in body.splitlines():
        stripped = line.rstrip()
        if not stripped and (not lines or not lines[-1]):
            continue
        lines.extend(_wrap(stripped))
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n"


def _wrap(line: str) -> list[str]:
    """One line as lines of at most LINE_WIDTH characters where a break is possible.

    List items keep their continuation lines aligned under the item's text. Long
    words (addresses, references) are never cut.
    """
    if len(line) <= LINE_WIDTH:
        return [line]
    marker = _LIST_MARKER.match(line)
    indent = marker.group(1) if marker else ""
    bullet = (marker.group(2) or "") if marker else ""
    wrapper = textwrap.TextWrapper(
        width=LINE_WIDTH,
        initial_indent=indent + bullet,
        subsequent_indent=indent + " " * len(bullet),
        break_long_words=False,
        break_on_hyphens=False,
    )
    glued = _GLUED_SPACE.sub(_GLUE, line[len(indent) + len(bullet) :])
    return [wrapped.replace(_GLUE, " ") for wrapped in wrapper.wrap(glued)]


def render_reply(template: str, language: str, context: Mapping[str, object]) -> RenderedReply:
    """Render templates/<language>/<template>.txt.j2 with `context`.

    Raises ValueError for an unsupported language or a template that does not exist,
    and jinja2.UndefinedError when the template uses a variable `context` lacks.
    """
    environment = _environment(language)
    if not _TEMPLATE_NAME.fullmatch(template):
        raise ValueError(f"not a template name: {template!r}")
    filename = template + TEMPLATE_SUFFIX
    try:
        compiled = environment.get_template(filename)
    except TemplateNotFound as missing:
        looked_for = templates_dir() / language / filename
        raise ValueError(f"no {language!r} template {template!r}: looked for {looked_for}") from (
            missing
        )
    subject, body = split_subject(compiled.render(dict(context)))
    return RenderedReply(
        template=template, language=language, subject=subject, body=tidy_body(body)
    )


def _locale(language: str) -> str:
    try:
        return LOCALES[language]
    except KeyError:
        supported = ", ".join(SUPPORTED_LANGUAGES)
        raise ValueError(
            f"unsupported reply language {language!r} (supported: {supported})"
        ) from None


def _defined(value: object) -> None:
    """Fail on a missing variable the way StrictUndefined does, naming the variable."""
    if isinstance(value, Undefined):
        str(value)  # StrictUndefined raises UndefinedError here


def _text_filter(transform: Callable[[str], str]) -> Callable[[object], str]:
    def apply(value: object) -> str:
        _defined(value)
        if not isinstance(value, str):
            raise TypeError(f"expected text, got {type(value).__name__}")
        return transform(value)

    return apply


def _date_filter(language: str) -> Callable[[object], str]:
    def spell(value: object) -> str:
        _defined(value)
        if not isinstance(value, date):
            raise TypeError(f"the date filter needs a date, got {type(value).__name__}")
        return format_date(value, language)

    return spell


@functools.cache
def _environment(language: str) -> Environment:
    _locale(language)
    environment = Environment(
        loader=FileSystemLoader(templates_dir() / language),
        undefined=StrictUndefined,
        # text/plain mail: HTML escaping would turn "l'accès" into "l&#39;accès".
        autoescape=False,  # noqa: S701
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["date"] = _date_filter(language)
    environment.filters["one_line"] = _text_filter(one_line)
    environment.filters["reply_topic"] = _text_filter(reply_topic)
    environment.filters["greeting_name"] = _text_filter(greeting_name)
    environment.filters["as_sentence"] = _text_filter(as_sentence)
    return environment
