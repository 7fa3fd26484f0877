"""Reading a mail before classifying it: the new text, its language and the rule evidence.

Both classifiers start here, so the baseline and the trained model see the same text:
the subject without reply prefixes, the body without quoted history, truncated where
only noise remains, and what the phrase rules and article citations found in it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from classifiers.citations import cited_rights, fold
from classifiers.complaint import lodges_complaint
from classifiers.context_patterns import MASS_MAIL_RULES, PRIVACY_RULES, SERVICE_RULES
from classifiers.labels import RIGHTS
from classifiers.language import detect_language
from classifiers.patterns import RIGHT_RULES, Rule
from classifiers.quoting import new_text, subject_topic

MAX_BODY_CHARS: Final = 20_000  # the new text sits at the top; the rest is history or noise
MAX_ATTACHED_CHARS: Final = 20_000
# Between a mail's own text and the text read from its attachments (a letter sent as a
# PDF, a DOCX, a scan or a photo): quoted history is cut from the mail's text only, and
# the letter follows what is left. A control character nobody types; a sender who does
# only moves where the quote cutting stops.
ATTACHED: Final = "\x1d"
MAX_SUBJECT_CHARS: Final = 1_000
# An explicit article citation is about as strong as two clear phrases.
CITATION_WEIGHT: Final = 2.5
# A reply's subject repeats the thread's old topic: alone it never makes a right.
REPLY_SUBJECT_WEIGHT: Final = 0.25


@dataclass(frozen=True, slots=True)
class MailReading:
    topic: str  # subject without Re:/Fwd: prefixes
    text: str  # the new text of the body
    language: str
    is_reply: bool
    rights: dict[str, float] = field(default_factory=dict)  # rule + citation evidence
    cited: frozenset[str] = frozenset()  # rights cited by article
    privacy: float = 0.0  # evidence the mail is about personal data at all
    mass_mail: float = 0.0  # newsletter, auto-reply, bounce wording
    service: float = 0.0  # quotes, appointments, invoices
    complaint: bool = False  # lodges a complaint with a data-protection authority

    def encoder_text(self) -> str:
        """What the sentence encoder reads: the topic first, then the new text."""
        return f"{self.topic}\n{self.text}".strip()


def with_attached(body: str, attached: str) -> str:
    """The body a classifier reads for a mail whose attachments carry `attached` text."""
    return f"{body}\n{ATTACHED}\n{attached}" if attached.strip() else body


def read_mail(subject: str, body: str) -> MailReading:
    topic, is_reply, is_forward = subject_topic(subject[:MAX_SUBJECT_CHARS])
    own, _, attached = body.partition(ATTACHED)
    text = new_text(own[:MAX_BODY_CHARS], forwarded=is_forward)
    if attached := attached.strip()[:MAX_ATTACHED_CHARS]:
        text = f"{text}\n\n{attached}".strip()
    folded_topic, folded_text = _matchable(topic), _matchable(text)
    subject_weight = REPLY_SUBJECT_WEIGHT if is_reply else 1.0
    rights = rule_evidence(RIGHT_RULES, folded_topic, folded_text, subject_weight)
    cited = cited_rights(text if is_reply else f"{topic}\n{text}")
    for right in cited:
        rights[right] = rights.get(right, 0.0) + CITATION_WEIGHT
    return MailReading(
        topic=topic,
        text=text,
        language=detect_language(f"{topic}\n{text}"),
        is_reply=is_reply,
        rights={right: rights.get(right, 0.0) for right in RIGHTS},
        cited=cited,
        privacy=_total(PRIVACY_RULES, folded_topic, folded_text, subject_weight),
        mass_mail=_total(MASS_MAIL_RULES, folded_topic, folded_text, 1.0),
        service=_total(SERVICE_RULES, folded_topic, folded_text, 1.0),
        complaint=lodges_complaint(f"{topic}\n\n{text}"),
    )


def rule_evidence(
    rules: tuple[Rule, ...], subject: str, text: str, subject_weight: float
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


def _total(rules: tuple[Rule, ...], subject: str, text: str, subject_weight: float) -> float:
    return sum(rule_evidence(rules, subject, text, subject_weight).values())


def _matchable(text: str) -> str:
    return " ".join(fold(text).split())
