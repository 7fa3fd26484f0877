"""Rights named by explicit GDPR article citations ("Art. 15 DSGVO", "art. 7(3)", ...).

Also the sections of the two German church data-protection laws, which restate the
GDPR's rights under their own numbers: requesters send letters citing "§ 19 KDG"
(Catholic) or "§ 21 DSG-EKD" (Protestant) to any controller.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from typing import Final

_ARTICLE_RIGHTS: Final[dict[int, str]] = {
    15: "access",
    16: "rectification",
    17: "erasure",
    18: "restriction",
    20: "portability",
    21: "objection",
}
# KDG (and KDR-OG, identical in numbering) and DSG-EKD: the sections of the rights.
_CHURCH_LAW_SECTIONS: Final[dict[str, dict[int, str]]] = {
    "kdg": {
        17: "access",
        18: "rectification",
        19: "erasure",
        20: "restriction",
        22: "portability",
        23: "objection",
    },
    "dsg-ekd": {
        19: "access",
        20: "rectification",
        21: "erasure",
        22: "restriction",
        24: "portability",
        25: "objection",
    },
}
# "§ 19 Abs. 1 des Gesetzes über den Kirchlichen Datenschutz (KDG)", "§§ 17 und 19 KDG":
# the law's abbreviation closes the citation, after at most a few words of its full name.
_SECTION: Final = re.compile(
    r"§§?\s*(\d{1,3}(?:\s*(?:,|und|u\.|sowie|bis|-)\s*\d{1,3})*)"
    r"(?:\s*(?:abs\.?|absatz)\s*\d{1,2})?(?:\s*(?:s\.|satz|nr\.?)\s*\d{1,2})?"
    # the abbreviation right after, or the law's full name with it in brackets
    r"(?:\s+(?:des|der)\b[^§\d.,;:\n()]{0,100}\(|\s+(?:des|der)\s+|\s+)"
    r"(kdg|kdr-og|dsg[- ]ekd|ekd-datenschutzgesetz)\b"
)
# Art. 7 as a whole is about the conditions for consent; only its third
# paragraph is the withdrawal.
_CONSENT_ARTICLE: Final = 7
_CONSENT_WITHDRAWAL_PARAGRAPH: Final = 3

_LAW: Final = (
    r"(?:(?:eu-|uk[ -])?(?:gdpr|avg|rgpd|dsgvo|ds-gvo|agdpr)"
    r"|general data protection regulation|algemene verordening gegevensbescherming"
    r"|reglement general sur la protection des donnees|datenschutz-?grundverordnung"
    r"|(?:verordening|verordnung|reglement|regulation) \((?:eu|ue)\) (?:n[or]?\.? ?)?2016/679"
    r"|2016/679)"
)
_LAW_MENTION: Final = re.compile(rf"\b{_LAW}\b")
_ARTICLE_WORD: Final = re.compile(r"\b(?:artikel|article|artikels|articles|artt?)\b\.?\s*")
_NUMBER: Final = re.compile(
    r"(\d{1,3})(?!\d)"
    # the paragraph: "7(3)", "7 lid 3", "7 Abs. 3", "7, paragraphe 3", "7.3"
    r"(?:\s*\((\d{1,2})\)"
    r"|\s*,?\s*(?:lid|abs\.?|absatz|paragraaf|paragraphe|paragraph|para\.?|al\.?|alinea|§)\s*"
    r"(\d{1,2})(?!\d)"
    r"|\.(\d{1,2})(?![\d.]))?"
    # sentences and points that follow: "(1)(a)", "S. 1", "lit. b", "sub a", "onder b", "point c"
    r"(?:\s*\(\s*(?:\d{1,2}|[a-z])\s*\)"
    r"|\s*,?\s*(?:s\.|satz|zin|lit\.?|sub|onder|point|punt|buchst\.?)\s*(?:\d{1,2}|[a-z])\b)*"
)
_LIST_JOIN: Final = re.compile(
    r"\s*(?:,|;|/|&|\band\b|\ben\b|\bet\b|\bund\b|\bor\b|\bou\b|\boder\b)\s*"
)
# Between the number and the law only connecting words may stand: "du RGPD",
# "of the GDPR", "van de AVG", "der DSGVO"; "van de algemene voorwaarden" is
# another instrument and breaks the tie.
_LAW_AFTER: Final = re.compile(
    r"[\s,]*(?:(?:of|van|du|de|des|der|la|le|l'|the|het|die|from|under|uit|aus|gemass|gem\.|"
    r"volgens|conform|selon|according to|nach|eu|ue|europese|european|europeenne|europaischen)"
    rf"\b[\s']*)*{_LAW}\b"
)
_INSTRUMENT_AFTER: Final = re.compile(
    r"[\s,]*(?:of|van|du|de|des|der|uit|aus|from|bgb|hgb|bdsg|tkg|ttdsg|uwg|bw|wetboek|code|cc)\b"
)
_LAW_BEFORE: Final = re.compile(rf"\b{_LAW}\W{{0,4}}$")
_BEFORE_CHARS: Final = 24
_CONSENT_WORD: Final = re.compile(r"\b(?:consent|toestemming|consentement|einwilligung|zustimmung)")


def fold(text: str) -> str:
    """Case- and accent-folded text with plain apostrophes: the form all rules here match on."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return stripped.casefold().replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")


def cited_rights(text: str) -> frozenset[str]:
    """The rights whose GDPR article `text` cites.

    A citation counts when a GDPR name (GDPR, AVG, RGPD, DSGVO, 2016/679, ...)
    stands right next to it; or when it is not tied to another instrument and
    either the text names the GDPR elsewhere or the form is unmistakable
    (Art. 7(3) beside the word consent). "Art. 15 van de algemene voorwaarden"
    never counts.
    """
    folded = fold(text)
    law_named = _LAW_MENTION.search(folded) is not None
    consent_named = _CONSENT_WORD.search(folded) is not None
    rights: set[str] = set()
    for articles, start, end in _citations(folded):
        if _tied_to_law(folded, start, end):
            cited = articles
        elif _tied_elsewhere(folded, end):
            continue
        elif law_named:
            cited = articles
        elif consent_named:
            cited = [(7, 3)] if (7, 3) in articles else []
        else:
            continue
        rights.update(right for right in map(_right_of, cited) if right is not None)
    return frozenset(rights | _church_law_rights(folded))


def _church_law_rights(folded: str) -> set[str]:
    rights = set()
    for citation in _SECTION.finditer(folded):
        law = "kdg" if citation.group(2) in ("kdg", "kdr-og") else "dsg-ekd"
        for number in _section_numbers(citation.group(1)):
            right = _CHURCH_LAW_SECTIONS[law].get(number)
            if right is not None:
                rights.add(right)
    return rights


def _section_numbers(listed: str) -> set[int]:
    """ "17 und 19" -> {17, 19}; "17 bis 19" or "17-19" -> {17, 18, 19}."""
    numbers: set[int] = set()
    for start, end in re.findall(r"(\d{1,3})(?:\s*(?:bis|-)\s*(\d{1,3}))?", listed):
        first = int(start)
        last = int(end) if end else first
        numbers.update(range(first, min(last, first + 20) + 1))
    return numbers


def _citations(folded: str) -> Iterator[tuple[list[tuple[int, int | None]], int, int]]:
    """Each citation as its (article, paragraph) list with start and end ("Art. 15 en 17")."""
    for word in _ARTICLE_WORD.finditer(folded):
        articles: list[tuple[int, int | None]] = []
        position = end = word.end()
        while number := _NUMBER.match(folded, position):
            paragraph = next((int(group) for group in number.groups()[1:] if group), None)
            articles.append((int(number.group(1)), paragraph))
            end = number.end()
            joint = _LIST_JOIN.match(folded, end)
            if joint is None:
                break
            position = joint.end()
        if articles:
            yield articles, word.start(), end


def _right_of(article: tuple[int, int | None]) -> str | None:
    number, paragraph = article
    if number == _CONSENT_ARTICLE:
        return "withdraw_consent" if paragraph == _CONSENT_WITHDRAWAL_PARAGRAPH else None
    return _ARTICLE_RIGHTS.get(number)


def _tied_to_law(folded: str, start: int, end: int) -> bool:
    if _LAW_AFTER.match(folded, end):
        return True
    return _LAW_BEFORE.search(folded[max(0, start - _BEFORE_CHARS) : start]) is not None


def _tied_elsewhere(folded: str, end: int) -> bool:
    # "Art. 15 of the terms", "artikel 15 van het reglement", "Art. 15 BGB": a
    # genitive or another code's name that did not lead to a GDPR name.
    return _INSTRUMENT_AFTER.match(folded, end) is not None
