"""Whether a mail lodges a complaint with a data-protection authority.

A complaint under Art. 77 GDPR (or § 48 KDG, § 46 DSG-EKD) reaches Jaimy's inbox as
a copy or misdirected: it names the request it is about ("my Art. 15 request of
1 March"), which a model reads as that request again. It is not a new request but
something the DPO must see at once, so the rule is certain where it fires and narrow:
the writer lodges the complaint now or has lodged it, in the same sentence that names
the authority or the complaint article. A threat ("otherwise I will complain to the
APD"), a reservation ("ich behalte mir vor, Beschwerde einzureichen") and the right to
complain listed among what an access request asks to be told do not count.
"""

from __future__ import annotations

import re
from typing import Final

from classifiers.citations import fold

# Split before a capital, so that "Art. 77" and "Abs. 2" stay inside their sentence.
_SENTENCE_END: Final = re.compile(r"(?<=[.!?])\s+(?=[^\W\d_a-z])|\n\s*\n")

_COMPLAINT: Final = re.compile(r"\b(?:complaint|klacht|plainte|beschwerde|reclamation)\b")
# The complaint article or an authority by name: what makes it a data-protection complaint.
_AUTHORITY: Final = re.compile(
    r"§\s*4[68]\s*(?:kdg|dsg-ekd|des|der)\b"
    r"|\b(?:art(?:ikel|icle|\.)?\s*77\b"
    r"|supervisory authority|data protection (?:authority|commission)|\bico\b|\bcnil\b"
    r"|gegevensbeschermingsautoriteit|autoriteit persoonsgegevens|\bgba\b|\bapd\b"
    r"|autorite de protection des donnees|autorite de controle"
    r"|aufsichtsbehorde|datenschutzbehorde|datenschutzbeauftragten? des landes)"
)
# Lodging now ("hiermit", "hereby", "je dépose") or done ("I have filed", "ingediend").
_LODGING: Final = re.compile(
    r"\b(?:hereby|hierbij|hiermit|par la presente"
    r"|i am (?:now )?(?:lodging|filing|submitting)|i (?:now )?(?:lodge|file|submit)\b"
    r"|i have (?:now |today |just )?(?:lodged|filed|submitted)"
    r"|ik dien\b|dien ik\b|ik heb (?:vandaag |nu )?(?:een )?klacht"
    r"|(?:heb|hebben) .{0,60}\bingediend|ingediend\b"
    r"|je (?:vous )?(?:depose|introduis|adresse)\b|j'ai (?:depose|introduit|adresse)"
    r"|(?:reiche|lege|erhebe) ich\b|ich (?:reiche|lege|erhebe)\b"
    r"|(?:habe|hab) ich .{0,80}\b(?:eingereicht|eingelegt|erhoben)"
    r"|ich (?:habe|hab) .{0,80}\b(?:eingereicht|eingelegt|erhoben))"
)
# Not lodged: a threat, a condition, a reservation, a right listed, a question.
_NOT_LODGED: Final = re.compile(
    r"\b(?:will|would|shall|otherwise|failing|unless|if you|reserve"
    r"|zal|zou|zullen|anders|indien|zo niet|bij gebrek|behoud|voorbehoud|als"
    r"|tenzij|wanneer"
    r"|deposerai|introduirai|porterai|a defaut|faute de|sinon|si vous|si je"
    r"|werde|wurde|sollten?|andernfalls|vorbehalten|behalte|falls|wenn sie"
    r"|right to|recht op|droit de|droit d'|recht auf|beschwerderecht|bestehen eines)\b"
)


def lodges_complaint(text: str) -> bool:
    """True when a sentence of `text` lodges (or reports lodging) a data-protection complaint."""
    for original in _SENTENCE_END.split(text):
        sentence = " ".join(fold(original).split())
        if (
            _COMPLAINT.search(sentence)
            and _AUTHORITY.search(sentence)
            and _LODGING.search(sentence)
            and not _NOT_LODGED.search(sentence)
        ):
            return True
    return False
