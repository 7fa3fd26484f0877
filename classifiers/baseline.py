"""The baseline classifier: weighted phrase rules per right in nl, fr, de and en, plus citations.

Rules match the case- and accent-folded subject and the new part of the body
(quoted history cut off). Each rule that fires adds its weight to its label's
evidence; a label's score is 1 - exp(-evidence), so one clear phrase (weight
about 1.5) gives roughly 0.78 and a right is exercised from 0.5 upwards.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Final

from classifiers.citations import cited_rights, fold
from classifiers.labels import LABELS, RIGHTS, Classification
from classifiers.language import detect_language

MAX_BODY_CHARS: Final = 20_000  # the new text sits at the top; the rest is history or noise
MAX_SUBJECT_CHARS: Final = 1_000
# A right is exercised when its score reaches this (evidence ln 2).
EXERCISED_SCORE: Final = 0.5
# An explicit article citation is about as strong as two clear phrases.
CITATION_WEIGHT: Final = 2.5
# A reply's subject repeats the thread's old topic: alone it never makes a right.
REPLY_SUBJECT_WEIGHT: Final = 0.25
# Mass-mail and service evidence needed before calling a mail not_a_request.
NOT_A_REQUEST_EVIDENCE: Final = 1.5
# "other" is a fallback, never a confident reading: its confidence stays low.
FALLBACK_CONFIDENCE_CAP: Final = 0.45
_SCORE_DIGITS: Final = 4

# --- reading the new text -------------------------------------------------------------

_REPLY_PREFIX: Final = re.compile(r"^\s*(?:re|aw|antw|antwoord|sv|ref)\s*(?:\[\d+\])?\s*:", re.I)
_FORWARD_PREFIX: Final = re.compile(r"^\s*(?:fwd?|tr|wg|doorst|fw|trans)\s*(?:\[\d+\])?\s*:", re.I)
_QUOTED_LINE: Final = re.compile(r"^\s*>")
_ATTRIBUTION: Final = re.compile(
    r"^\s*(?:on|op|le|am|el|il)\b(?=[^:]*\d).{0,400}?"
    r"\b(?:wrote|schreef|a (?:e|é)crit|schrieb|escribi[oó]|ha scritto)\b.{0,300}:\s*$",
    re.I,
)
_FORWARD_MARKER: Final = re.compile(
    r"^\s*(?:-{2,}\s*)?(?:forwarded message|doorgestuurd bericht|message transf[eé]r[eé]|"
    r"weitergeleitete nachricht|begin forwarded message|d[eé]but du message r[eé]exp[eé]di[eé]|"
    r"anfang der weitergeleiteten nachricht)\b.*$",
    re.I,
)
_HISTORY_MARKER: Final = re.compile(
    r"^\s*(?:-{2,}\s*(?:original message|oorspronkelijk bericht|origineel bericht|"
    r"message d'origine|message original|urspr(?:ü|u)ngliche nachricht|original-nachricht)"
    r"\s*-{2,}|_{10,}|--)\s*$",
    re.I,
)
_SENDER_HEADER: Final = re.compile(
    r"^\s*\**(?:from|van|de|von|exp[eé]diteur|absender)\s*\**\s*:", re.I
)
_OTHER_HEADER: Final = re.compile(
    r"^\s*\**(?:sent|date|datum|verzonden|envoy[eé](?: le)?|gesendet|to|aan|[aà]|an|"
    r"subject|onderwerp|objet|betreff|cc)\s*\**\s*:",
    re.I,
)
_HEADER_BLOCK_REACH: Final = 4
_FRESH_MIN_LETTERS: Final = 3


def subject_topic(subject: str) -> tuple[str, bool, bool]:
    """The subject without Re:/Fwd: prefixes, and whether it was a reply and a forward."""
    topic, is_reply, is_forward = subject.strip(), False, False
    while True:
        if match := _REPLY_PREFIX.match(topic):
            is_reply = True
        elif match := _FORWARD_PREFIX.match(topic):
            is_forward = True
        else:
            return topic, is_reply, is_forward
        topic = topic[match.end() :].strip()


def new_text(body: str, *, forwarded: bool = False) -> str:
    """What the sender wrote now: quoted lines and the reply history below them removed.

    A forward's own words are usually "see below", so for a forward the
    forwarded mail is kept; a bottom-posted reply keeps its unquoted lines.
    """
    lines = body.splitlines()
    cut, is_forward_marker = _history_start(lines)
    fresh = _unquoted(lines[:cut])
    if forwarded or is_forward_marker or _letters(fresh) < _FRESH_MIN_LETTERS:
        fresh = f"{fresh}\n{_unquoted(lines[cut:])}".strip()
    return fresh


def _history_start(lines: list[str]) -> tuple[int, bool]:
    for index, line in enumerate(lines):
        if _FORWARD_MARKER.match(line):
            return index, True
        joined = f"{line} {lines[index + 1]}" if index + 1 < len(lines) else line
        if (
            _HISTORY_MARKER.match(line)
            or _ATTRIBUTION.match(line)
            or _ATTRIBUTION.match(joined)
            or _is_header_block(lines, index)
        ):
            return index, False
    return len(lines), False


def _is_header_block(lines: list[str], index: int) -> bool:
    if not _SENDER_HEADER.match(lines[index]):
        return False
    following = lines[index + 1 : index + 1 + _HEADER_BLOCK_REACH]
    return any(_OTHER_HEADER.match(line) for line in following)


def _unquoted(lines: list[str]) -> str:
    return "\n".join(line for line in lines if not _QUOTED_LINE.match(line)).strip()


def _letters(text: str) -> int:
    return sum(char.isalpha() for char in text)


# --- rules --------------------------------------------------------------------------
# Patterns are written for folded text: lower case, no accents, single spaces.
# Weights: about 2 for the right's own name, 1.5 for a clear request phrase,
# below 1 for words that only hint. Every matching pattern adds its weight once.

Rule = tuple[str, float, re.Pattern[str]]

# "<gap>" in a pattern stands for up to four words in between.
_GAP: Final = r"(?:\W+\w+){0,4}?\W+"
_EN_DETAILS: Final = (
    r"(?:address|name|surname|first name|last name|e-?mail(?: address)?|(?:tele)?phone(?: number)?"
    r"|mobile(?: number)?|number|date of birth|birth ?date|details|data|information|spelling)"
)
_NL_DETAILS: Final = (
    r"(?:adres|naam|achternaam|voornaam|e-?mail(?:adres)?|telefoonnummer|gsm(?:-?nummer)?"
    r"|nummer|geboortedatum|gegevens|woonplaats|postcode)"
)
_FR_DETAILS: Final = (
    r"(?:adresse(?: e-?mail| mail| postale)?|nom(?: de famille)?|prenom|e-?mail|courriel"
    r"|numero(?: de telephone)?|telephone|date de naissance|donnees|informations|coordonnees)"
)
_DE_DETAILS: Final = (
    r"(?:adresse|anschrift|namen?|nachnamen?|vornamen?|e-?mail(?:-?adresse)?|telefonnummer"
    r"|handynummer|nummer|geburtsdatum|daten|angaben|kontaktdaten)"
)
_MARKETING: Final = (
    r"(?:marketing|newsletters?|nieuwsbrie(?:f|ven)|reclame|publicites?|pubs?|werbung|werbe\w*"
    r"|promo(?:tion)?s?|promoties?|advertising|ads|spam|mailings?|e-?mails|mails|courriels"
    r"|sms(?:'?jes)?|texts|calls|anrufe|appels|telefoontjes|offres|angebote|prospection)"
)
_NL_CONTACT: Final = r"(?:bellen|mailen|e-?mailen|sms'?en|contacteren|spammen|sturen|benaderen)"
_EN_ERASE: Final = r"\b(?:delete|erase|remove|wipe|purge|destroy)"
_NL_ERASE: Final = r"\b(?:verwijder|verwijderen|verwijdert|wis|wissen|wist|schrap|schrappen)"
_FR_ERASE: Final = r"\b(?:supprimer|supprimez|supprime|effacer|effacez|efface|retirer|retirez)"
_DE_ERASE: Final = r"\b(?:l(?:o|oe)sch\w*|entfern\w*)"


def _rules(label: str, weight: float, *patterns: str) -> tuple[Rule, ...]:
    return tuple(
        (label, weight, re.compile(pattern.replace("<gap>", _GAP))) for pattern in patterns
    )


RIGHT_RULES: Final[tuple[Rule, ...]] = (
    *_rules(
        "access",
        2.0,
        r"\bright (?:of|to) access\b|\b(?:data )?subject access request\b",
        r"\bwhat (?:personal )?(?:data|information|info|details) (?:do |does )?(?:you|your \w+)"
        r" (?:still |currently |actually )?(?:hold|have|keep|store|process)",
        r"\bwelke (?:persoons)?gegevens (?:hebben|heeft|hebt|bewaren|bewaart|verwerken|verwerkt"
        r"|kennen|bezitten) (?:jullie|u|jij|je)\b",
        r"\bdroit d'acces\b|\bdemande d'acces\b",
        r"\bquelles (?:sont les )?(?:donnees|informations)(?: personnelles| a caractere personnel)?"
        r" (?:vous )?(?:avez|detenez|possedez|conservez|traitez)",
        r"\bwelche (?:personenbezogenen |personlichen )?daten (?:haben|speichern|verarbeiten)"
        r" sie\b",
        r"\bwelche (?:personenbezogenen |personlichen )?daten sie (?:\w+ ){0,2}(?:gespeichert"
        r"|verarbeitet|haben)",
    ),
    *_rules(
        "access",
        1.5,
        r"\baccess to (?:all )?(?:of )?(?:my|the) (?:personal )?(?:data|information|details)",
        r"\b(?:do|does) (?:you|your \w+) (?:hold|have|keep|store|process) (?:any )?(?:personal )?"
        r"(?:data|information|details) (?:about|on|of) me\b",
        r"\bcopy of (?:all )?(?:of )?(?:my|the) (?:personal )?(?:data|information|details|records)",
        r"\binzage\w*",
        r"\bwat (?:weten|hebben|bewaren) (?:jullie|u) (?:allemaal )?(?:van|over) mij\b",
        r"\b(?:kopie|afschrift|overzicht) van (?:al )?(?:mijn|de|alle) (?:persoons)?gegevens\b",
        r"\b(?:acceder|acces) (?:a|aux) (?:l'ensemble de |toutes )?(?:mes|les) (?:donnees|infos)",
        r"\bcopie (?:de|des) (?:l'ensemble de |toutes )?(?:mes|les) (?:donnees|informations)",
        r"\bkopie (?:meiner|der|aller) (?:personenbezogenen |gespeicherten )?daten\b",
        r"\bdatenkopie\b",
    ),
    *_rules(
        "access",
        1.0,
        r"\bd?sar\b|\baccess request\b",
        r"\b(?:how did you (?:get|obtain)|where did you get) my\b",
        r"\brecht (?:op|van) inzage\b",
        r"\bwaar (?:hebben|heeft) (?:jullie|u) mijn \w+ vandaan\b",
        r"\bhoe kom(?:en jullie|t u) aan mijn\b",
        r"\bcommuniquer (?:l'ensemble des |toutes les |les |mes )(?:donnees|informations)",
        r"\bauskunft (?:nach|gemass|gem\.|uber (?:die |meine )?(?:\w+ )?(?:daten|angaben))",
    ),
    # "Auskunft" is also everyday German for "information".
    *_rules("access", 0.9, r"\b(?:daten)?auskunft\w*"),
    *_rules(
        "rectification",
        2.0,
        r"\brectif(?:y|ication)\b|\bright to rectif",
        r"\bberichtig\w*",
    ),
    *_rules(
        "rectification",
        1.5,
        rf"\b(?:correct|update|change|amend|fix) (?:my|the) (?:\w+ )?{_EN_DETAILS}\b",
        rf"\bmy (?:\w+ )?{_EN_DETAILS} (?:is|are) (?:wrong|incorrect|inaccurate|outdated"
        r"|out of date|misspelled|not correct)\b",
        r"\bmy (?:\w+ )?(?:address|name|e-?mail|number) (?:has|have) changed\b",
        r"\b(?:recht op )?(?:rectificatie|verbetering|correctie)\b",
        r"\b(?:corrigeer|verbeter|wijzig|update)(?:t|en)? (?:mijn|het|de) (?:\w+ )?"
        rf"{_NL_DETAILS}\b",
        rf"\bmijn (?:\w+ )?{_NL_DETAILS} (?:\w+ ){{0,3}}?(?:aanpassen|aan te passen|wijzigen"
        r"|te wijzigen|corrigeren|te corrigeren|verbeteren|te verbeteren|updaten|rechtzetten)\b",
        rf"\bmijn (?:\w+ )?{_NL_DETAILS} (?:klopt|is|staat|zijn|kloppen) (?:\w+ )?(?:niet|fout"
        r"|verkeerd|onjuist|verouderd)\b",
        r"\b(?:rectifier|rectifiez|corriger|corrigez|modifier|modifiez|mettre a jour|changer)"
        rf" (?:mon |ma |mes |l'|le |la |les )(?:\w+ )?{_FR_DETAILS}\b",
        rf"\b(?:mon|ma|mes) {_FR_DETAILS} (?:est|sont|n'est|ne sont) (?:pas |plus )?"
        r"(?:incorrecte?s?|erronee?s?|fausses?|faux|correcte?s?|a jour|exacte?s?)\b",
        rf"\b(?:meine|meinen|die) (?:\w+ )?{_DE_DETAILS} (?:\w+ ){{0,3}}?(?:korrigieren|andern"
        r"|aktualisieren|berichtigen)\b",
        r"\b(?:korrigieren|andern|aktualisieren) sie (?:bitte )?(?:meine|meinen|die) (?:\w+ )?"
        rf"{_DE_DETAILS}\b",
        rf"\bmeine (?:\w+ )?{_DE_DETAILS} (?:ist|sind|stimmt|stimmen) (?:\w+ )?(?:falsch|nicht"
        r" (?:mehr )?(?:korrekt|richtig|aktuell)|veraltet|fehlerhaft|unrichtig)\b",
    ),
    *_rules(
        "rectification",
        0.5,
        r"\b(?:wrong|incorrect|inaccurate|outdated|misspelled)\b",
        r"\b(?:onjuist|foutief|verouderd)e?\b|\bklop(?:t|pen) niet\b",
        r"\b(?:inexacte?s?|erronee?s?|obsoletes?)\b",
        r"\b(?:unrichtig|fehlerhaft|veraltet)e?[nrs]?\b",
    ),
    *_rules(
        "erasure",
        2.0,
        r"\bright to (?:be forgotten|erasure)\b",
        r"\brecht op (?:gegevens)?(?:wissing|verwijdering|vergetelheid|vergeten te worden)\b",
        r"\bdroit (?:a l'oubli|a l'effacement|a l'effacement)\b",
        r"\brecht auf (?:l(?:o|oe)schung|vergessen ?werden)\b",
    ),
    *_rules(
        "erasure",
        1.5,
        rf"{_EN_ERASE}<gap>(?:data|information|info|details|account|profile|records?)\b",
        rf"{_EN_ERASE} me from (?:\w+ ){{0,2}}?(?:database|system|records|files)\b",
        rf"{_NL_ERASE}<gap>(?:gegevens|account|profiel|data|info|informatie)\b",
        r"\b(?:gegevens|account|profiel|data)\b<gap>(?:verwijderen|verwijderd|wissen|gewist|schrappen|geschrapt)\b",
        r"\b(?:mij|me) (?:\w+ )?(?:uit|van) (?:\w+ ){0,2}?(?:databank|database|bestand|systeem"
        r"|klantenbestand) (?:\w+ )?(?:verwijderen|wissen|schrappen|halen)\b",
        rf"{_FR_ERASE}<gap>(?:donnees|compte|profil|informations|coordonnees)\b",
        r"\b(?:donnees|compte|profil|informations)\b<gap>(?:supprimee?s?|effacee?s?)\b",
        rf"{_DE_ERASE}<gap>(?:daten|konto|account|profil|angaben)\b",
        r"\b(?:daten|konto|account|profil|kundenkonto|angaben)\b<gap>(?:l(?:o|oe)schen|entfernen|gel(?:o|oe)scht|entfernt)\b",
    ),
    *_rules(
        "erasure",
        1.0,
        r"\b(?:deletion|erasure)\b|\bforget me\b|\b(?:close|cancel|terminate) my account\b",
        r"\bverwijdering\b|\bvergeten (?:te )?worden\b|\baccount (?:opheffen|opzeggen|sluiten)\b",
        r"\b(?:suppression|effacement)\b|\bfermer mon compte\b",
        r"\bl(?:o|oe)schung\w*|\bl(?:o|oe)schen\b",
    ),
    *_rules(
        "restriction",
        2.0,
        r"\brestrict(?:ion of)? (?:the )?processing\b|\bright to restrict",
        r"\bbeperking van (?:de )?verwerking\b|\brecht op beperking\b",
        r"\blimitation (?:du|de) (?:traitement|l'utilisation)\b|\bdroit a la limitation\b",
        r"\beinschrankung der verarbeitung\b|\brecht auf einschrankung\b",
    ),
    *_rules(
        "restriction",
        1.5,
        r"\b(?:limit|freeze|suspend|block) (?:the )?(?:processing|use) of my (?:personal )?data\b",
        r"\bbeperk(?:en|t)? (?:de|het) (?:verwerking|gebruik)\b",
        r"\bverwerking\b<gap>(?:beperken|opschorten|bevriezen)\b",
        r"\blimite[rz] (?:le traitement|l'utilisation)\b",
        r"\bverarbeitung\b<gap>einschranken\b|\beinschranken\b<gap>verarbeitung\b",
        r"\bsperr(?:ung|en)\b<gap>daten\b|\bdaten\b<gap>sperren\b",
    ),
    *_rules("restriction", 0.5, r"\brestrict(?:ion)?\b|\bbeperking\b"),
    *_rules(
        "portability",
        2.0,
        r"\b(?:data )?portability\b|\b(?:data|gegevens)?overdraagbaarheid\b",
        r"\bportabilite\b|\b(?:daten)?ubertragbarkeit\b",
    ),
    *_rules(
        "portability",
        1.5,
        r"\bexport (?:of )?(?:all )?(?:my|the) (?:personal )?(?:data|information|account)\b",
        r"\b(?:transfer|transmit|move|port|send)\b<gap>to (?:another|a different|a new|my new)"
        r" (?:provider|company|service|controller)\b",
        r"\bexporte?\w*<gap>gegevens\b|\bgegevens\b<gap>exporte\w*",
        r"\bexport(?:er|ez)? (?:de )?(?:\w+ )?(?:mes|les) donnees\b",
        r"\btransmettre\b<gap>a un (?:autre|nouveau) (?:responsable|prestataire|fournisseur)\b",
        r"\bexport\w*<gap>daten\b|\bdaten\b<gap>export\w*",
        r"\b(?:ubermitteln|ubertragen)\b<gap>(?:anderen|neuen) (?:verantwortlichen|anbieter)\b",
    ),
    *_rules(
        "portability",
        1.2,
        r"\bmachine[- ]?readable\b|\bstructured,? (?:commonly used|common)\b",
        r"\bmachine\W?leesba\w*",
        r"\b(?:overdragen|overzetten|doorsturen|overmaken) (?:naar|aan) (?:een )?"
        r"(?:andere|nieuwe)\b",
        r"\blisible par (?:une )?machine\b|\bformat (?:structure|couramment utilise)\b",
        r"\bmaschinenlesbar\w*|\bstrukturierten?,? gangigen\b",
    ),
    *_rules("portability", 0.4, r"\b(?:csv|json|xml)\b"),
    *_rules(
        "objection",
        2.0,
        r"\bi (?:hereby )?object\b|\bright to object\b",
        r"\bobject(?:ion)? to (?:the |any )?(?:processing|use|(?:direct )?marketing|profiling)\b",
        r"\bremove (?:me|my (?:\w+ )?(?:e-?mail|address|number)) from (?:\w+ ){0,2}?(?:mailing"
        r"|e-?mail|marketing|newsletter|distribution|contact|call)(?:ing)? list",
        r"\b(?:me|mij) (?:\w+ )?(?:uit|van) (?:de|jullie|uw|het) (?:\w+ )?"
        r"(?:mailing|verzend|e-?mail|marketing|bel)(?:lijst|bestand)\b",
        r"\bje m'oppose\b|\bdroit d'opposition\b|\bm'opposer\b",
        r"\bopposition (?:au|a la|a tout) (?:traitement|prospection|profilage)\b",
    ),
    *_rules(
        "objection",
        1.8,
        r"\bunsubscribe (?:me|my)\b|\b(?:please|want to|like to|wish to) unsubscribe\b",
        r"\bstop (?:sending|e-?mailing|mailing|calling|phoning|texting|contacting|spamming"
        r"|bothering)\b",
        r"\b(?:do not|don't|dont|never) (?:call|phone|text|e-?mail|contact|mail) me\b",
        rf"\bno (?:more|further) (?:\w+ )?{_MARKETING}\b",
        rf"\b(?:stop|stopt|stoppen) (?:\w+ )?met (?:het )?(?:\w+ )?{_NL_CONTACT}\b",
        r"\b(?:bel|mail|contacteer|sms) (?:me|mij) (?:\w+ )?(?:niet meer|nooit meer|niet langer)\b",
        r"\bniet meer (?:gebeld|gemaild|gecontacteerd|benaderd|lastiggevallen)\b",
        r"\bne plus (?:me |m')?(?:recevoir|appeler|contacter|solliciter|demarcher|envoyer"
        r"|ecrire)\b",
        r"\bne (?:m'|me )(?:appelez|contactez|envoyez|sollicitez|ecrivez) plus\b",
        r"\b(?:arretez|cessez|arreter|cesser) de (?:m'|me )?(?:appeler|contacter|envoyer|ecrire"
        r"|harceler|solliciter|spammer)\b",
        r"\bwiderspruch\w*|\bwiderspreche\w*",
        rf"\bkeine (?:\w+ )?{_MARKETING} mehr\b|\bmochte (?:\w+ )?keine (?:\w+ )?{_MARKETING}\b",
        r"\b(?:rufen|schreiben|kontaktieren) sie mich (?:bitte )?nicht mehr\b",
        r"\bnicht mehr (?:anrufen|kontaktieren|anschreiben|belastigen)\b",
    ),
    *_rules(
        "objection",
        1.6,
        rf"\bgeen (?:\w+ )?{_MARKETING}(?: \w+)? meer\b",
        rf"\bwil (?:\w+ )?geen (?:\w+ )?{_MARKETING}\b",
        rf"\bplus de {_MARKETING}\b",
        r"(?<!geen )\bbezwaar\b",  # "geen bezwaar" means "no objection"
    ),
    *_rules(
        "objection",
        1.0,
        r"\bopt(?:[- ])?out\b",
        r"\buitschrijven\b|\bschrijf (?:me|mij) uit\b|\bafmelden\b|\bmeld (?:me|mij) af\b",
        r"\b(?:desinscri|desabonn)\w*",
        r"\b(?:abmelden|abbestellen|austragen|abmeldung)\b",
    ),
    *_rules(
        "objection",
        0.6,
        r"\bunsubscribe\b|\b(?:direct )?marketing\b",
        r"\brecht (?:van|op) bezwaar\b",
        r"\bopposition\b|\b(?:prospection|demarchage)\b",
    ),
    *_rules(
        "withdraw_consent",
        2.0,
        r"\b(?:withdraw|withdrawing|revoke|revoking|retract|cancel)\b(?:\W+\w+){0,3}?\W+consent\b",
        r"\b(?:withdrawal|revocation) of (?:my )?consent\b",
        r"\b(?:trek|trekt|intrekken|ingetrokken|intrekking)\b<gap>toestemming\b",
        r"\btoestemming\b<gap>(?:intrekken|ingetrokken|intrekking|in te trekken)\b",
        r"\b(?:retire|retirer|retirez|retrait|revoque|revoquer|revocation)\b<gap>consentement\b",
        r"\b(?:widerrufe|widerrufen|widerruf|zuruckziehen|ziehe)\b<gap>(?:einwilligung|einverstandnis|zustimmung)\w*",
        r"\b(?:einwilligung|einverstandnis|zustimmung)\w*<gap>(?:widerrufe|widerrufen|zuruck|zuruckziehen)\b",
    ),
    *_rules(
        "withdraw_consent",
        1.5,
        r"\bno longer (?:give (?:my |you )?)?consent\b|\bi do (?:not|n't) consent\b",
        r"\b(?:geef|heb) (?:ik )?(?:u |jullie )?geen toestemming\b",
        r"\bje ne consens plus\b",
    ),
    *_rules(
        "withdraw_consent",
        0.4,
        r"\bconsent\b|\btoestemming\b|\bconsentement\b|\beinwilligung\w*",
    ),
)

# Privacy words: evidence for "other", and a veto on reading a mail as customer service.
PRIVACY_RULES: Final[tuple[Rule, ...]] = (
    *_rules(
        "other",
        1.2,
        r"\b(?:gegevensbeschermingsautoriteit|autoriteit persoonsgegevens|toezichthouder)\b",
        r"\b(?:autorite de protection des donnees|datenschutzbehorde|aufsichtsbehorde)\b",
        r"\b(?:gba|apd|cnil|ico|edpb)\b",
    ),
    *_rules(
        "other",
        1.0,
        r"\b(?:datalek|data ?breach|fuite de donnees|violation de donnees|datenleck|datenpanne)\b",
    ),
    *_rules(
        "other",
        0.6,
        r"\bprivacy\w*|\b(?:gdpr|avg|rgpd|dsgvo|ds-gvo|vie privee)\b|\bdatenschutz\w*",
        r"\b(?:gegevensbescherming|protection des donnees|data protection)\b",
        r"\b(?:persoonsgegevens|personal (?:data|information)|personenbezogen\w*)\b",
        r"\bdonnees (?:personnelles|a caractere personnel)\b",
        r"\b(?:mijn gegevens|mes donnees|meine daten|my data)\b",
        r"\b(?:klacht|plainte|beschwerde|complaint)\b",
        r"\b(?:herinnering|rappel|erinnerung|reminder)\b",
        r"\b(?:nog steeds|nog altijd) geen antwoord\b|\btoujours pas de reponse\b",
        r"\b(?:immer noch|noch) keine antwort\b|\bstill no (?:answer|reply)\b",
        r"\b(?:dpo|functionaris voor gegevensbescherming|delegue a la protection des donnees)\b",
        r"\bdatenschutzbeauftragte\w*",
    ),
)

# Bulk mail and automatic replies: nobody is asking anything.
MASS_MAIL_RULES: Final[tuple[Rule, ...]] = (
    *_rules(
        "not_a_request",
        1.5,
        r"\bout of (?:the )?office\b|\bauto(?:matic)?[- ]?reply\b",
        r"\bi (?:am|will be) (?:currently )?(?:away|out of the office|on (?:annual )?leave"
        r"|on holiday|on vacation)\b",
        r"\bafwezig(?:heid)?s?bericht\b|\bautomatisch antwoord\b",
        r"\bik ben (?:momenteel |tot \w+ \w+ )?afwezig\b",
        r"\breponse automatique\b|\babsente? du bureau\b|\bje suis (?:actuellement )?absente?\b",
        r"\babwesenheitsnotiz\b|\bautomatische antwort\b",
        r"\bich bin (?:derzeit |zurzeit )?(?:nicht im buro|abwesend|im urlaub)\b",
        r"\bdelivery status notification\b|\bundeliver(?:able|ed)\b",
        r"\bmail delivery (?:failed|subsystem)\b|\bcould not be delivered\b",
        r"\bniet (?:afgeleverd|bezorgd) (?:worden|kunnen worden)\b|\bonbestelbaar\b",
        r"\bnon remis\b|\bn'a pas pu etre (?:remis|distribue)\b",
        r"\bunzustellbar\b|\bkonnte nicht zugestellt\b",
    ),
    *_rules(
        "not_a_request",
        1.2,
        r"\byou (?:are receiving|received) this (?:e-?mail|message|newsletter)\b",
        r"\b(?:je|u) ontvangt deze (?:e-?mail|nieuwsbrief|mail|berichten)\b",
        r"\bvous recevez (?:cet|ce|cette) (?:e-?mail|message|courriel|newsletter)\b",
        r"\bsie erhalten diese (?:e-?mail|nachricht|newsletter|mail)\b",
        r"\bclick here to unsubscribe\b|\bto unsubscribe,? click\b",
        r"\bklik hier om (?:je|u) af te melden\b",
        r"\b(?:pour vous desinscrire|pour se desinscrire),? cliquez\b",
        r"\bcliquez ici pour vous desinscrire\b",
        r"\bum sich (?:\w+ ){0,3}abzumelden\b|\bhier abmelden\b",
        r"\bif you (?:no longer wish|do not wish|don't want) to receive\b",
        r"\bwil (?:je|u) (?:deze|onze) (?:\w+ )?niet (?:meer )?ontvangen\b",
        r"\bsi vous ne souhaitez plus recevoir\b",
        r"\bwenn sie (?:diese|unsere) (?:\w+ )?nicht mehr erhalten\b",
    ),
    *_rules(
        "not_a_request",
        1.0,
        r"\bview (?:this e-?mail )?in (?:your )?browser\b",
        r"\bmanage (?:your )?(?:e-?mail )?preferences\b",
        r"\bbekijk (?:deze e-?mail|de online versie)\b",
        r"\bversion (?:en ligne|web)\b|\bim browser (?:ansehen|anzeigen|offnen)\b",
    ),
    *_rules(
        "not_a_request",
        0.5,
        r"\b(?:kortingscode|code promo|gutscheincode|discount code|promo code)\b",
        r"\b\d{1,2} ?% (?:off|korting|de remise|rabatt)\b",
    ),
)

# Jaimy's ordinary business (quotes, appointments, tradespeople): misdirected service mail.
SERVICE_RULES: Final[tuple[Rule, ...]] = (
    *_rules(
        "not_a_request",
        1.0,
        r"\b(?:offerte|prijsofferte|prijsopgave|devis|quote|quotation|kostenvoranschlag|angebot)\b",
        r"\b(?:afspraak|rendez-vous|rdv|appointment|termin)\b",
    ),
    *_rules(
        "not_a_request",
        0.8,
        r"\b(?:factuur|facture|invoice|rechnung)\b",
        r"\b(?:vakman|loodgieter|elektricien|aannemer|technieker|plombier|electricien|artisan)\b",
        r"\b(?:technicien|handwerker|installateur|klempner|elektriker|plumber|electrician)\b",
        r"\b(?:contractor|technician|handyman)\b",
    ),
    *_rules(
        "not_a_request",
        0.6,
        r"\b(?:herstelling|reparatie|renovatie|reparation|travaux|renovation|reparatur|repair)\b",
    ),
)

# --- scoring ------------------------------------------------------------------------


class BaselineClassifier:
    """Phrase rules and article citations; deterministic, offline, no training."""

    name: str = "baseline"

    def classify(self, subject: str, body: str) -> Classification:
        """Read the subject and the new text of the body and name the rights exercised."""
        topic, is_reply, is_forward = subject_topic(subject[:MAX_SUBJECT_CHARS])
        text = new_text(body[:MAX_BODY_CHARS], forwarded=is_forward)
        language = detect_language(f"{topic}\n{text}")
        folded_topic, folded_text = _matchable(topic), _matchable(text)
        subject_weight = REPLY_SUBJECT_WEIGHT if is_reply else 1.0
        rights = rule_evidence(RIGHT_RULES, folded_topic, folded_text, subject_weight)
        for right in cited_rights(text if is_reply else f"{topic}\n{text}"):
            rights[right] = rights.get(right, 0.0) + CITATION_WEIGHT
        privacy = rule_evidence(PRIVACY_RULES, folded_topic, folded_text, subject_weight)
        mass_mail = rule_evidence(MASS_MAIL_RULES, folded_topic, folded_text, 1.0)
        service = rule_evidence(SERVICE_RULES, folded_topic, folded_text, 1.0)
        return decide(
            language,
            rights,
            privacy=sum(privacy.values()),
            mass_mail=sum(mass_mail.values()),
            service=sum(service.values()),
        )


def rule_evidence(
    rules: Iterable[Rule], subject: str, text: str, subject_weight: float
) -> dict[str, float]:
    """Summed weight per label of the rules that match the folded subject or text."""
    evidence: dict[str, float] = {}
    for label, weight, pattern in rules:
        if pattern.search(text):
            hit = 1.0
        elif subject and pattern.search(subject):
            hit = subject_weight
        else:
            continue
        evidence[label] = evidence.get(label, 0.0) + weight * hit
    return evidence


def decide(
    language: str,
    rights: Mapping[str, float],
    *,
    privacy: float,
    mass_mail: float,
    service: float,
) -> Classification:
    """Turn evidence for each right, privacy topic, bulk mail and customer service into a result."""
    scores = {right: score_of(rights.get(right, 0.0)) for right in RIGHTS}
    strongest = max(rights.get(right, 0.0) for right in RIGHTS)
    exercised = sorted(
        (right for right in RIGHTS if scores[right] >= EXERCISED_SCORE),
        key=lambda right: (-scores[right], RIGHTS.index(right)),
    )
    # Service words speak against a request only when nothing in the mail is
    # about privacy; a newsletter footer or an out-of-office reply does even
    # beside a privacy-policy link.
    against = mass_mail + (service if privacy == 0.0 and not exercised else 0.0)
    scores["other"] = score_of(privacy)
    scores["not_a_request"] = score_of(against)
    if against >= NOT_A_REQUEST_EVIDENCE and against > strongest:
        # The baseline never drops a mail on its own: a person confirms.
        return _result(language, ("not_a_request",), scores, scores["not_a_request"], True)
    if exercised:
        return _result(language, tuple(exercised), scores, scores[exercised[0]], False)
    confidence = round(FALLBACK_CONFIDENCE_CAP * scores["other"], _SCORE_DIGITS)
    return _result(language, ("other",), scores, confidence, True)


def score_of(evidence: float) -> float:
    """Evidence (summed rule weights) as a score in [0, 1)."""
    return round(1.0 - math.exp(-max(evidence, 0.0)), _SCORE_DIGITS)


def _matchable(text: str) -> str:
    return " ".join(fold(text).split())


def _result(
    language: str,
    labels: tuple[str, ...],
    scores: dict[str, float],
    confidence: float,
    needs_triage: bool,
) -> Classification:
    return Classification(
        language=language,
        primary=labels[0],
        labels=labels,
        scores={label: scores[label] for label in LABELS},
        confidence=confidence,
        needs_triage=needs_triage,
    )
