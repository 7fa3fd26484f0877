"""Decide whether an inbound mail comes from a person the bot may answer (RFC 3834 screening)."""

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from enum import StrEnum

from classifiers.quoting import new_text
from mailbot.mail.parse import ParsedMail


class Verdict(StrEnum):
    ANSWER = "answer"
    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"
    MAILING_LIST = "mailing_list"
    OWN_MAIL = "own_mail"
    NO_SENDER = "no_sender"


@dataclass(frozen=True, slots=True)
class Screening:
    verdict: Verdict
    reason: str
    flags: tuple[str, ...]

    @property
    def answerable(self) -> bool:
        return self.verdict is Verdict.ANSWER


_Finding = tuple[Verdict, str] | None

_DSN_TYPES = frozenset({"message/delivery-status", "message/global-delivery-status"})
_HEADER_COPY_TYPES = frozenset({"text/rfc822-headers", "message/rfc822-headers"})
_ENCLOSED_TYPES = frozenset({"message/rfc822", "message/global"}) | _HEADER_COPY_TYPES
_DAEMON_LOCAL_PARTS = {"mailerdaemon": "mailer-daemon", "postmaster": "postmaster"}
_LIST_HEADERS = (
    "list-id",
    "list-unsubscribe",
    "list-post",
    "list-subscribe",
    "list-help",
    "list-owner",
    "list-archive",
    "mailing-list",
    "x-mailing-list",
)
_AUTOREPLY_HEADERS = ("x-autoreply", "x-autorespond", "x-autoresponder", "x-mail-autoreply")
# Exchange sets these on rule-generated mail, but a redirect rule can also pass on a real
# request, so they only count together with a second machine signal.
_EXCHANGE_HINTS = (
    "x-auto-response-suppress",
    "x-ms-exchange-inbox-rules-loop",
    "x-ms-exchange-generated-message-source",
)

_AUTOREPLY_WORDS = (
    r"auto(?:matic|matische?|matisch|matique)?[ -]?(?:reply|replied|response|respons\w*|antwort)"
    r"|out of (?:the )?office(?: auto-?reply| reply)?|away from (?:the )?office"
    r"|on vacation|vacation (?:reply|notice|message)|absent(?:e)?(?: du bureau)?"
    r"|absence(?: du bureau)?"
    r"|message d'absence|r[ée]ponse automatique|afwezig(?:heid)?|automatisch (?:antwoord|bericht)"
    r"|niet aanwezig|abwesenheitsnotiz|abwesend|au(?:ß|ss)er haus|nicht im b[üu]ro"
    r"|respuesta autom[áa]tica|fuera de la oficina|risposta automatica|fuori (?:sede|ufficio)"
    r"|resposta autom[áa]tica|ausente|автоответ|автоматический ответ|自動応答|自動返信|不在"
)
# Anchored: the wording must be the whole subject or a "Prefix:" before the original one,
# so that "Absence of a reply to my access request" stays a person's mail.
# A vacation notice also says until when: "Afwezig tot 12 mei", "Out of office from 1 May".
_AWAY_UNTIL = (
    r"\s+(?:until|till|through|tot|vanaf|t/m|tem|jusqu|bis|desde|hasta|fino)\b"
    r"|\s+(?:from|van|du|vom|von|le|am|op|on)?\s*\d"
)
_AUTOREPLY_SUBJECT = re.compile(
    rf"^\s*\[?(?:{_AUTOREPLY_WORDS})\]?(?:\s*(?:[:：]|$)|{_AWAY_UNTIL})", re.IGNORECASE
)
# Words only a machine says of its own mail, in what the sender wrote now (a quote of
# another mail does not count).
_SELF_DECLARED_AUTOREPLY = re.compile(
    r"\b(?:this is an? (?:automatic|automated|auto-generated) (?:reply|response|message|e-?mail)"
    r"|dit is een automatisch(?: gegenereerd)? (?:antwoord|bericht|e-?mail)"
    r"|ceci est une? (?:r[ée]ponse|message|e-?mail|courriel) automatique"
    r"|dies ist eine? automatische (?:antwort|nachricht|abwesenheitsnotiz|e-?mail))\b",
    re.IGNORECASE,
)
# Addresses no one reads: an answer would go nowhere (a mailer-daemon is a bounce).
_NO_REPLY_LOCAL_PART = re.compile(
    r"^(?:no|do[-_.]?not|dont)[-_.]?reply(?:[-_.+].*)?$|^no[-_.]?answer(?:[-_.+].*)?$",
    re.IGNORECASE,
)
_AUTOREPLY_ANYWHERE = re.compile(rf"\b(?:{_AUTOREPLY_WORDS})\b", re.IGNORECASE)
_BOUNCE_SUBJECT = re.compile(
    r"^\s*(?:\[[^\]]{0,40}\]\s*)?"
    r"(?:(?:undeliver(?:ed|able)|non-?deliverable)(?:\s*:|\s+(?:e-?mail|mail|message)\b|\s*$)"
    r"|delivery status notification"
    r"|delivery notification: delivery has|(?:mail |message )?delivery (?:has )?fail(?:ed|ure)"
    r"|returned mail\b|failure notice\b|mail system error|email delivery error"
    r"|warning: could not send message|non remis\b|non distribuable|remise impossible"
    r"|unzustellbar|nicht zustellbar|onbestelbaar|niet bezorgd|non recapitabile"
    r"|no se puede entregar|n[ãa]o (?:é possível|foi possível) entregar"
    r"|недоставленное сообщение|сообщение не доставлено|ваше сообщение не доставлено)",
    re.IGNORECASE,
)
# Wording only mail systems use; enough on its own.
_DSN_PROSE = re.compile(
    r"this is the mail system at host|created automatically by mail delivery software"
    r"|delivery to the following recipients?(?:\(s\))? failed"
    r"|delivery has failed to these recipients"
    r"|sorry to have to inform you that your message could not|permanent fatal errors"
    r"|could not be delivered to one or more of its recipients",
    re.IGNORECASE,
)
# Wording a person might also write; it counts only next to an SMTP reply code, or next to a
# returned copy sent by a no-reply address (a person may re-send their own bounced mail).
_FAILURE_PROSE = re.compile(
    r"could not be delivered|undeliverable|delivery (?:has )?failed|user unknown|unknown user"
    r"|no such user|mailbox (?:is )?full|mailbox unavailable|recipient address rejected"
    r"|requested action not taken|address rejected",
    re.IGNORECASE,
)
# Blanks, not \s, before the code: \s* would run over every following empty line
# from each line start (minutes over a text of 190,000 newlines, found by fuzzing).
_SMTP_REPLY = re.compile(r"(?m)^[ \t]*(?:421|45[0-2]|55[0-4])(?:[ -]|$)|\b[45]\.[0-7]\.\d{1,3}\b")
_AUTOMATED_LOCAL_PART = re.compile(r"^(?:no-?reply|do-?not-?reply|bounces?|mailer|mail-?delivery)")
_REPORT_TYPE = re.compile(r"report-type\s*=\s*\"?([\w.-]+)", re.IGNORECASE)
_AUTH_FAILURE = re.compile(r"\b(dmarc|dkim|spf)\s*=\s*fail\b", re.IGNORECASE)


def screening_flags(mail: ParsedMail) -> tuple[str, ...]:
    """What the DPO should know about the mail's origin: a differing Reply-To, failed
    DMARC/DKIM/SPF (from Authentication-Results)."""
    return _flags(mail)


def screen(
    mail: ParsedMail,
    own_addresses: frozenset[str],
    own_domains: frozenset[str] = frozenset(),
) -> Screening:
    """Say whether `mail` may get an answer, and why not when it may not."""
    finding = _own_mail(mail, own_addresses, own_domains) or next(
        (found for rule in _RULES if (found := rule(mail)) is not None), None
    )
    if finding is None:
        finding = (
            (Verdict.NO_SENDER, "no sender address")
            if mail.sender is None
            else (Verdict.ANSWER, "mail from a person")
        )
    return Screening(verdict=finding[0], reason=finding[1], flags=_flags(mail))


def _values(mail: ParsedMail, name: str) -> list[str]:
    return [value for key, value in mail.headers if key == name]


def _token(value: str) -> str:
    """First word of a header value, lowercased, without comments or parameters."""
    return re.split(r"[;(\s]", value.strip().lower(), maxsplit=1)[0]


def _display(name: str) -> str:
    return "-".join(word.capitalize() for word in name.split("-"))


def _own_mail(mail: ParsedMail, addresses: frozenset[str], domains: frozenset[str]) -> _Finding:
    if mail.sender is not None and mail.sender in {a.lower() for a in addresses}:
        return Verdict.OWN_MAIL, "sender is one of our own addresses"
    if _values(mail, "x-mailbot-reference"):
        return Verdict.OWN_MAIL, "X-Mailbot-Reference header"
    domain = (mail.message_id or "").rstrip(">").rpartition("@")[2].lower()
    if domain and domain in {d.lower() for d in domains}:
        return Verdict.OWN_MAIL, "Message-ID from one of our own domains"
    return None


def _report_structure(mail: ParsedMail) -> _Finding:
    part_types = {a.declared_type for a in mail.attachments}
    if mail.content_type == "multipart/report":
        found = _REPORT_TYPE.search(mail.header("content-type") or "")
        report_type = found.group(1).lower() if found else ""
        reason = f"multipart/report; report-type={report_type or 'none'}"
        if report_type in ("delivery-status", "global-delivery-status") or part_types & _DSN_TYPES:
            return Verdict.BOUNCE, reason
        if report_type:
            return Verdict.AUTO_REPLY, reason  # read receipts, abuse and DMARC reports
    if mail.content_type in _DSN_TYPES or part_types & _DSN_TYPES:
        return Verdict.BOUNCE, "message/delivery-status part"
    if mail.content_type == "message/disposition-notification":
        return Verdict.AUTO_REPLY, "message/disposition-notification"
    if _values(mail, "x-failed-recipients"):
        return Verdict.BOUNCE, "X-Failed-Recipients header"
    return None


def _daemon_sender(mail: ParsedMail) -> _Finding:
    if mail.sender is not None:
        local = re.sub(r"[^a-z0-9]", "", mail.sender.rpartition("@")[0])
        names = [_DAEMON_LOCAL_PARTS[local]] if local in _DAEMON_LOCAL_PARTS else []
    else:  # "From: MAILER-DAEMON" without a domain leaves no address to look at
        words = re.sub(r"[^a-z0-9]", "", " ".join(_values(mail, "from")).lower())
        names = [shown for local, shown in _DAEMON_LOCAL_PARTS.items() if local in words]
    return (Verdict.BOUNCE, f"sender is {names[0]}") if names else None


def _bounce_subject(mail: ParsedMail) -> _Finding:
    if _BOUNCE_SUBJECT.search(mail.subject):
        return Verdict.BOUNCE, "delivery-failure subject"
    return None


def _auto_submitted(mail: ParsedMail) -> _Finding:
    for value in _values(mail, "auto-submitted"):
        if _token(value) not in ("", "no"):
            return Verdict.AUTO_REPLY, f"Auto-Submitted: {_token(value)}"
    return None


def _vendor_autoreply(mail: ParsedMail) -> _Finding:
    for name in _AUTOREPLY_HEADERS:
        if any(_token(v) not in ("no", "false", "0") for v in _values(mail, name)):
            return Verdict.AUTO_REPLY, f"{_display(name)} header"
    if "vacation" in " ".join(_values(mail, "x-apple-action")).lower():
        return Verdict.AUTO_REPLY, "X-Apple-Action: vacation"
    hints = [name for name in _EXCHANGE_HINTS if _values(mail, name)]
    if hints and (_AUTOREPLY_ANYWHERE.search(mail.subject) or _null_return_path(mail)):
        return Verdict.AUTO_REPLY, f"{_display(hints[0])} with an automatic-reply signal"
    return None


def _precedence(mail: ParsedMail) -> _Finding:
    for value in _values(mail, "precedence"):
        kind = _token(value)
        if kind in ("bulk", "list", "junk"):
            return Verdict.MAILING_LIST, f"Precedence: {kind}"
        if kind in ("auto_reply", "auto-reply"):
            return Verdict.AUTO_REPLY, f"Precedence: {kind}"
    return None


def _list_headers(mail: ParsedMail) -> _Finding:
    found = next((name for name in _LIST_HEADERS if _values(mail, name)), None)
    return (Verdict.MAILING_LIST, f"{_display(found)} header") if found else None


def _autoreply_subject(mail: ParsedMail) -> _Finding:
    if _AUTOREPLY_SUBJECT.search(mail.subject):
        return Verdict.AUTO_REPLY, "automatic-reply subject"
    return None


def _autoreply_text(mail: ParsedMail) -> _Finding:
    fresh = new_text(mail.text[:20_000], forwarded=False)[:2_000]
    if _SELF_DECLARED_AUTOREPLY.search(" ".join(fresh.split())):
        return Verdict.AUTO_REPLY, "the text says it is an automatic reply"
    return None


def _no_reply_sender(mail: ParsedMail) -> _Finding:
    local = (mail.sender or "").rpartition("@")[0]
    if _NO_REPLY_LOCAL_PART.match(local):
        return Verdict.AUTO_REPLY, "sender is a no-reply address"
    return None


def _null_return_path(mail: ParsedMail) -> bool:
    return any(re.sub(r"\s+", "", v) in ("<>", "") for v in _values(mail, "return-path"))


def _null_return_path_rule(mail: ParsedMail) -> _Finding:
    return (Verdict.BOUNCE, "null Return-Path <>") if _null_return_path(mail) else None


def _dsn_body(mail: ParsedMail) -> _Finding:
    """Last resort for bounces whose headers look like a person's mail."""
    part_types = {a.declared_type for a in mail.attachments}
    if part_types & _HEADER_COPY_TYPES:
        return Verdict.BOUNCE, "text/rfc822-headers part"
    text = re.sub(r"\s+", " ", mail.text)
    if _DSN_PROSE.search(text):
        return Verdict.BOUNCE, "delivery-failure report in the body"
    if not _FAILURE_PROSE.search(text):
        return None
    if _SMTP_REPLY.search(mail.text):
        return Verdict.BOUNCE, "delivery-failure wording with an SMTP reply code"
    automated = _AUTOMATED_LOCAL_PART.match((mail.sender or "").rpartition("@")[0])
    if automated and part_types & _ENCLOSED_TYPES:
        return Verdict.BOUNCE, "delivery-failure wording with the returned message"
    return None


def _untyped_report(mail: ParsedMail) -> _Finding:
    # Reports are machine-made whatever their type; an untyped one only gets this far when
    # nothing marked it as a bounce.
    if mail.content_type == "multipart/report":
        return Verdict.AUTO_REPLY, "multipart/report without report-type"
    return None


_RULES: tuple[Callable[[ParsedMail], _Finding], ...] = (
    _report_structure,
    _daemon_sender,
    _bounce_subject,
    _auto_submitted,
    _vendor_autoreply,
    _precedence,
    _list_headers,
    _autoreply_subject,
    _null_return_path_rule,
    _dsn_body,
    _untyped_report,
    _autoreply_text,
    _no_reply_sender,
)


def authentication_failed(flags: Collection[str]) -> bool:
    """Whether the receiving server could not tie the mail to its From domain: DMARC
    failed, or SPF and DKIM both did (one alone fails for forwarded or list mail). A
    forged Authentication-Results can only make a doubt, never lift one."""
    return "dmarc_fail" in flags or {"spf_fail", "dkim_fail"} <= set(flags)


def _flags(mail: ParsedMail) -> tuple[str, ...]:
    flags: list[str] = []
    if mail.reply_to is not None and mail.reply_to != mail.sender:
        flags.append("reply_to_differs")
    results = " ".join(_values(mail, "authentication-results"))
    failed = {method.lower() for method in _AUTH_FAILURE.findall(results)}
    flags.extend(f"{method}_fail" for method in ("dmarc", "dkim", "spf") if method in failed)
    return tuple(flags)
