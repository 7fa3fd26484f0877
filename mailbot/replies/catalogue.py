"""The catalogue of letters: what each template needs, who must approve it, which right
it answers or confirms, and how its sending ends a case. The one table of letter facts:
the bot's handling, the outbox and the DPO's actions all read it.

Every template in templates/<lang>/ has one entry here, and every entry has a template in
each of the four languages (tests/unit/replies/test_templates.py holds both sides to that).
`needs_approval` follows LEGAL.md §4; `required` names exactly the context variables the
template reads, so a caller can build the context from it and a forgotten one fails
loudly at rendering time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from mailbot.cases.models import CaseOutcome


@dataclass(frozen=True, slots=True)
class TemplateSpec:
    """One reply template as the drafting code sees it.

    `closes_with_remedies`: the letter always ends with the complaint-to-the-GBA/APD and
    judicial-remedy paragraph (templates/<lang>/_remedies.j2), so a DPO's edit of it
    must keep that paragraph (LEGAL.md §3.4).
    `answers`: the rights whose answer this letter is (the DPO completes it).
    `confirms`: the right that takes effect the moment the mail is read (objection,
    withdrawal), which this letter confirms.
    `closes`: the outcome its sending records; a confirmation closes only a case that
    asks nothing but rights taking effect at once.
    """

    name: str
    needs_approval: bool
    required: frozenset[str]
    closes_with_remedies: bool
    answers: frozenset[str] = frozenset()
    confirms: str | None = None
    closes: CaseOutcome | None = None


# Why an ID copy is asked for (LEGAL.md §2.2); the templates phrase each one.
DOUBT_REASONS: Final = (
    "unknown_address",
    "other_reply_address",
    "third_party",
    "changes_account_email",
    "sender_not_authenticated",
    "policy_always",
)

# Why erasure_done may keep an item: Art. 17(3)(a)-(e), in that order.
ERASURE_GROUNDS: Final = (
    "expression",
    "legal_obligation",
    "public_health",
    "archiving",
    "legal_claims",
)

# What the drafting code always has for a case; a template reads only some of it.
COMMON_CONTEXT: Final = frozenset(
    {
        "reference",
        "receipt_date",
        "legal_due",
        "requester_name",
        "original_subject",
        "sender",
        "rights",
    }
)

# Every letter has a subject, a greeting, a date of receipt and a signature.
_LETTER: Final = frozenset({"reference", "original_subject", "requester_name", "sender"})
_RECEIVED: Final = _LETTER | {"receipt_date"}


def _entry(
    name: str,
    *,
    automatic: bool,
    needs: frozenset[str],
    remedies: bool = False,
    answers: frozenset[str] = frozenset(),
    confirms: str | None = None,
    closes: CaseOutcome | None = None,
) -> tuple[str, TemplateSpec]:
    return name, TemplateSpec(
        name=name,
        needs_approval=not automatic,
        required=needs,
        closes_with_remedies=remedies,
        answers=answers,
        confirms=confirms,
        closes=closes,
    )


_ANSWERED = CaseOutcome.ANSWERED


CATALOGUE: Final[Mapping[str, TemplateSpec]] = MappingProxyType(
    dict(
        [
            _entry(
                "acknowledgement",
                automatic=True,
                needs=_RECEIVED | {"legal_due", "rights", "id_request"},
            ),
            _entry("id_request", automatic=True, needs=_RECEIVED | {"rights", "doubt_reason"}),
            _entry(
                "id_reminder",
                automatic=True,
                needs=_RECEIVED | {"doubt_reason", "id_requested_on", "closes_on"},
            ),
            _entry("id_received", automatic=True, needs=_RECEIVED | {"legal_due"}),
            _entry(
                "extension_notice",
                automatic=False,
                needs=_RECEIVED | {"legal_due", "extended_due", "extension_reason"},
            ),
            _entry(
                "objection_done",
                automatic=True,
                needs=_RECEIVED,
                confirms="objection",
                closes=_ANSWERED,
            ),
            _entry(
                "consent_withdrawn",
                automatic=True,
                needs=_RECEIVED,
                confirms="withdraw_consent",
                closes=_ANSWERED,
            ),
            _entry(
                "rectification_done",
                automatic=False,
                needs=_RECEIVED | {"changes", "recipients_notified"},
                answers=frozenset({"rectification"}),
                closes=_ANSWERED,
            ),
            _entry(
                "erasure_done",
                automatic=False,
                needs=_RECEIVED | {"erased", "kept", "recipients_notified"},
                answers=frozenset({"erasure"}),
                closes=_ANSWERED,
            ),
            _entry(
                "restriction_done",
                automatic=False,
                needs=_RECEIVED | {"restriction_scope"},
                answers=frozenset({"restriction"}),
                closes=_ANSWERED,
            ),
            _entry(
                "access_answer",
                automatic=False,
                needs=_RECEIVED,
                remedies=True,
                answers=frozenset({"access"}),
                closes=_ANSWERED,
            ),
            _entry(
                "portability_answer",
                automatic=False,
                needs=_RECEIVED,
                remedies=True,
                answers=frozenset({"portability"}),
                closes=_ANSWERED,
            ),
            _entry(
                "refusal",
                automatic=False,
                needs=_RECEIVED | {"rights", "refusal_reasons", "partial"},
                remedies=True,
                closes=CaseOutcome.REFUSED,
            ),
            _entry(
                "not_identified",
                automatic=False,
                needs=_RECEIVED,
                remedies=True,
                closes=CaseOutcome.NOT_IDENTIFIED,
            ),
            _entry(
                "redirect",
                automatic=False,
                needs=_RECEIVED | {"service_contact"},
                closes=CaseOutcome.NOT_A_REQUEST,
            ),
        ]
    )
)

# The confirmation of each right that takes effect at once: objection -> objection_done.
TAKES_EFFECT_AT_ONCE: Final[Mapping[str, str]] = MappingProxyType(
    {spec.confirms: spec.name for spec in CATALOGUE.values() if spec.confirms}
)


def answer_letter(rights: list[str]) -> str | None:
    """The letter the DPO completes for a case asking `rights`: the first right with an
    answer decides (None when no right has one)."""
    for right in rights:
        for spec in CATALOGUE.values():
            if right in spec.answers:
                return spec.name
    return None


# A DPO fill-in: "[[ the retention period ]]". Line wrapping may split one over lines.
FILL_IN: Final[re.Pattern[str]] = re.compile(r"\[\[(.*?)\]\]", re.DOTALL)


def spec(name: str) -> TemplateSpec:
    """The catalogue entry of template `name`; ValueError when there is none."""
    try:
        return CATALOGUE[name]
    except KeyError:
        known = ", ".join(sorted(CATALOGUE))
        raise ValueError(f"no reply template {name!r} (known: {known})") from None


def unfilled(body: str) -> list[str]:
    """The DPO fill-ins still in `body`, each as one line of text, in order."""
    return [" ".join(match.group(1).split()) for match in FILL_IN.finditer(body)]
