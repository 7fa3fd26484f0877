"""Signals of doubt in what a requester wrote: writing for someone else, wanting the answer
sent elsewhere, changing the account's e-mail address (LEGAL.md §2.2).

Pure pattern matching on the mail's new text in Dutch, French, German and English, case-
and accent-folded, every pattern bounded in how far it reaches (a long odd body stays fast).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

from classifiers.citations import fold

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
