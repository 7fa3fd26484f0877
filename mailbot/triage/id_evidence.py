"""What identity document OCR text shows: the pure decision core of the ID-copy check.

It scores each kind's cues (titles, field labels, number layouts, a machine-readable zone
and its ICAO 9303 check digits as `mrz` reads them, the card's proportions) and names the
best kind above a threshold. OCR is noisy, so text is case- and accent-folded and long
words match on most of their trigrams. Evidence and reasons are fixed phrases about the
document, never what it says about its holder (LEGAL.md §2.5): no name, number or MRZ
text leaves this module.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from mailbot.triage.mrz import fold, read_mrz

ID_KINDS = ("eid_front", "eid_back", "passport", "driving_licence", "other_document", "none")
IDENTITY_KINDS = ID_KINDS[:4]
DECIDE_SCORE = 5  # below it the image is an `other_document`
VERIFY_SCORE = 8  # from here (or with a valid MRZ) the kind counts as established
KIND_NAMES = {
    "eid_front": "Belgian eID front",
    "eid_back": "Belgian eID back",
    "passport": "passport data page",
    "driving_licence": "driving licence",
}


@dataclass(frozen=True, slots=True)
class IdCheck:
    """What an attachment was found to be, recorded as facts only (LEGAL.md §2.5).

    `verified` says the document was read and its kind established; whether it belongs
    to the requester is the DPO's decision, not this module's.
    """

    kind: str  # one of ID_KINDS
    verified: bool  # the kind is established from what the document shows
    reason: str
    evidence: tuple[str, ...] = ()
    # Whether the document shows the name the caller gave (None: no name to compare, or
    # nothing read); the name itself is never kept.
    holder_match: bool | None = None
    # The words the OCR read, for the classifier when the file is a letter, not an ID
    # document. Held in memory for the one reading of the mail: never in `as_json`,
    # never stored, never logged (repr=False).
    text: str = field(default="", repr=False, compare=False)

    def as_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "verified": self.verified,
            "reason": self.reason,
            "evidence": list(self.evidence),
            "holder_match": self.holder_match,
        }


def no_document() -> IdCheck:
    return IdCheck("none", False, "no document attached")


def unreadable(reason: str, evidence: tuple[str, ...] = ()) -> IdCheck:
    """A document we could not read: say so rather than guess its kind."""
    return IdCheck("other_document", False, reason, evidence)


def ocr_unavailable() -> IdCheck:
    return unreadable("ocr unavailable")


@dataclass(frozen=True, slots=True)
class _Cues:
    group: str  # evidence prefix
    points: tuple[int, int, int]  # for the first spelling found, each further one, at most
    kinds: tuple[str, ...]
    spellings: str  # folded, separated by "|"


_FRONT, _BACK, _PASSPORT, _LICENCE = IDENTITY_KINDS
_ID_CARDS, _PHOTO_PAGES = (_FRONT, _BACK, _LICENCE), (_FRONT, _PASSPORT)
# A lone country or title word is what letters contain too; the multilingual headers of
# Belgian documents have three or four, which is what the points for more are for.
_TITLE, _LABEL, _STRONG_LABEL, _SIDE_LABEL = (1, 2, 4), (1, 1, 4), (2, 2, 4), (1, 1, 2)
_CUES = (
    _Cues("issuer", (0, 1, 2), IDENTITY_KINDS, "BELGIE|BELGIQUE|BELGIEN|BELGIUM"),
    _Cues("title", _TITLE, (_FRONT,), "IDENTITEITSKAART|CARTE D'IDENTITE|PERSONALAUSWEIS"),
    _Cues("title", _TITLE, (_FRONT,), "IDENTITY CARD"),
    _Cues("title", _TITLE, (_PASSPORT,), "PASPOORT|PASSEPORT|REISEPASS|PASSPORT"),
    _Cues("title", _TITLE, (_LICENCE,), "RIJBEWIJS|PERMIS DE CONDUIRE|FUHRERSCHEIN"),
    _Cues("title", _TITLE, (_LICENCE,), "DRIVING LICENCE|DRIVING LICENSE"),
    # The holder's data, which a card front and a passport page share.
    _Cues("label", _LABEL, _PHOTO_PAGES, "NAAM|NOM|NAME|SURNAME|VOORNAMEN|PRENOMS|VORNAMEN"),
    _Cues("label", _LABEL, _PHOTO_PAGES, "GIVEN NAMES|GESLACHT|SEXE|GESCHLECHT|SEX"),
    _Cues("label", _LABEL, _PHOTO_PAGES, "GEBOORTEDATUM|DATE DE NAISSANCE|GEBURTSDATUM"),
    _Cues("label", _LABEL, _PHOTO_PAGES, "DATE OF BIRTH|NATIONALITEIT|NATIONALITE|NATIONALITY"),
    _Cues("label", _LABEL, _PHOTO_PAGES, "STAATSANGEHORIGKEIT|VERVALDATUM|DATE D'EXPIRATION"),
    _Cues("label", _LABEL, _PHOTO_PAGES, "ABLAUFDATUM|DATE OF EXPIRY|EXPIRY DATE"),
    _Cues("label", _SIDE_LABEL, (_FRONT,), "KAARTNUMMER|N DE CARTE|KARTENNUMMER|CARD NO"),
    _Cues("label", _SIDE_LABEL, (_FRONT,), "GELDIG VAN|VALABLE DU|GULTIG VOM"),
    _Cues("label", _STRONG_LABEL, (_BACK,), "RIJKSREGISTERNR|REGISTRE NATIONAL|NATIONALREGISTER"),
    _Cues("label", _STRONG_LABEL, (_BACK,), "UITGEREIKT|DELIVREE|AUSGESTELLT"),
    _Cues("label", _SIDE_LABEL, (_BACK, _PASSPORT), "GEBOORTEPLAATS|LIEU DE NAISSANCE"),
    _Cues("label", _SIDE_LABEL, (_BACK, _PASSPORT), "GEBURTSORT|PLACE OF BIRTH"),
)
# (evidence, weight, kind, pattern on folded text); patterns say only that a layout occurs.
_LAYOUTS = (
    ("layout:eid-card-number", 3, _FRONT, re.compile(r"\b\d{3} ?[-–—] ?\d{7} ?[-–—] ?\d{2}\b")),
    (
        "layout:national-register-number",
        2,
        _BACK,
        re.compile(r"\b\d{2}[.,]\d{2}[.,]\d{2} ?[-–—] ?\d{3}[.,]\d{2}\b"),
    ),
)
_LICENCE_FIELD = re.compile(r"(?<![0-9A-Z])4 ?([ABCD])[.,]")
_NUMBERED_FIELD = re.compile(r"(?m)^\W{0,2}([1-9])[.,] ")
_TOKEN = re.compile(r"[A-Z0-9]+")
_FUZZY_MIN_LENGTH = 9  # shorter words must be read exactly: too many near-misses otherwise
_TRIGRAM_SHARE = 0.75


def assess_text(text: str, shape: tuple[int, int] | None = None) -> IdCheck:
    """The kind a page shows from its OCR text and, when known, its (width, height)."""
    scores, evidence = _score(text, shape)
    best = max(IDENTITY_KINDS, key=lambda kind: scores[kind])  # ties: earlier kind wins
    # A scan of both sides shows the front, which is what LEGAL.md §2.4 asks for.
    if best == _BACK and scores[_FRONT] >= DECIDE_SCORE:
        best, evidence = _FRONT, [*evidence, "eid-back-also-shown"]
    facts = (*evidence, f"score:{scores[best]}")
    if scores[best] < DECIDE_SCORE:
        reason = (
            "some identity-document words, too few to tell a kind"
            if scores[best]
            else "no identity-document features found"
        )
        return IdCheck("other_document", False, reason, facts)
    name = KIND_NAMES[best]
    zone = _ZONES.get(best)
    if zone and f"{zone}-checksums-valid" in evidence:
        return IdCheck(best, True, f"{name} recognised; MRZ check digits valid", facts)
    if scores[best] >= VERIFY_SCORE:
        return IdCheck(best, True, f"{name} recognised", facts)
    return IdCheck(best, False, f"probably a {name}; too few features readable", facts)


def text_strength(text: str) -> int:
    """How strongly the text reads as any identity document (to pick a page rotation)."""
    scores, _ = _score(text, None)
    return max(scores.values())


# One finding: its evidence ("" when it only carries points), the kinds it supports, points.
_Finding = tuple[str, tuple[str, ...], int]
_ZONES = {_BACK: "mrz-td1", _PASSPORT: "mrz-td3"}  # the machine-readable zone each kind has


def _score(text: str, shape: tuple[int, int] | None) -> tuple[dict[str, int], list[str]]:
    folded = fold(text)
    findings = [
        *_cue_findings(folded),
        *_layout_findings(folded),
        *_licence_findings(folded),
        *_mrz_findings(text),
        *_shape_findings(shape),
    ]
    scores = dict.fromkeys(IDENTITY_KINDS, 0)
    for _, kinds, points in findings:
        for kind in kinds:
            scores[kind] += points
    return scores, [evidence for evidence, _, _ in findings if evidence]


def _cue_findings(folded: str) -> Iterator[_Finding]:
    lines = [_squeeze(line) for line in folded.splitlines()]
    line_trigrams = [_trigrams(line) for line in lines]
    tokens = set(_TOKEN.findall(folded))
    counts: dict[tuple[str, tuple[int, int, int], tuple[str, ...]], int] = {}
    for cues in _CUES:
        found = [s for s in cues.spellings.split("|") if _found(s, tokens, lines, line_trigrams)]
        yield from ((f"{cues.group}:{_tag(spelling)}", (), 0) for spelling in found)
        budget = (cues.group, cues.points, cues.kinds)  # rows alike share one budget
        counts[budget] = counts.get(budget, 0) + len(found)
    for (_, (first, more, most), kinds), count in counts.items():
        if count:
            yield "", kinds, min(most, first + more * (count - 1))


def _layout_findings(folded: str) -> Iterator[_Finding]:
    for evidence, points, kind, pattern in _LAYOUTS:
        if pattern.search(folded):
            yield evidence, (kind,), points


def _licence_findings(folded: str) -> Iterator[_Finding]:
    # Fields 4a-4d (issue, expiry, authority) are the EU licence's own; numbered lines are not.
    fields = sorted(set(_LICENCE_FIELD.findall(folded)))
    yield from ((f"licence-field:4{letter.lower()}", (), 0) for letter in fields)
    numbered = len(set(_NUMBERED_FIELD.findall(folded))) >= 4
    yield "", (_LICENCE,), min(6, 2 * len(fields)) + (1 if numbered else 0)


def _mrz_findings(text: str) -> Iterator[_Finding]:
    reading = read_mrz(text)
    if reading is None:
        return
    kind = _BACK if reading.layout == "td1" else _PASSPORT
    checked = 4 if reading.valid else 2 if reading.passed * 2 >= reading.total else 0
    yield f"mrz-{reading.layout}", (kind,), DECIDE_SCORE  # its layout alone is telling
    yield f"mrz-{reading.layout}-{reading.verdict}", (kind,), checked


def _squeeze(line: str) -> str:
    return "".join(_TOKEN.findall(line))


def _tag(spelling: str) -> str:
    return "-".join(_TOKEN.findall(spelling)).lower()


def _found(spelling: str, tokens: set[str], lines: list[str], trigrams: list[set[str]]) -> bool:
    squeezed = _squeeze(spelling)
    if " " not in spelling and len(squeezed) < _FUZZY_MIN_LENGTH:
        return squeezed in tokens
    if any(squeezed in line for line in lines):
        return True
    if len(squeezed) < _FUZZY_MIN_LENGTH:
        return False
    wanted = _trigrams(squeezed)
    return any(len(wanted & line) >= _TRIGRAM_SHARE * len(wanted) for line in trigrams)


def _trigrams(word: str) -> set[str]:
    return {word[i : i + 3] for i in range(len(word) - 2)}


def _shape_findings(shape: tuple[int, int] | None) -> Iterator[_Finding]:
    if shape is None or min(shape) <= 0:
        return
    ratio = max(shape) / min(shape)
    if abs(ratio - 85.60 / 53.98) <= 0.06:  # ID-1: eID and driving licence
        yield "shape:id-1-card", _ID_CARDS, 1
    # ID-3 (125 x 88 mm, 1.420) sits next to A-series paper (1.414): only the far side counts.
    elif 1.418 <= ratio <= 1.46:
        yield "shape:id-3-page", (_PASSPORT,), 1
