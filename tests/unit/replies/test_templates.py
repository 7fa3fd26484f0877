"""Every reply template of the catalogue, in nl, fr, de and en, against LEGAL.md §2-§4."""

from __future__ import annotations

import re
from datetime import date

import jinja2
import pytest

from mailbot.replies.catalogue import (
    CATALOGUE,
    DOUBT_REASONS,
    ERASURE_GROUNDS,
    FILL_IN,
    spec,
    unfilled,
)
from mailbot.replies.render import (
    SUPPORTED_LANGUAGES,
    TEMPLATE_SUFFIX,
    RenderedReply,
    render_reply,
    templates_dir,
)

REFERENCE = "JAIMY-PRIV-2026-0077"
NAME = "Noor Claessens"
SENDER = "privacy@example.test"
DATES = {
    "receipt_date": date(2026, 3, 7),
    "legal_due": date(2026, 4, 7),
    "id_requested_on": date(2026, 3, 9),
    "closes_on": date(2026, 4, 23),
    "extended_due": date(2026, 6, 1),
}
# Written out by hand, not by format_date: what a reader of each language expects to see.
SPELLED = {
    "receipt_date": ("7 maart 2026", "7 mars 2026", "7. März 2026", "7 March 2026"),
    "legal_due": ("7 april 2026", "7 avril 2026", "7. April 2026", "7 April 2026"),
    "id_requested_on": ("9 maart 2026", "9 mars 2026", "9. März 2026", "9 March 2026"),
    "closes_on": ("23 april 2026", "23 avril 2026", "23. April 2026", "23 April 2026"),
    "extended_due": ("1 juni 2026", "1er juin 2026", "1. Juni 2026", "1 June 2026"),
}
LANGUAGE_ORDER = ("nl", "fr", "de", "en")
# What a letter must say, in the words chosen for each language: (nl, fr, de, en).
PHRASES = {
    "front": ("voorkant", "recto", "Vorderseite", "front side"),
    "black_out": ("zwart maken", "noircir", "schwärzen", "black out"),
    "register": (
        "rijksregisternummer",
        "registre national",
        "Nationalregisternummer",
        "national register number",
    ),
    "deletes_copy": (
        "wissen de kopie",
        "supprimons la copie",
        "löschen die Kopie",
        "delete the copy",
    ),
    "authority": (
        "Gegevensbeschermingsautoriteit",
        "Autorité de protection des données",
        "Datenschutzbehörde",
        "Data Protection Authority",
    ),
    "street": (
        "Drukpersstraat 35",
        "Rue de la Presse 35",
        "Drukpersstraat 35",
        "Drukpersstraat 35",
    ),
    "city": ("1000 Brussel", "1000 Bruxelles", "1000 Brüssel", "1000 Brussels"),
    "court": ("rechter", "tribunaux", "Gericht", "court"),
    "not_verified": (
        "identiteit niet bevestigen",
        "pas pu vérifier votre identité",
        "Identität nicht bestätigen",
        "verify your identity",
    ),
    "partial": ("gedeeltelijk", "en partie", "teilweise", "part of your request"),
    "objection": (
        "art. 21, lid 3, AVG",
        "art. 21, § 3, RGPD",
        "Art. 21 Abs. 3 DSGVO",
        "Art. 21(3) GDPR",
    ),
    "consent": ("art. 7, lid 3, AVG", "art. 7, § 3, RGPD", "Art. 7 Abs. 3 DSGVO", "Art. 7(3) GDPR"),
    # {letter}: the point of Art. 17(3), a to e.
    "erasure_ground": (
        "art. 17, lid 3, {letter}), AVG",
        "art. 17, § 3, {letter}), RGPD",
        "Art. 17 Abs. 3 lit. {letter} DSGVO",
        "Art. 17(3)({letter}) GDPR",
    ),
    # Regular expressions: a question about which right is meant; asking to cite the law.
    "which_right": (
        r"\b(welke?|om welk) (recht|rechten|artikel)\b",
        r"\bquel(le)?s? (droit|article)s?\b",
        r"\bwelche[snm]? (Recht|Rechte|Artikel)\b",
        r"\b(which|what) (right|rights|article)\b",
    ),
    "cite": (
        r"\bciteer|\bvermeld (het|welk) artikel",
        r"\bciter\b|\bcitez\b",
        r"\bzitier|\bnennen Sie (das|den) (Recht|Artikel)",
        r"\bcite\b|\bquote the (law|article|gdpr)\b",
    ),
    # Texts the DPO writes in the reader's language.
    "reasons": (
        "De gevraagde notities gaan over een andere klant en bevatten geen gegevens over u.",
        "Les notes demandées concernent un autre client et ne vous concernent pas.",
        "Die angefragten Notizen betreffen einen anderen Kunden, nicht Sie.",
        "The notes you asked for concern another customer and hold no data about you.",
    ),
    "extension_reason": (
        "Uw gegevens staan verspreid over drie systemen die wij één voor één moeten nakijken",
        "Vos données sont réparties sur trois systèmes que nous devons examiner un par un",
        "Ihre Daten liegen in drei Systemen, die wir einzeln durchsuchen müssen",
        "Your data are spread over three systems that we must search one by one",
    ),
}
RECIPIENTS = ["Dakwerken Peeters BV", "Chauffage Lambert SRL"]
SHARED_SAMPLES: dict[str, object] = {
    **DATES,
    "reference": REFERENCE,
    "requester_name": NAME,
    "original_subject": "",
    "sender": SENDER,
    "rights": ["access", "erasure"],
    "id_request": {"doubt_reason": "unknown_address"},
    "doubt_reason": "unknown_address",
    "changes": ["+32 470 12 34 56", "Kerkstraat 12, 9000 Gent"],
    "erased": ["noor.claessens@example.org", "Kerkstraat 12, 9000 Gent"],
    "kept": [{"item": "INV-2025-0131", "ground": "legal_obligation"}],
    "recipients_notified": RECIPIENTS,
    "restriction_scope": "JOB-55310, JOB-55311",
    "partial": False,
    "service_contact": "https://www.example.org/contact",
}
SKELETONS = ("access_answer", "portability_answer")


def sample_context(name: str, language: str, **changes: object) -> dict[str, object]:
    """Exactly the variables `name` declares, with sample values, then `changes`."""
    samples = {
        **SHARED_SAMPLES,
        "refusal_reasons": phrase("reasons", language),
        "extension_reason": phrase("extension_reason", language),
    }
    missing = spec(name).required - samples.keys()
    assert not missing, f"{name} needs {sorted(missing)}: add sample values here"
    return {key: samples[key] for key in spec(name).required} | changes


def render(name: str, language: str, **changes: object) -> RenderedReply:
    return render_reply(name, language, sample_context(name, language, **changes))


def flat(text: str) -> str:
    """The text on one line, so phrases split by line wrapping still match."""
    return " ".join(text.split())


def spelled(key: str, language: str) -> str:
    return SPELLED[key][LANGUAGE_ORDER.index(language)]


def phrase(key: str, language: str) -> str:
    return PHRASES[key][LANGUAGE_ORDER.index(language)]


def says_complaint_and_court(body: str, language: str) -> bool:
    text = flat(body)
    return all(phrase(key, language) in text for key in ("authority", "street", "city", "court"))


EVERY_TEMPLATE = [(language, name) for language in SUPPORTED_LANGUAGES for name in CATALOGUE]
EVERY_REQUIRED_KEY = [
    (language, name, key)
    for language in SUPPORTED_LANGUAGES
    for name, entry in CATALOGUE.items()
    for key in sorted(entry.required)
]


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_catalogue_and_template_files_agree(language: str) -> None:
    files = {
        path.name.removesuffix(TEMPLATE_SUFFIX)
        for path in (templates_dir() / language).glob("*" + TEMPLATE_SUFFIX)
    }

    assert files - CATALOGUE.keys() == set(), "templates without a catalogue entry"
    assert CATALOGUE.keys() - files == set(), f"catalogue entries without a {language} template"


def test_a_spec_is_found_by_its_name_and_an_unknown_name_is_refused() -> None:
    assert all(spec(name).name == name for name in CATALOGUE)
    with pytest.raises(ValueError, match="acknowledgment"):
        spec("acknowledgment")


def test_only_the_id_exchange_and_marketing_confirmations_go_out_unapproved() -> None:
    automatic = {name for name, entry in CATALOGUE.items() if not entry.needs_approval}

    assert automatic == {
        "acknowledgement",
        "id_request",
        "id_reminder",
        "id_received",
        "objection_done",
        "consent_withdrawn",
    }


@pytest.mark.parametrize(("language", "name"), EVERY_TEMPLATE)
def test_every_template_renders_as_a_letter_to_the_requester(language: str, name: str) -> None:
    reply = render(name, language)
    lines = reply.body.splitlines()

    assert reply.subject.endswith(f"[{REFERENCE}]")
    assert len(reply.subject) > len(REFERENCE) + 3
    assert NAME in lines[0]
    assert SENDER in lines[-3:]
    assert all(len(line) <= 78 or " " not in line.strip() for line in lines)
    assert not re.search(r"\{\{|\}\}|\{%|%\}|\{#", reply.body)


@pytest.mark.parametrize(("language", "name"), EVERY_TEMPLATE)
def test_subject_replies_to_the_requesters_topic_with_the_reference(
    language: str, name: str
) -> None:
    reply = render(name, language, original_subject="AW: Re: Mijn gegevens")

    assert reply.subject == f"Re: Mijn gegevens [{REFERENCE}]"


@pytest.mark.parametrize(("language", "name"), EVERY_TEMPLATE)
def test_every_date_is_spelled_in_the_readers_language(language: str, name: str) -> None:
    body = flat(render(name, language).body)

    for key in sorted(spec(name).required & DATES.keys()):
        assert spelled(key, language) in body, f"{key} not spelled out"
    assert not re.search(r"\b2026-\d\d-\d\d\b|\b\d\d?/\d\d?/2026\b", body)


@pytest.mark.parametrize(("language", "name", "key"), EVERY_REQUIRED_KEY)
def test_a_missing_required_variable_raises(language: str, name: str, key: str) -> None:
    context = sample_context(name, language)
    del context[key]

    with pytest.raises(jinja2.UndefinedError):
        render_reply(name, language, context)


@pytest.mark.parametrize(("language", "name"), EVERY_TEMPLATE)
@pytest.mark.parametrize("rights", [["access"], ["objection", "erasure"], ["other"], []])
def test_no_template_asks_which_right_is_meant_or_for_a_citation(
    language: str, name: str, rights: list[str]
) -> None:
    changes = {"rights": rights} if "rights" in spec(name).required else {}
    reply = render(name, language, **changes)
    sentences = re.findall(r"[^.?!]*\?", flat(reply.body))

    for question in sentences:
        assert not re.search(phrase("which_right", language), question, re.IGNORECASE), question
    assert not re.search(phrase("cite", language), flat(reply.body), re.IGNORECASE)


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
@pytest.mark.parametrize("partial", [False, True])
def test_a_refusal_gives_reasons_complaint_and_court(language: str, partial: bool) -> None:
    body = render("refusal", language, partial=partial).body

    assert flat(phrase("reasons", language)) in flat(body)
    assert says_complaint_and_court(body, language)
    assert (phrase("partial", language) in flat(body)) is partial


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_not_identified_says_why_and_where_to_complain(language: str) -> None:
    body = render("not_identified", language).body

    assert phrase("not_verified", language) in flat(body)
    assert says_complaint_and_court(body, language)


@pytest.mark.parametrize(("language", "name"), EVERY_TEMPLATE)
def test_letters_marked_with_remedies_carry_them(language: str, name: str) -> None:
    # erasure_done carries them only when something was kept; here nothing was.
    changes: dict[str, object] = {"kept": []} if name == "erasure_done" else {}
    body = render(name, language, **changes).body

    assert says_complaint_and_court(body, language) is spec(name).closes_with_remedies


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
@pytest.mark.parametrize(("letter", "ground"), list(zip("abcde", ERASURE_GROUNDS, strict=True)))
def test_erasure_names_what_was_kept_and_its_ground(
    language: str, letter: str, ground: str
) -> None:
    kept = [{"item": "INV-2025-0131", "ground": ground}]
    body = flat(render("erasure_done", language, kept=kept).body)

    assert "INV-2025-0131" in body
    assert phrase("erasure_ground", language).format(letter=letter) in body
    # Keeping data is a refusal in part: the remedies come with it (Art. 12(4)).
    assert says_complaint_and_court(body, language)
    assert all(recipient in body for recipient in RECIPIENTS)


def test_an_unknown_erasure_ground_raises() -> None:
    with pytest.raises(jinja2.UndefinedError):
        render("erasure_done", "en", kept=[{"item": "INV-1", "ground": "convenience"}])


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
@pytest.mark.parametrize("name", SKELETONS)
def test_skeletons_hold_fill_ins_the_dpo_must_complete(language: str, name: str) -> None:
    body = render(name, language).body
    blanks = unfilled(body)

    assert len(blanks) >= 8 and all(blanks)
    assert len(blanks) == len(unfilled(render(name, "en").body)), "languages differ"
    assert unfilled(FILL_IN.sub("filled in", body)) == []


@pytest.mark.parametrize(("language", "name"), EVERY_TEMPLATE)
def test_only_skeletons_have_fill_ins(language: str, name: str) -> None:
    has_blanks = bool(unfilled(render(name, language).body))

    assert has_blanks is (name in SKELETONS)
    assert not has_blanks or spec(name).needs_approval


def test_unfilled_reads_a_fill_in_broken_over_lines() -> None:
    body = f"Subject [{REFERENCE}]\n[[ the retention\n  period ]] and [[x]]\n"

    assert unfilled(body) == ["the retention period", "x"]


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_portability_export_is_json_or_csv_never_pdf(language: str) -> None:
    body = render("portability_answer", language).body

    assert "JSON" in body and "CSV" in body and "PDF" not in body.upper()


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
@pytest.mark.parametrize(
    ("name", "field"), [("objection_done", "objection"), ("consent_withdrawn", "consent")]
)
def test_marketing_confirmations_cite_the_article_and_ask_for_nothing(
    language: str, name: str, field: str
) -> None:
    body = flat(render(name, language).body)

    assert phrase(field, language) in body
    assert phrase("front", language) not in body and "?" not in body


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
@pytest.mark.parametrize("name", ["acknowledgement", "id_request", "id_reminder"])
def test_every_doubt_reason_is_explained_with_the_id_rules(language: str, name: str) -> None:
    bodies = set()
    for reason in DOUBT_REASONS:
        changes = {"id_request": {"doubt_reason": reason}, "doubt_reason": reason}
        body = flat(render(name, language, **changes).body)
        for rule in (
            phrase("front", language),
            phrase("black_out", language),
            phrase("register", language),
            phrase("deletes_copy", language),
        ):
            assert rule in body, f"{reason}: {rule!r} missing"
        bodies.add(body)

    assert len(bodies) == len(DOUBT_REASONS), "two doubt reasons read the same"


@pytest.mark.parametrize("name", ["id_request", "id_reminder"])
def test_an_unknown_doubt_reason_raises(name: str) -> None:
    with pytest.raises(jinja2.UndefinedError):
        render(name, "nl", doubt_reason="gut_feeling")


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
@pytest.mark.parametrize("id_request", [None, False])
def test_acknowledgement_without_id_request_asks_for_no_id(
    language: str, id_request: object
) -> None:
    body = flat(render("acknowledgement", language, id_request=id_request).body)

    assert phrase("front", language) not in body and phrase("black_out", language) not in body


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_extension_notice_gives_the_reason_and_both_dates(language: str) -> None:
    body = flat(render("extension_notice", language).body)

    assert phrase("extension_reason", language) in body
    assert spelled("legal_due", language) in body and spelled("extended_due", language) in body


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_rectification_lists_changes_and_notified_recipients(language: str) -> None:
    body = render("rectification_done", language).body

    for line in ("- +32 470 12 34 56", *(f"- {recipient}" for recipient in RECIPIENTS)):
        assert line in body.splitlines()


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_redirect_points_elsewhere_without_deadline_talk(language: str) -> None:
    body = flat(render("redirect", language, legal_due=DATES["legal_due"]).body)

    assert "https://www.example.org/contact" in body and SENDER in body
    assert spelled("legal_due", language) not in body
