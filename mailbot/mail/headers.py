"""Read a mail's header fields (values, addresses, message ids, date) despite hostile input."""

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any

from mailbot.mail.content import attempt, clean_text
from mailbot.mail.header_classes import MAIL_POLICY

_INJECTION_CHECKED = {
    "subject": "Subject",
    "from": "From",
    "reply-to": "Reply-To",
    "message-id": "Message-ID",
    "in-reply-to": "In-Reply-To",
    "references": "References",
}
_ADDR_SPEC = re.compile(r"[^\s<>(),;:@]+@[^\s<>(),;:@]+")
_MSG_ID = re.compile(r"<([^<>]*)>")


@dataclass(frozen=True, slots=True)
class HeaderField:
    name: str
    value: str
    parsed: object  # the MAIL_POLICY header object, or None when CPython could not parse it


def read_field(name: str, raw: str) -> HeaderField:
    """One header as sent: lower-cased name, decoded value, and CPython's parse if it had one."""
    try:
        parsed: object = MAIL_POLICY.header_fetch_parse(name, clean_text(raw))
        value = str(parsed)
    except Exception:  # e.g. CPython issue 83281 on "To: unlisted-recipients:; (comment)"
        parsed = None
        value = _decode_words(re.sub(r"[\r\n]", "", raw))
    return HeaderField(clean_text(name).lower(), clean_value(value), parsed)


def clean_value(value: str) -> str:
    """A header value as text, without the blanks folding leaves around it."""
    return clean_text(value).strip(" \t")


def _decode_words(value: str) -> str:
    return attempt(lambda: str(make_header(decode_header(value))), value)


def injected_header(fields: list[HeaderField]) -> str | None:
    """The name of the first header we rely on whose value smuggles in a line break, if any."""
    for field in fields:
        label = _INJECTION_CHECKED.get(field.name)
        if label and ("\r" in field.value or "\n" in field.value):
            return label
    return None


def first_value(fields: list[HeaderField], name: str) -> str | None:
    return next((f.value.strip() for f in fields if f.name == name), None)


def msg_ids(value: str) -> list[str]:
    """The <message ids> in a Message-ID, In-Reply-To or References value, brackets restored."""
    bracketed = _MSG_ID.findall(value)
    found = bracketed if bracketed else value.split()
    ids = (re.sub(r"\s+", "", i).strip("<>") for i in found)
    return [f"<{i}>" for i in ids if i]


def first_msg_id(fields: list[HeaderField], name: str) -> str | None:
    value = first_value(fields, name)
    ids = msg_ids(value) if value else []
    return ids[0] if ids else None


def addresses(fields: list[HeaderField], *names: str) -> list[tuple[str, str]]:
    """(display name, lowercased addr-spec) pairs of the named headers, unusable ones left out."""
    pairs: list[tuple[str, str]] = []
    for field in (f for f in fields if f.name in names):
        for display, found in _field_addresses(field):
            addr = clean_value(str(found)).lower()
            if _ADDR_SPEC.fullmatch(addr):
                pairs.append((clean_value(str(display)).strip(), addr))
    return pairs


def _field_addresses(field: HeaderField) -> list[tuple[str, str]]:
    parsed: Any = field.parsed
    found = attempt(lambda: [(a.display_name, a.addr_spec) for a in parsed.addresses], None)
    return found if found is not None else getaddresses([field.value])


def sent_date(fields: list[HeaderField]) -> datetime | None:
    """The Date header as an aware datetime, or None when it is missing or unreadable."""
    field = next((f for f in fields if f.name == "date"), None)
    if field is None:
        return None
    parsed: Any = field.parsed
    when = getattr(parsed, "datetime", None) or attempt(
        lambda: parsedate_to_datetime(field.value), None
    )
    if not isinstance(when, datetime):
        return None
    # "-0000" means "zone unknown"; the instant is still given in UTC.
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)
