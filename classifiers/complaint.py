"""Whether a mail lodges a complaint with a data-protection authority, or reports one.

A complaint under Art. 77 GDPR (or § 48 KDG, § 46 DSG-EKD) reaches Jaimy's inbox as a
copy, a forwarded acknowledgement from the authority, or a "for your information": it
names the request it is about ("my Art. 15 request of 1 March"), which a model reads
as that request again. It is not a new request but something the DPO must see at once.

A sentence counts when it names an authority (by name or by the complaint article),
speaks of a complaint (or of turning to the authority), is the writer's own ("I", "my",
"your complaint" in the authority's letter) or says it was lodged ("Beschwerde ist
eingereicht"), and is not one of these: a question; a
threat or a condition ("otherwise I will complain", "sans réponse, je dépose plainte");
a reservation ("ich behalte mir vor"); the right to complain listed in an access
request. A complaint already lodged ("faute de réponse, j'ai déposé plainte") counts
even beside such words.
"""

from __future__ import annotations

import re
from typing import Final

from classifiers.citations import fold

# Split before a capital ("Art. 77" stays whole), but not after a German date ("am 3. März").
_SENTENCE_END: Final = re.compile(r"(?<=[.!?])(?<!\d\.)\s+(?=[^\W\d_a-z])|\n\s*\n")

_AUTHORITY: Final = re.compile(
    r"§\s*4[68]\s*(?:kdg|dsg-ekd|des|der)\b"
    r"|\bart(?:ikel|icle|\.)?\s*77\b"
    r"|supervisory authority|data protection (?:authority|autority|commission)"
    r"|\b(?:the|data|privacy) regulator"  # not "the gas regulator the plumber fitted"
    r"|information commissioner|\b(?:ico|dpa|dpc|cnil|cnpd|apd|gba|bfdi|lfdi|ldi|baylda)\b"
    r"|gegevens ?beschermings ?autoriteit|autoriteit persoonsgegevens|toezichthoud"
    r"|privacywaakhond|privacy ?toezicht"
    r"|autorite de protection des donnees|autorite de controle|gendarme de la vie privee"
    r"|commission nationale (?:pour la protection des donnees|de l'informatique)"
    r"|aufsichtsbehorde|datenschutz ?beh(?:o|oe)rde|datenschutzaufsicht"
    r"|(?:landes|bundes)(?:datenschutz)?beauftragt|datenschutzbeauftragten? des landes"
    r"|beauftragten? fur (?:den )?datenschutz"
)
_COMPLAINT: Final = re.compile(
    r"\b(?:compl(?:ai|a)n\w*|klacht\w*|plainte|reclamation|\w*beschwerde\w*|eingabe)"
    r"|\b(?:saisi[rst]?|saisine|ingeschakeld|inschakel\w*|schakel\w* .{0,30}\bin"
    r"|gemeldet|reported you|report(?:ed)? (?:this|it|the matter)|referred)\b"
)
_OWN: Final = re.compile(
    r"\b(?:i|i'm|i've|my|we|we're|we've|our|us|me"  # en
    r"|ik|mijn|wij|onze|ons|mij"  # nl
    r"|je|j'\w+|ma|mon|mes|nous|notre|m'\w+"  # fr
    r"|ich|mein\w*|wir|unser\w*|mich|mir"  # de
    r"|your|uw|votre|ihre?)\b"  # the authority writing to the complainant
)
_QUESTION: Final = re.compile(r"\?")
_LISTED_RIGHT: Final = re.compile(
    r"\b(?:right|rights|recht|rechten|rechte?s?|droit|droits|possibilite)\b"
    r"|beschwerderecht|bestehen eines|existence|het bestaan"
)
# What the writer will, would, could or might do: a threat or an intention.
_FUTURE: Final = re.compile(
    r"\b(?:will|shall|would|going to|intend\w*|consider\w*|next|can|could|may|might|forced"
    r"|hesit\w*|aarzel\w*|gezogert"
    r"|zal|zullen|zou|ga|gaan|overweeg\w*|van plan|volgende|kan|kunnen|genoodzaakt"
    r"|vais|allons|\w+erai|\w+erons|envisage\w*|prochaine|peux|peut|pourrai\w*|contraint"
    r"|werde|werden|wird|uberlege\w*|beabsichtige\w*|nachste\w*|kann|konnte|gezwungen)\b"
    r"|'ll\b"
)
# A condition or a reservation.
_CONDITION: Final = re.compile(
    r"\b(?:if|unless|otherwise|failing|before|reserve"
    r"|without (?:a |an |any )?(?:answer|reply|response)"
    r"|tenzij|anders|zo niet|bij gebrek|voordat|behoud\w*|voorbehoud\w*"
    r"|zonder (?:\w+ )?(?:antwoord|reactie|bericht)|als (?:u|jullie|het|je|er)"
    r"|si|sinon|a defaut|faute de|avant|sans (?:\w+ )?(?:reponse|retour|nouvelles)"
    r"|falls|wenn|sollte\w*|andernfalls|widrigenfalls|bevor|sonst|vorbehalten|behal?t\w*"
    r"|ohne (?:\w+ )?(?:antwort|ruckmeldung|reaktion))\b"
    r"|\bals ik\b.{0,40}\b(?:geen|niet|niets)\b"
)
_NOT_YET: Final = re.compile(
    r"\b(?:not yet|haven't|have not|so far not|nog geen|nog niet|tot nu toe niet|noch nicht"
    r"|noch keine|bislang nicht|bisher nicht|bislang keine|pas encore)\b"
)
# Lodged already: stands beside a condition ("faute de réponse, j'ai déposé plainte").
_DONE: Final = re.compile(
    r"\b(?:filed|lodged|submitted|complained|reported|referred|escalated|made|is with"
    r"|ingediend|ingedient|neergelegd|ingeschakeld|gemeld|ingestuurd|verstuurd|aanhangig"
    r"|gedaan|gemaakt|ligt"
    r"|(?:ai|avons|a|ont|jai) (?:(?:deja|donc|alors|fait) )?"
    r"(?:depose|deposer|introduit|saisi|adresse|signale|envoye|porte|fait)"
    r"|introduite|deposee|partie|est chez"
    r"|eingereicht|eingelegt|erhoben|gemeldet|gewandt|abgegeben|eingegangen|weitergeleitet"
    r"|eingebracht|gemacht|liegt"
    r"|received|registered|ontvangen|enregistree?|recue?)\b"
)
# Lodging by this very mail ("hereby"), or in the present tense ("ik dien ... in"); only
# the first stands beside a condition: "zo niet dien ik klacht in" is a threat.
_HEREBY: Final = re.compile(
    r"\b(?:hereby|with this (?:e-?mail|letter)|which i am doing|hierbij|bij deze"
    r"|met deze (?:e-?mail|brief|mail)|par la presente|ce jour|hiermit|mit dieser)\b"
)
_PRESENT: Final = re.compile(
    r"\b(?:i am (?:now )?(?:lodging|filing|submitting)|i (?:now )?(?:lodge|file)"
    r"|ik (?:dien|leg)|(?:dien|leg) ik"
    r"|j'introduis|je depose|je saisis|nous (?:introduisons|deposons)"
    r"|ich (?:reiche|lege|erhebe)|(?:reiche|lege|erhebe) ich)\b"
)
# The authority's own letter, forwarded: "wir bestätigen den Eingang Ihrer Beschwerde".
_YOUR_COMPLAINT: Final = re.compile(
    r"\b(?:your|uw|votre|ihre[rn]?) (?:\w+ )?(?:complaint|klacht|plainte|reclamation|beschwerde"
    r"|eingabe)\b"
)
_RECEIPT: Final = re.compile(
    r"\b(?:ontvangst|bevestig\w*|eingang|bestatig\w*|confirm\w*|acknowledg\w*|accuse"
    r"|received|registered|ontvangen|enregistree?|recue?|eingegangen)\b"
)
_NEAR: Final = 80  # characters between a complaint word and "lodged" that still belong together


def lodges_complaint(text: str) -> bool:
    """True when `text` lodges or reports a data-protection complaint."""
    sentences = _sentences(text)
    if any(_is_complaint(sentence) for sentence in sentences):
        return True
    # A forwarded acknowledgement names the authority in its header, not its sentence.
    return any(_AUTHORITY.search(s) for s in sentences) and any(
        _YOUR_COMPLAINT.search(s) and _RECEIPT.search(s) and not _QUESTION.search(s)
        for s in sentences
    )


def _sentences(text: str) -> list[str]:
    return [" ".join(fold(part).split()) for part in _SENTENCE_END.split(text)]


def _is_complaint(sentence: str) -> bool:
    if not (_AUTHORITY.search(sentence) and _COMPLAINT.search(sentence)):
        return False
    done = _near_complaint(_DONE, sentence)
    if not (done or _OWN.search(sentence)):
        return False  # "the ICO handles complaints": nobody's complaint
    if _QUESTION.search(sentence) or _NOT_YET.search(sentence):
        return False
    hereby = _near_complaint(_HEREBY, sentence)
    if _FUTURE.search(sentence) and not done:
        return False
    if _CONDITION.search(sentence) and not (done or hereby):
        return False
    present = hereby or _near_complaint(_PRESENT, sentence)
    return done or present or not _LISTED_RIGHT.search(sentence)


def _near_complaint(pattern: re.Pattern[str], sentence: str) -> bool:
    """Whether `pattern` speaks of the complaint, not of something else in the sentence
    ("I filed my request in March; ... complaint"): within a few words of it."""
    return any(
        pattern.search(sentence, max(0, match.start() - _NEAR), match.end() + _NEAR)
        for match in _COMPLAINT.finditer(sentence)
    )
