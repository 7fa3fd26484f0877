"""Reply rendering: the acknowledgement in nl/fr/de/en, and every template in templates/."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import jinja2
import pytest

from mailbot.replies.render import (
    SUPPORTED_LANGUAGES,
    TEMPLATE_SUFFIX,
    RenderedReply,
    format_date,
    render_reply,
    reply_topic,
    split_subject,
    templates_dir,
    tidy_body,
)

REFERENCE = "JAIMY-PRIV-2026-0042"
RECEIPT = date(2026, 3, 7)
DUE = date(2026, 4, 7)
RIGHTS = (
    "access",
    "rectification",
    "erasure",
    "restriction",
    "portability",
    "objection",
    "withdraw_consent",
)
ARTICLE = {
    "access": "15",
    "rectification": "16",
    "erasure": "17",
    "restriction": "18",
    "portability": "20",
    "objection": "21",
    "withdraw_consent": "7",
}
# How each language cites the Regulation: "art. 15 AVG", "Art. 15 DSGVO", ...
CITATION = {
    "nl": ("art.", "AVG"),
    "fr": ("art.", "RGPD"),
    "de": ("Art.", "DSGVO"),
    "en": ("Art.", "GDPR"),
}
SPELLED_RECEIPT = {
    "nl": "7 maart 2026",
    "fr": "7 mars 2026",
    "de": "7. März 2026",
    "en": "7 March 2026",
}
SPELLED_DUE = {
    "nl": "7 april 2026",
    "fr": "7 avril 2026",
    "de": "7. April 2026",
    "en": "7 April 2026",
}
CONJUNCTION = {"nl": "en", "fr": "et", "de": "und", "en": "and"}
NEUTRAL_TOPIC = {
    "nl": "uw bericht over uw persoonsgegevens",
    "fr": "votre message concernant vos données personnelles",
    "de": "Ihre Nachricht zu Ihren personenbezogenen Daten",
    "en": "your message about your personal data",
}
NEUTRAL_GREETING = {
    "nl": "Geachte heer, mevrouw,",
    "fr": "Madame, Monsieur,",
    "de": "Sehr geehrte Damen und Herren,",
    "en": "Dear Sir or Madam,",
}
ID_REASON = {
    "nl": "U schreef ons vanaf een adres dat niet aan een Jaimy-account gekoppeld is.",
    "fr": "Vous nous avez écrit depuis une adresse qui n'est liée à aucun compte Jaimy.",
    "de": "Sie haben uns von einer Adresse geschrieben, die zu keinem Jaimy-Konto gehört.",
    "en": "You wrote to us from an address that is not linked to a Jaimy account.",
}
FRONT_SIDE = {"nl": "voorkant", "fr": "recto", "de": "Vorderseite", "en": "front side"}
BLACK_OUT = {"nl": "zwart maken", "fr": "noircir", "de": "schwärzen", "en": "black out"}
# What a reply must never say: asking which right is meant, or to cite the law.
FEARED = {
    "nl": ("welk recht", "welke rechten", "om welk recht", "welk artikel", "citeer"),
    "fr": ("quel droit", "quels droits", "quel article", "précisez le droit", "citer"),
    "de": ("welches recht", "welche rechte", "welchen artikel", "nennen sie das recht", "zitier"),
    "en": ("which right", "what right", "which article", "specify the right", "cite"),
}
NAME = "Saskia Verbruggen"

# One context for every template: the acknowledgement's variables and, as templates are
# added, theirs. A template needing a variable missing here fails the discovery test.
SAMPLE_CONTEXT: dict[str, object] = {
    "reference": REFERENCE,
    "receipt_date": RECEIPT,
    "legal_due": DUE,
    "rights": ["access", "erasure"],
    "original_subject": "Vraag over mijn gegevens",
    "requester_name": NAME,
    "id_request": None,
    "sender": "privacy@jaimy.be",
    "doubt_reason": "unknown_address",
    "id_requested_on": date(2026, 3, 9),
    "closes_on": date(2026, 4, 23),
    "extended_due": date(2026, 6, 8),
    "extension_reason": "Uw gegevens staan verspreid over drie systemen",
    "changes": ["Telefoonnummer: nu +32 470 00 00 00"],
    "erased": ["Uw account"],
    "kept": [{"item": "Uw facturen", "ground": "legal_obligation"}],
    "recipients_notified": ["Dakwerken Voorbeeld BV"],
    "restriction_scope": "Uw beoordelingen van vakmannen",
    "refusal_reasons": "De gevraagde gegevens gaan over een andere persoon.",
    "partial": False,
    "service_contact": "https://www.example.org/contact",
}


def acknowledgement_context(**changes: object) -> dict[str, object]:
    context: dict[str, object] = {
        "reference": REFERENCE,
        "receipt_date": RECEIPT,
        "legal_due": DUE,
        "rights": ["access"],
        "original_subject": "",
        "requester_name": "",
        "id_request": None,
        "sender": "privacy@jaimy.be",
    }
    context.update(changes)
    return context


def acknowledge(language: str, **changes: object) -> RenderedReply:
    return render_reply("acknowledgement", language, acknowledgement_context(**changes))


def flat(text: str) -> str:
    """The text on one line, so phrases split by line wrapping still match."""
    return " ".join(text.split())


def cites(body: str, language: str, label: str) -> bool:
    prefix, _ = CITATION[language]
    return re.search(rf"{re.escape(prefix)} {ARTICLE[label]}\b", flat(body)) is not None


def template_names(language: str) -> set[str]:
    return {
        path.name.removesuffix(TEMPLATE_SUFFIX)
        for path in (templates_dir() / language).glob("*" + TEMPLATE_SUFFIX)
    }


def all_template_files(language: str) -> set[str]:
    return {path.name for path in (templates_dir() / language).glob("*.j2")}


ALL_TEMPLATES = sorted(
    (language, name) for language in SUPPORTED_LANGUAGES for name in template_names(language)
)
RIGHTS_VARIANTS: tuple[list[str], ...] = (
    *([label] for label in RIGHTS),
    ["access", "erasure"],
    ["objection", "withdraw_consent", "portability"],
    ["other"],
    [],
)


def assert_well_formed(reply: RenderedReply) -> None:
    assert REFERENCE in reply.subject
    assert "\r" not in reply.subject and "\n" not in reply.subject
    assert not re.search(r"\bre:\s*re:", reply.subject, re.IGNORECASE)
    assert reply.body.endswith("\n") and not reply.body.endswith("\n\n")
    for line in reply.body.splitlines():
        assert len(line) <= 78 or " " not in line.strip(), f"line too long: {line!r}"
    assert not re.search(r"\{\{|\}\}|\{%|%\}", reply.body), "unrendered template syntax"
    lowered = flat(reply.body).lower() + " " + reply.subject.lower()
    for phrase in FEARED[reply.language]:
        assert phrase not in lowered, f"{reply.template}/{reply.language} says {phrase!r}"


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
@pytest.mark.parametrize("label", RIGHTS)
def test_acknowledgement_names_the_one_right_exercised(language: str, label: str) -> None:
    reply = acknowledge(language, rights=[label])

    assert_well_formed(reply)
    assert cites(reply.body, language, label)
    assert CITATION[language][1] in flat(reply.body)
    for other in RIGHTS:
        if other != label:
            assert not cites(reply.body, language, other), f"{other} mentioned for {label}"


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_acknowledgement_joins_several_rights_naturally(language: str) -> None:
    body = flat(acknowledge(language, rights=["objection", "access", "erasure"]).body)
    prefix, _ = CITATION[language]

    first = body.index(f"{prefix} 21")
    last = body.index(f"{prefix} 17")
    between = body[first:last]
    assert f"{prefix} 15" in between
    assert "," in between and f" {CONJUNCTION[language]} " in between


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_acknowledgement_of_two_rights_mentions_both_once(language: str) -> None:
    reply = acknowledge(language, rights=["access", "erasure", "access"])
    prefix, _ = CITATION[language]

    assert_well_formed(reply)
    assert flat(reply.body).count(f"{prefix} 15") == 1
    assert cites(reply.body, language, "erasure")


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
@pytest.mark.parametrize("rights", [["other"], []], ids=["other", "none"])
def test_acknowledgement_without_a_named_right_stays_neutral(
    language: str, rights: list[str]
) -> None:
    reply = acknowledge(language, rights=rights)

    assert_well_formed(reply)
    assert NEUTRAL_TOPIC[language].lower() in flat(reply.body).lower()
    assert not re.search(r"\bart\. \d", reply.body, re.IGNORECASE)


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_other_alongside_a_right_keeps_the_right(language: str) -> None:
    reply = acknowledge(language, rights=["other", "rectification"])

    assert cites(reply.body, language, "rectification")


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
@pytest.mark.parametrize("rights", RIGHTS_VARIANTS, ids=lambda rights: "+".join(rights) or "none")
def test_acknowledgement_states_reference_receipt_and_due_date(
    language: str, rights: list[str]
) -> None:
    reply = acknowledge(language, rights=rights)
    body = flat(reply.body)

    assert_well_formed(reply)
    assert REFERENCE in body
    assert SPELLED_RECEIPT[language] in body
    assert SPELLED_DUE[language] in body


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_greeting_uses_the_name_when_known(language: str) -> None:
    named = acknowledge(language, requester_name=NAME).body.splitlines()[0]
    anonymous = acknowledge(language, requester_name="").body.splitlines()[0]

    assert NAME in named
    assert anonymous == NEUTRAL_GREETING[language]


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_name_with_line_breaks_stays_on_the_greeting_line(language: str) -> None:
    first_line = acknowledge(language, requester_name="Saskia\r\n Verbruggen").body.splitlines()[0]

    assert NAME in first_line


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_id_request_asks_for_the_front_only_and_allows_blacking_out(language: str) -> None:
    reply = acknowledge(language, id_request={"doubt_reason": "unknown_address"})
    body = flat(reply.body)

    assert_well_formed(reply)
    assert ID_REASON[language] in body
    assert FRONT_SIDE[language] in body
    assert BLACK_OUT[language] in body


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_no_id_paragraph_without_an_id_request(language: str) -> None:
    body = flat(acknowledge(language, id_request=None).body)

    assert FRONT_SIDE[language] not in body
    assert BLACK_OUT[language] not in body


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
@pytest.mark.parametrize(
    "original",
    [
        "Vraag over mijn gegevens",
        "Re: Vraag over mijn gegevens",
        "RE: Re: AW: Vraag over mijn gegevens",
        "Antw: Vraag over mijn gegevens",
        "TR : Réf. : Vraag over mijn gegevens",
        "Fwd: Re[2]: Vraag over mijn gegevens",
        f"Re: Vraag over mijn gegevens [{REFERENCE}]",
    ],
)
def test_subject_replies_once_to_the_original(language: str, original: str) -> None:
    subject = acknowledge(language, original_subject=original).subject

    assert subject == f"Re: Vraag over mijn gegevens [{REFERENCE}]"


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
@pytest.mark.parametrize(
    "original", ["Inzage\r\nBcc: victim", "Inzage\nX-Evil: 1", "Inzage\u2028more"]
)
def test_subject_line_breaks_cannot_inject_headers(language: str, original: str) -> None:
    reply = acknowledge(language, original_subject=original)

    assert_well_formed(reply)
    assert reply.subject.startswith("Re: Inzage ")
    assert not any(mark in reply.subject for mark in "\r\n\u2028")


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
@pytest.mark.parametrize("original", ["", "   ", "Re:", "AW: RE:"])
def test_subject_without_a_topic_is_our_own(language: str, original: str) -> None:
    reply = acknowledge(language, original_subject=original)

    assert_well_formed(reply)
    assert not reply.subject.lower().startswith("re:")
    assert reply.subject.endswith(f"[{REFERENCE}]")
    assert len(reply.subject) > len(REFERENCE) + 3


@pytest.mark.parametrize("missing", sorted(acknowledgement_context()))
def test_a_missing_context_variable_raises(missing: str) -> None:
    context = acknowledgement_context()
    del context[missing]

    with pytest.raises(jinja2.UndefinedError, match=missing):
        render_reply("acknowledgement", "nl", context)


def test_an_unknown_right_label_raises() -> None:
    with pytest.raises(jinja2.UndefinedError):
        acknowledge("en", rights=["acces"])


@pytest.mark.parametrize("language", ["es", "it", "", "EN", "nl_BE"])
def test_unknown_language_raises(language: str) -> None:
    with pytest.raises(ValueError, match="language"):
        render_reply("acknowledgement", language, acknowledgement_context())
    with pytest.raises(ValueError, match="language"):
        format_date(DUE, language)


def test_unknown_template_names_the_file_it_looked_for() -> None:
    with pytest.raises(ValueError, match=r"acknowledgment\.txt\.j2"):
        render_reply("acknowledgment", "en", acknowledgement_context())


@pytest.mark.parametrize("name", ["../en/acknowledgement", "_rights", "Acknowledgement"])
def test_only_letter_templates_can_be_rendered(name: str) -> None:
    with pytest.raises(ValueError):
        render_reply(name, "en", acknowledgement_context())


@pytest.mark.parametrize(
    ("language", "spelled"),
    [
        ("nl", "7 april 2026"),
        ("fr", "7 avril 2026"),
        ("de", "7. April 2026"),
        ("en", "7 April 2026"),
    ],
)
def test_format_date_spells_the_date_for_the_reader(language: str, spelled: str) -> None:
    assert format_date(date(2026, 4, 7), language) == spelled


@pytest.mark.parametrize(
    ("day", "spelled"),
    [
        (date(2026, 12, 1), "1er décembre 2026"),
        (date(2026, 12, 11), "11 décembre 2026"),
        (date(2026, 12, 21), "21 décembre 2026"),
    ],
)
def test_french_first_of_the_month_is_an_ordinal(day: date, spelled: str) -> None:
    assert format_date(day, "fr") == spelled


def test_templates_dir_holds_one_directory_per_language() -> None:
    directory = templates_dir()
    languages = {path.name for path in directory.iterdir() if path.is_dir()}

    assert languages == set(SUPPORTED_LANGUAGES)


def test_every_language_has_the_same_templates() -> None:
    files = {language: all_template_files(language) for language in SUPPORTED_LANGUAGES}
    reference_set = files["en"]

    assert "acknowledgement.txt.j2" in reference_set
    for language, names in files.items():
        assert names == reference_set, f"{language} differs: {names ^ reference_set}"


@pytest.mark.parametrize(("language", "name"), ALL_TEMPLATES)
def test_every_template_renders_in_every_language(language: str, name: str) -> None:
    for id_request in (None, {"doubt_reason": "unknown_address"}):
        for rights in RIGHTS_VARIANTS:
            context = {**SAMPLE_CONTEXT, "id_request": id_request, "rights": rights}
            try:
                reply = render_reply(name, language, context)
            except jinja2.UndefinedError as missing:
                pytest.fail(f"{language}/{name}: {missing}; add a sample value to SAMPLE_CONTEXT")
            assert (reply.template, reply.language) == (name, language)
            assert reply.subject and reply.body.strip()
            assert_well_formed(reply)


def test_signature_names_the_configured_address() -> None:
    reply = acknowledge("en", sender="dpo@example.test")
    assert "dpo@example.test" in reply.body and "privacy@jaimy.be" not in reply.body


def test_reply_topic_strips_any_configured_case_tag() -> None:
    assert reply_topic("Re: Vraag [EX-PRIV-2026-0042]") == "Vraag"


def test_reply_topic_strips_prefixes_and_our_tag() -> None:
    assert reply_topic("Re: AW: RE : Vraag") == "Vraag"
    assert reply_topic(f"Antw: Vraag [{REFERENCE}]") == "Vraag"
    assert reply_topic("Rechten\r\n  en plichten") == "Rechten en plichten"
    assert reply_topic("Treatment: facts") == "Treatment: facts"
    assert reply_topic("Référence de mon dossier") == "Référence de mon dossier"


def test_split_subject_requires_a_subject_line_and_a_blank_line() -> None:
    assert split_subject("Subject: Hello\n\nBody\n") == ("Hello", "\nBody\n")
    with pytest.raises(ValueError, match="Subject"):
        split_subject("Hello\n\nBody\n")
    with pytest.raises(ValueError, match="blank line"):
        split_subject("Subject: Hello\nBody\n")
    with pytest.raises(ValueError):
        split_subject("Subject:\n\nBody\n")


def test_tidy_body_wraps_long_lines_and_keeps_list_items_aligned() -> None:
    words = " ".join(f"word{i}" for i in range(40))
    address = "a-very-long-address-" + "x" * 80 + "@example.test"
    body = tidy_body(f"\n\n{words}\n\n\n- {words}\n{address}\n\n")
    lines = body.splitlines()

    assert body.endswith("\n") and not body.endswith("\n\n")
    assert lines[0].startswith("word0") and "" not in lines[:2]
    assert all(len(line) <= 78 for line in lines if line != address)
    assert address in lines
    item_start = next(i for i, line in enumerate(lines) if line.startswith("- "))
    assert lines[item_start + 1].startswith("  word")
    assert lines.count("") == 1
    assert flat(body) == flat(f"{words} - {words} {address}")


def test_tidy_body_never_breaks_before_french_punctuation() -> None:
    body = tidy_body("x" * 70 + " mot : suite ; fin " + "y " * 30)

    assert not any(line.startswith((":", ";")) for line in body.splitlines())


def test_templates_dir_is_the_checkout_copy_when_the_package_has_none() -> None:
    package = Path(__file__).resolve().parents[3] / "mailbot"
    if (package / "templates").is_dir():
        pytest.skip("running from an installed copy that carries its own templates")

    assert templates_dir() == package.parent / "templates"


# A reply never relays what a forged sender wrote (issue 11, defects 4 and 9)

PHISHING_NAME = "your Jaimy account is locked, unlock at https://jaimy-secure.example.net/unlock"


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
@pytest.mark.parametrize(
    "name",
    [
        PHISHING_NAME,
        "Unlock at www.jaimy-secure.example.net",
        "jaimy.be support",
        "Support jaimy-secure.example.net",
        "Call +32 470 12 34 56",
        "support@jaimy-secure.example.net",
        "Klik hier/unlock",
        "[[ the retention period ]]",
        "Anna [[ x ]] Peeters",
        "Anna\x1b]0;pwned\x07 Peeters",
        "Anna\x1b[31m Peeters",
        "Anna\u202ePeeters",
        "A" * 70,
        "One Two Three Four Five Six Seven Eight",
        "...",
    ],
)
def test_greeting_names_only_what_looks_like_a_name(language: str, name: str) -> None:
    reply = acknowledge(language, requester_name=name)

    assert reply.body.splitlines()[0] == NEUTRAL_GREETING[language]
    assert "http" not in reply.body.lower().replace(str(SAMPLE_CONTEXT["service_contact"]), "")
    assert "\x1b" not in reply.body and "[[" not in reply.body


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
@pytest.mark.parametrize(
    "name",
    ["Anna-Maria O'Neill", "J. P. Peeters", "Zoë Dupré", "Jan van der Berg", "Anna ’t Hooft"],
)
def test_greeting_keeps_a_real_name(language: str, name: str) -> None:
    assert name in acknowledge(language, requester_name=name).body.splitlines()[0]


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
@pytest.mark.parametrize(
    "original",
    [
        PHISHING_NAME,
        "Your account is locked: https://jaimy-secure.example.net",
        "Unlock now at www.jaimy-secure.example.net",
        "Verify at jaimy-secure.example.net today",
        "Write to support@jaimy-secure.example.net",
        "Inzage " + "heel belangrijk " * 10,
        "Vraag [[ fill ]] over mijn gegevens",
    ],
)
def test_a_subject_with_a_link_or_too_long_is_not_repeated(language: str, original: str) -> None:
    reply = acknowledge(language, original_subject=original)

    assert_well_formed(reply)
    assert not reply.subject.lower().startswith("re:")
    assert "jaimy-secure" not in reply.subject and "heel belangrijk" not in reply.subject
    assert "[[" not in reply.subject


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_control_characters_of_a_subject_are_dropped(language: str) -> None:
    subject = acknowledge(language, original_subject="Inzage \x1b[31mnu\x07").subject

    assert subject == f"Re: Inzage nu [{REFERENCE}]"
