"""Decide whether to ask a requester for an ID copy, and record why (LEGAL.md §2.2-2.3).

Pure: the facts come in (is the sender a known account, what does the mail say, what is
attached), a decision goes out. The detectors read the mail's new text in Dutch, French,
German and English, case- and accent-folded.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from classifiers import LABELS
from classifiers.citations import fold
from mailbot.mail.parse import ParsedMail
from mailbot.triage.identity import ID_KINDS


class IdentityPolicy(StrEnum):
    ON_DOUBT = "on_doubt"  # the default: the Belgian DPA's reading of Art. 12(6)
    ALWAYS = "always"  # the charter taken literally


THIRD_PARTY: Final = "third_party"
OTHER_REPLY_ADDRESS: Final = "other_reply_address"
CHANGES_ACCOUNT_EMAIL: Final = "changes_account_email"
UNKNOWN_ADDRESS: Final = "unknown_address"
POLICY_ALWAYS: Final = "policy_always"
# Highest first. The recorded reason is the one the ID check must settle: a third party
# needs a mandate as well as an identity, a foreign reply address could leak the data to a
# stranger even from a known sender, an e-mail change is how accounts are taken over, and an
# unknown address is the weakest (people often write from another mailbox of their own).
# policy_always is no doubt at all, only the charter's default.
DOUBT_REASONS: Final = (
    THIRD_PARTY,
    OTHER_REPLY_ADDRESS,
    CHANGES_ACCOUNT_EMAIL,
    UNKNOWN_ADDRESS,
    POLICY_ALWAYS,
)
_EXPLANATIONS: Final = {
    THIRD_PARTY: "someone writes on another person's behalf",
    OTHER_REPLY_ADDRESS: "the answer would go to another address than the sender's",
    CHANGES_ACCOUNT_EMAIL: "the request changes the account's e-mail address",
    UNKNOWN_ADDRESS: "the sender is not a known account address",
    POLICY_ALWAYS: "the identity policy asks for an ID copy with every request",
}
# Art. 21(2)-(3) and 7(3): acted on at once, never made to wait for an ID.
NO_ID_RIGHTS: Final = frozenset({"objection", "withdraw_consent"})
NOT_RIGHTS: Final = frozenset({"other", "not_a_request"})
SUFFICIENT_ID_KINDS: Final = frozenset({"eid_front", "passport", "driving_licence"})
PENDING_ID_KINDS: Final = frozenset({"other_document"})  # the DPO judges it by eye


@dataclass(frozen=True, slots=True)
class RequesterFacts:
    sender_known: bool
    reply_to_differs: bool
    third_party: bool
    answer_elsewhere: bool
    changes_email: bool
    id_attached_kind: str  # one of mailbot.triage.identity.ID_KINDS

    def __post_init__(self) -> None:
        if self.id_attached_kind not in ID_KINDS:
            raise ValueError(f"id_attached_kind {self.id_attached_kind!r} is not one of {ID_KINDS}")


@dataclass(frozen=True, slots=True)
class IdentityDecision:
    ask_for_id: bool
    doubt_reason: str | None  # one of DOUBT_REASONS
    why: str  # for the DPO and the audit trail; never holds personal data


# Addresses become tokens before matching: their dots would end sentences, and the
# sender's own address must not count as "elsewhere". Bounded, as every pattern here: an
# open-ended run would be re-scanned from each position of a long mail.
_ADDRESS = re.compile(r"[\w.+'-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}")
_ELSEWHERE, _OWN, _ANY = "<elsewhere>", "<own>", "<addr-spec>"


def _prepared(text: str, sender: str | None = None) -> str:
    own = fold(sender or "").strip()

    def token(found: re.Match[str]) -> str:
        return _OWN if own and found.group(0) == own else _ELSEWHERE

    return _ADDRESS.sub(token, fold(text))


def _any_match(patterns: Sequence[re.Pattern[str]], text: str) -> bool:
    return any(pattern.search(text) for pattern in patterns)


_GAP = r"[^\n.!?;]{0,40}?"
_KIN = (
    r"(?:moeder|vader|mama|papa|ouders|zoon|dochter|kind|kinderen|man|vrouw|echtgeno(?:ot|te)"
    r"|partner|broer|zus|oma|opa|grootmoeder|grootvader|tante|oom|schoon(?:moeder|vader)"
    r"|mere|pere|parents|fils|fille|enfant|mari|femme|epou(?:x|se)|conjoint|frere|s(?:oe|œ)ur"
    r"|grand-(?:mere|pere)|oncle|belle-mere|beau-pere|mutter|vater|eltern|sohn|tochter"
    r"|ehe(?:mann|frau)|bruder|schwester|gross(?:mutter|vater)|onkel|mother|father|mum|mom"
    r"|dad|son|daughter|child|children|husband|wife|spouse|brother|sister"
    r"|grand(?:mother|father)|aunt|uncle|(?:mother|father)-in-law)"
)
_ON_BEHALF: Final = tuple(
    re.compile(pattern)
    for pattern in (
        # nl
        r"\bnamens\b(?!\s+(?:mezelf|mijzelf|mij|mijn eigen)\b)|\bin (?:naam|opdracht) van\b",
        r"\bals\s+(?:(?:de|haar|zijn|hun)\s+)?(?:advocaat|raadsman|raadsvrouw|voogd|curator"
        r"|bewindvoerder|gevolmachtigde|erfgenaam|(?:wettelijke?\s+)?vertegenwoordiger)\b",
        r"\b(?:mijn|onze)\s+client(?:e|en)?\b|\bik vertegenwoordig\b|\bvolmacht\b|\bwijlen\b",
        rf"\b(?:gegevens|account|profiel|data)\s+van\s+(?:mijn|onze)\s+(?:overleden\s+)?{_KIN}\b",
        rf"\b(?:schrijf|mail|vraag|contacteer)\w*\b{_GAP}\bvoor\s+(?:mijn|onze)\s+{_KIN}\b",
        rf"\b(?:mijn|onze)\s+overleden\s+{_KIN}\b|\bmijn\s+{_KIN}\s+(?:heeft|vroeg)\s+mij\b",
        # fr
        r"\b(?:au nom|pour le compte|de la part) (?:de|d'|du|des)\b|\bje represente\b",
        r"\ben (?:tant qu(?:e|')|qualite (?:de|d'))\s*(?:(?:son|sa|leur|le|la|l')\s*)?(?:avocat"
        r"|conseil|representant|tut(?:eur|rice)|curat(?:eur|rice)|mandataire|heritier)",
        r"\b(?:je suis|ik ben|ich bin|i am|i'm)\s+(?:de|l'|der|die|the)\s*(?:advocaat|avocat"
        r"|(?:rechts)?anwalt|lawyer|attorney|solicitor)\w*\s+(?:van|de|d'|of|for|von|des)\b",
        r"\bmandataire\b|\bprocuration\b|\b(?:mon|ma) mandante?\b|\bfeue?\s+(?:mon|ma)\b",
        rf"\b(?:donnees|compte|profil|informations)\s+(?:personnelles\s+)?(?:de|d')\s*"
        rf"(?:mon|ma|mes|notre)\s+(?:(?:defunte?|regrettee?)\s+)?{_KIN}\b",
        rf"\b(?:ecri[st]|demande|contacte)\w*{_GAP}\bpour\s+(?:mon|ma|mes|notre)\s+{_KIN}\b",
        rf"\b(?:mon|ma)\s+{_KIN}\s+(?:decedee?|defunte?)\b",
        # de
        r"\bim (?:auftrag|namen)\b|\bin vertretung\b|\b(?:ich|wir) vertrete\w*\b",
        r"\bvertrete\w* (?:ich|wir)\b|\bvollmacht\b|\b(?:mein|unser)\w*\s+(?:mandant|klient)",
        r"\bals\s+(?:(?:der|die|ihr|sein|seine|ihre)\s+)?(?:(?:rechts)?anwalt(?:in)?|vormund"
        r"|betreuer(?:in)?|bevollmachtigte|erb(?:e|in)|gesetzliche[r]?\s+vertreter(?:in)?)\b",
        rf"\b(?:daten|konto|profil|kundenkonto)\s+(?:von\s+)?(?:meine[rsm]|unsere[rsm])\s+"
        rf"(?:verstorbenen\s+)?{_KIN}s?\b",
        rf"\b(?:schreibe|frage|wende|beantrage)\w*{_GAP}\bfur\s+(?:meine[nr]?|unsere[nr]?)\s+"
        rf"(?:verstorbenen?\s+)?{_KIN}\b",
        rf"\b(?:meine[rsnm]?|unsere[rsnm]?)\s+verstorbenen?\s+{_KIN}\b",
        # en
        r"\bon (?:the )?behalf of\b(?!\s+(?:myself|me)\b)|\bon (?:his|her|their) behalf\b",
        r"\bon\s+(?:my|our)\s+(?!own\b)[\w-]+(?:'s|s')\s+behalf\b|\bacting for\b",
        r"\b(?:i|we)\s+represent\b|\b(?:i am|i'm|we are|we're) representing\b",
        r"\bas\s+(?:(?:the|a|his|her|their)\s+)?(?:(?:legal\s+)?(?:guardian|representative)"
        r"|lawyer|attorney|solicitor|counsel|executor|heir|parent|trustee)\s+(?:of|for)\b",
        r"\bpower of attorney\b|\bmy\s+(?:late|deceased)\s+" + _KIN + r"\b",
        rf"\bmy\s+{_KIN}(?:'s|s')\s+(?:personal\s+)?(?:data|account|profile|information)\b",
        rf"\b(?:writ|request|ask|contact)\w*{_GAP}\bfor\s+my\s+(?:elderly\s+)?{_KIN}\b",
        rf"\bmy\s+{_KIN}\s+(?:has\s+)?asked me\b",
    )
)


def writes_for_someone_else(text: str) -> bool:
    """Whether the writer acts for another person: lawyer, parent, heir, relative."""
    return _any_match(_ON_BEHALF, _prepared(text))


_SEND = (
    r"(?:send|forward|reply|respond|answer|deliver|transfer|reach|contact|cc|mail (?:it|them)"
    r"|stuur|verstuur|zend|verzend|bezorg|antwoord|beantwoord|reageer|contacteer|bereik"
    r"|mail (?:het|ze|dit|alles)|envoy|renvoy|adress(?:ez|er)|transmet|fai(?:re|tes) parvenir"
    r"|repond|joindre|communiqu|schick|ubermittel|ubersend|antwort|zusend|zukommen"
    r"|weiterleit|erreich|kontaktier)\w*"
)
_TO = r"(?:to|at|on|naar|op|aan|a|au|sur|vers|an|auf|unter|via)"
_DETERMINERS = (
    r"(?:(?:my|mijn|mon|ma|mes|meine?[nrms]?|this|that|dit|dat|het|de|cet|cette|la|le|l'"
    r"|die|der|den|dem|the|an?|een|une?|ein\w*|following|volgende|suivante|folgende"
    r"|e-?mail-?|address|adres|adresse)\b(?:\s*:)?\s*){0,5}"
)
_OTHER_ADDRESS = (
    rf"(?:{_ELSEWHERE}"
    r"|\b(?:other|another|different|second|alternative|new|work|business|private|personal)"
    r"\s+(?:e-?mail\s+)?(?:address|e-?mail|inbox|mailbox)\b"
    r"|\b(?:andere?|nieuwe?|tweede|werk|prive|persoonlijke?|zakelijke?)\s*-?(?:e-?mail)?-?"
    r"\s*(?:adres|mailbox)\b"
    r"|\b(?:autre|nouvelle|deuxieme|seconde)\s+(?:adresse|e-?mail|boite)\b"
    r"|\badresse\s+(?:e-?mail\s+|mail\s+|electronique\s+)?(?:professionnelle|pro|personnelle"
    r"|privee|secondaire)\b"
    r"|\b(?:andere|neue|zweite|private|geschaftliche|dienstliche|berufliche)n?\s+"
    r"(?:e-?mail-?)?(?:adresse|e-?mail)\b|\b(?:arbeits|privat|geschafts|dienst)(?:-?e-?mail)?"
    r"-?adresse\b"
    r"|\b(?:lawyer|attorney|solicitor|accountant|advocaat|raadsman|boekhouder|avocat|avocate"
    r"|comptable|(?:rechts)?anwalt|anwaltin|steuerberater)\b)"
)
_NEGATION = re.compile(
    r"\b(?:stop\w*|no longer|not|don't|dont|never|niet|geen|nooit|meer|plus|pas|jamais"
    r"|nicht|kein\w*|nie|mehr|arret\w*|cess\w*|aufhor\w*|unsubscribe)\b"
)
# Lookaheads, so that every starting point is tried: "don't send it here, send it to X"
# must reach its second verb even though the first one's match is negated.
_ELSEWHERE_AFTER = re.compile(rf"(?=(\b{_SEND}\b{_GAP}\b{_TO}\s+{_DETERMINERS}{_OTHER_ADDRESS}))")
_ELSEWHERE_BEFORE = re.compile(rf"(?=(\b{_TO}\s+{_DETERMINERS}{_OTHER_ADDRESS}{_GAP}\b{_SEND}))")
_BUT_ELSEWHERE = re.compile(
    rf"\b(?:but|maar|mais|sondern)\s+{_TO}\s+{_DETERMINERS}{_OTHER_ADDRESS}"
)


def asks_answer_elsewhere(text: str, *, sender: str | None = None) -> bool:
    """Whether the mail asks for the answer or the data to go to another address or person.

    An address equal to `sender` is the sender's own and does not count; "stop sending
    newsletters to my work address" is an objection, not a redirection."""
    prepared = _prepared(text, sender)
    if _BUT_ELSEWHERE.search(prepared):
        return True
    for pattern in (_ELSEWHERE_AFTER, _ELSEWHERE_BEFORE):
        for found in pattern.finditer(prepared):
            lead_in = prepared[max(0, found.start() - 25) : found.end(1)]
            if not _NEGATION.search(lead_in):
                return True
    return False


_EMAIL_WORD = (
    r"(?:adresse\s+(?:e-?mail|mail|electronique|courriel)|e-?mail(?:\s*-?\s*(?:address|adres"
    r"|adresse))?|mailadres|courriel)"
)
_CHANGE_BEFORE = (
    r"(?:change|update|replace|modify|correct|edit|amend|wijzig|verander|vervang|corrigeer"
    r"|chang|modifi|mett\w* a jour|remplac|corrig|actualis|andern|aktualisier|ersetz"
    r"|korrigier|tausch)\w*"
)
_CHANGE_AFTER = (
    r"(?:changed|updated|replaced|modified|corrected|be changed|wijzigen|veranderen|aanpassen"
    r"|vervangen|updaten|corrigeren|gewijzigd|veranderd|aangepast|(?:a |est )?changee?"
    r"|modifiee?|changer|modifier|remplacer|mettre a jour|mise? a jour|andern|geandert"
    r"|aktualisieren|aktualisiert|ersetzen|ersetzt|korrigieren|korrigiert)\b"
)
_ACCOUNT_WORDS = (
    r"(?:(?:my|mijn|mon|ma|meine?[nr]?|the|het|de|le|la|l'|die|das|den|our|ons|onze|notre"
    r"|unsere?[nr]?|account|compte|konto|profiel|profile|profil|login|registered|current"
    r"|huidige?|actuelle?|aktuelle?|old|oude?|ancienne|alte[n]?|sie|bitte|please|graag)\b\s*){0,5}"
)
_NEW = r"(?:new|nieuwe?|nouvel(?:le)?|neuen?|neue[rs]?)"
# A conjunction or a second possessive brings in another object: in "my e-mail address is X
# and I want to change my name" the change is not about the address.
_SAME_CLAUSE = (
    r"(?:(?!\b(?:and|en|et|und|but|maar|mais|aber|my|mijn|mon|ma|mes|mein\w*|your|uw|votre)\b)"
    r"[^\n.!?;,])"
)
_EMAIL_CHANGE: Final = tuple(
    re.compile(pattern)
    for pattern in (
        rf"\b{_CHANGE_BEFORE}\s+{_ACCOUNT_WORDS}{_EMAIL_WORD}\b",
        rf"\b{_CHANGE_BEFORE}\s+{_ACCOUNT_WORDS}(?:address|adres|adresse)\s+(?:to|naar|in|en"
        rf"|par|auf|zu|:)?\s*{_ANY}",
        rf"\bpas\s+{_ACCOUNT_WORDS}{_EMAIL_WORD}\s+aan\b",
        rf"\b{_EMAIL_WORD}\b{_SAME_CLAUSE}{{0,30}}?\b{_CHANGE_AFTER}",
        rf"\b(?:my|mijn|mon|ma|meine?)\s+{_NEW}\s+{_EMAIL_WORD}\b",
        rf"\b{_NEW}\s+{_EMAIL_WORD}\s*:?\s*{_ANY}",
        rf"\b(?:instead of|in plaats van|au lieu de|statt|anstelle von)\s+{_ANY}",
        rf"\b(?:from|van|de|von)\s+{_ANY}\s*(?:to|naar|a|en|par|auf|zu|in|->|→|=>)\s*{_ANY}",
    )
)


def changes_account_email(text: str, rights: Sequence[str]) -> bool:
    """Whether a rectification request changes the e-mail address of the account."""
    if "rectification" not in rights:
        return False
    prepared = _ADDRESS.sub(_ANY, fold(text))
    return _any_match(_EMAIL_CHANGE, prepared)


def requester_facts(
    mail: ParsedMail,
    new_text: str,
    rights: Sequence[str],
    *,
    sender_known: bool,
    id_attached_kind: str,
) -> RequesterFacts:
    """The facts `identity_decision` needs, read from one mail (subject and new text)."""
    text = f"{mail.subject}\n{new_text}"
    reply_to = fold(mail.reply_to or "").strip()
    return RequesterFacts(
        sender_known=sender_known,
        reply_to_differs=bool(reply_to) and reply_to != fold(mail.sender or "").strip(),
        third_party=writes_for_someone_else(text),
        answer_elsewhere=asks_answer_elsewhere(text, sender=mail.sender),
        changes_email=changes_account_email(text, rights),
        id_attached_kind=id_attached_kind,
    )


def doubt_reasons(facts: RequesterFacts) -> tuple[str, ...]:
    """Every reason for doubt the facts give, highest priority first (policy aside)."""
    holds = {
        THIRD_PARTY: facts.third_party,
        OTHER_REPLY_ADDRESS: facts.reply_to_differs or facts.answer_elsewhere,
        CHANGES_ACCOUNT_EMAIL: facts.changes_email,
        UNKNOWN_ADDRESS: not facts.sender_known,
    }
    return tuple(reason for reason, held in holds.items() if held)


def identity_decision(
    rights: Sequence[str], facts: RequesterFacts, policy: IdentityPolicy
) -> IdentityDecision:
    """Whether to ask for an ID copy, the recorded doubt reason, and why (LEGAL.md §2.2-2.3)."""
    unknown = [right for right in rights if right not in LABELS]
    if unknown:
        raise ValueError(f"not classifier labels: {unknown}")
    exercised = {right for right in rights if right not in NOT_RIGHTS}
    if not exercised:
        return IdentityDecision(False, None, "no right is exercised, so there is nothing to verify")
    reasons = doubt_reasons(facts)
    if exercised <= NO_ID_RIGHTS:
        why = "an objection or consent withdrawal is honoured at once, without an ID copy"
        if not facts.sender_known:
            why += "; the sender's own address is what goes on the suppression list"
        return IdentityDecision(False, reasons[0] if reasons else None, _with(why, reasons))
    if policy is IdentityPolicy.ALWAYS:
        reasons = (*reasons, POLICY_ALWAYS)
    if not reasons:
        return IdentityDecision(False, None, "a known account address and nothing casts doubt")
    reason = reasons[0]
    if facts.id_attached_kind in SUFFICIENT_ID_KINDS:
        why = f"{_EXPLANATIONS[reason]}, but an ID copy ({facts.id_attached_kind}) is attached"
        return IdentityDecision(False, reason, _with(why, reasons[1:]))
    if facts.id_attached_kind in PENDING_ID_KINDS:
        why = f"{_EXPLANATIONS[reason]}; the attached document awaits the DPO's review"
        return IdentityDecision(False, reason, _with(why, reasons[1:]))
    why = f"{_EXPLANATIONS[reason]}, so an ID copy is requested"
    if facts.id_attached_kind == "eid_back":
        why += " (only the back of the eID card was sent; the front side is needed)"
    return IdentityDecision(True, reason, _with(why, reasons[1:]))


def _with(why: str, other_reasons: Sequence[str]) -> str:
    also = [reason for reason in other_reasons if reason != POLICY_ALWAYS]
    return f"{why} (also: {', '.join(also)})" if also else why


def pause_eligible(decision: IdentityDecision) -> bool:
    """Whether waiting for the requested ID may pause the clock (LEGAL.md §1.7, first half).

    Only an ID asked for a recorded reason of doubt counts; asking because the policy says
    `always` is no doubt, and without a request there is nothing to wait for. Whether the
    request came in time is `mailbot.cases.deadlines.pause_applies`."""
    return (
        decision.ask_for_id
        and decision.doubt_reason is not None
        and decision.doubt_reason != POLICY_ALWAYS
    )
