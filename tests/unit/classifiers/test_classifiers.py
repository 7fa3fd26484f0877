"""The classifier interface and the baseline: rights in four languages, citations, history."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classifiers import (
    LABELS,
    RIGHTS,
    Classification,
    Classifier,
    cited_rights,
    load_classifier,
)
from classifiers.quoting import new_text

# (right, language, subject, body): written for these tests, not taken from any corpus.
REQUESTS = [
    ("access", "nl", "", "Goedemiddag, welke gegevens hebben jullie over mij? Groetjes, Lotte"),
    ("access", "fr", "Demande", "Bonjour, je souhaite exercer mon droit d'accès à mes données."),
    (
        "access",
        "de",
        "Anfrage",
        "Bitte erteilen Sie mir Auskunft, welche Daten Sie über mich haben.",
    ),
    ("access", "en", "", "Hi, can I get a copy of my personal data? Thanks, Tom"),
    ("rectification", "nl", "", "Hallo, kunnen jullie mijn adres aanpassen? Ik ben verhuisd."),
    ("rectification", "fr", "", "Bonjour, merci de corriger mon nom, il est mal orthographié."),
    ("rectification", "de", "", "Hallo, meine Adresse ist falsch, bitte korrigieren Sie sie."),
    ("rectification", "en", "", "Please correct my date of birth, it is wrong in your system."),
    ("erasure", "nl", "", "Verwijder al mijn gegevens uit jullie systeem alstublieft."),
    ("erasure", "fr", "", "Bonjour, supprimez mon compte et toutes mes informations svp."),
    ("erasure", "de", "", "Guten Tag, löschen Sie bitte meine Daten vollständig."),
    ("erasure", "en", "", "Please delete my account and all the information you keep."),
    (
        "restriction",
        "nl",
        "",
        "Ik vraag de beperking van de verwerking tot mijn klacht is behandeld.",
    ),
    ("restriction", "fr", "", "Je demande la limitation du traitement de mes données."),
    ("restriction", "de", "", "Ich verlange die Einschränkung der Verarbeitung meiner Daten."),
    ("restriction", "en", "", "I ask you to restrict processing of my data while you check it."),
    ("portability", "nl", "", "Kan ik mijn gegevens exporteren in een machineleesbaar bestand?"),
    ("portability", "fr", "", "Je voudrais exporter mes données pour un autre prestataire."),
    ("portability", "de", "", "Ich möchte meine Daten in einem maschinenlesbaren Format erhalten."),
    ("portability", "en", "", "I would like to export my data in a machine-readable format."),
    ("objection", "nl", "", "Stop met bellen! Ik wil geen reclame meer van jullie."),
    ("objection", "fr", "", "Plus de newsletter svp, ne plus me contacter."),
    ("objection", "de", "", "Ich möchte keine Werbung mehr von Ihnen bekommen."),
    ("objection", "en", "", "Stop calling me and unsubscribe me from every list."),
    (
        "withdraw_consent",
        "nl",
        "",
        "Hierbij trek ik mijn toestemming in voor het gebruik van mijn foto.",
    ),
    ("withdraw_consent", "fr", "", "Je retire mon consentement au traitement de mes données."),
    (
        "withdraw_consent",
        "de",
        "",
        "Hiermit widerrufe ich meine Einwilligung zur Datenverarbeitung.",
    ),
    ("withdraw_consent", "en", "", "I withdraw my consent to the use of my data, effective today."),
]


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return load_classifier("baseline")


@pytest.mark.parametrize(("right", "language", "subject", "body"), REQUESTS)
def test_each_right_in_each_language(
    classifier: Classifier, right: str, language: str, subject: str, body: str
) -> None:
    result = classifier.classify(subject, body)
    assert result.primary == right
    assert result.language == language
    assert not result.needs_triage
    assert result.confidence >= 0.5


def test_every_right_and_language_has_a_case() -> None:
    covered = {(right, language) for right, language, _, _ in REQUESTS}
    assert covered == {(right, lang) for right in RIGHTS for lang in ("nl", "fr", "de", "en")}


@pytest.mark.parametrize(
    "body",
    [
        "Verwijder mijn gegevens en stop met bellen, ik wil geen reclame meer.",
        "Please delete my account, and stop sending me marketing e-mails.",
    ],
)
def test_two_rights_in_one_mail(classifier: Classifier, body: str) -> None:
    result = classifier.classify("", body)
    assert {"erasure", "objection"} <= set(result.labels)
    assert result.primary in {"erasure", "objection"}
    assert result.labels[0] == result.primary


def test_result_obeys_the_contract(classifier: Classifier) -> None:
    result = classifier.classify("Vraag", "Verwijder mijn gegevens en stop met bellen.")
    assert isinstance(classifier, Classifier)
    assert tuple(result.scores) == LABELS
    assert all(0.0 <= score <= 1.0 for score in result.scores.values())
    assert result.scores[result.primary] == max(result.scores[label] for label in result.labels)


@pytest.mark.parametrize(
    ("text", "rights"),
    [
        ("Ik doe een verzoek op grond van artikel 15 AVG.", {"access"}),
        ("Antrag nach Art. 21 DSGVO", {"objection"}),
        ("Demande au titre de l'article 16 du RGPD", {"rectification"}),
        ("Request under art 20 GDPR", {"portability"}),
        ("Gemäß Art. 15, 17 und 18 DSGVO", {"access", "erasure", "restriction"}),
        ("Ich widerrufe meine Einwilligung (Artikel 7 Abs. 3).", {"withdraw_consent"}),
        ("I withdraw consent, art. 7(3).", {"withdraw_consent"}),
        ("Under the GDPR, see Art. 17, please act.", {"erasure"}),
        ("Article 15 of the General Data Protection Regulation", {"access"}),
        # German church laws restate the rights under their own section numbers.
        (
            "Löschung gemäß § 19 Abs. 1 des Gesetzes über den Kirchlichen Datenschutz (KDG)",
            {"erasure"},
        ),
        ("Widerspruch nach § 23 KDG und Auskunft nach § 17 KDG", {"objection", "access"}),
        ("Auskunft nach § 19 DSG-EKD", {"access"}),
        ("Antrag nach §§ 21 und 25 DSG-EKD", {"erasure", "objection"}),
        ("Einschränkung nach § 20 KDR-OG", {"restriction"}),
        ("Auskunft und Berichtigung nach §§ 17 bis 18 KDG", {"access", "rectification"}),
        ("Auskunft nach § 19 DSG EKD", {"access"}),
        ("Löschung nach § 21 EKD-Datenschutzgesetz", {"erasure"}),
    ],
)
def test_citations_name_rights(text: str, rights: set[str]) -> None:
    assert cited_rights(text) == rights


@pytest.mark.parametrize(
    "text",
    [
        "Volgens Art. 15 van de algemene voorwaarden mag ik annuleren.",
        "Volgens Art. 15 van de algemene voorwaarden mag ik annuleren; de AVG zegt iets anders.",
        "Art. 15 BGB",
        "Art. 7 GDPR talks about consent in general.",
        "Art. 17 of the terms, nothing else.",
        "state of the art 2020",
        # Sections that are no right, or another law's section beside a church law's name.
        "Personenbezogene Daten im Sinne des § 4 Nr. 1 KDG",
        "Nach § 14 Abs. 3 KDG haben Sie mich zu informieren.",
        "§ 19 BGB und das KDG",
        "Löschung nach § 19 der Satzung, ferner gilt das KDG.",
        "§ 17 des Bundesdatenschutzgesetzes und das KDG",
        "§ 17 UWG",
    ],
)
def test_citations_of_other_texts_do_not_count(text: str) -> None:
    assert cited_rights(text) == frozenset()


def test_a_citation_alone_is_enough(classifier: Classifier) -> None:
    result = classifier.classify("Anfrage", "Sehr geehrte Damen und Herren, Art. 17 DSGVO. MfG")
    assert result.primary == "erasure"
    assert not result.needs_triage


HISTORY_STYLES = [
    (
        "Re: uw verzoek",
        "Welke gegevens hebben jullie nog over mij?\n\n"
        "Op di 3 mrt 2026 om 10:12 schreef Privacy <privacy@example.org>:\n"
        "> Wij gaan uw gegevens verwijderen, zoals gevraagd.\n",
    ),
    (
        "RE: delete my account",
        "What personal data do you still hold about me?\n\n"
        "From: Privacy Team <privacy@example.org>\n"
        "Sent: Tuesday, 3 March 2026 10:12\n"
        "To: Tom Example <tom@example.test>\n"
        "Subject: RE: delete my account\n\n"
        "We will delete your account and erase all your data.\n",
    ),
    (
        "Re: suppression",
        "Bonjour, quelles données avez-vous encore sur moi ?\n\n"
        "Le mar. 3 mars 2026 à 10:12, Service Privacy <privacy@example.org> a\n"
        "écrit :\n"
        "Nous allons supprimer votre compte et effacer vos données.\n",
    ),
    (
        "AW: Löschung",
        "Welche Daten haben Sie jetzt noch über mich gespeichert?\n\n"
        "-----Ursprüngliche Nachricht-----\n"
        "Bitte löschen Sie meine Daten.\n",
    ),
]


@pytest.mark.parametrize(("subject", "body"), HISTORY_STYLES)
def test_quoted_history_is_ignored(classifier: Classifier, subject: str, body: str) -> None:
    result = classifier.classify(subject, body)
    assert result.primary == "access"
    assert "erasure" not in result.labels


def test_bottom_posted_reply_keeps_its_new_text() -> None:
    body = (
        "On Tue, 3 Mar 2026 at 10:12, Privacy <privacy@example.org> wrote:\n"
        "> Your account is closed.\n\nThanks. Please also export my data.\n"
    )
    text = new_text(body)
    assert "export my data" in text
    assert "account is closed" not in text


def test_an_attached_letter_follows_the_new_text_and_escapes_the_quote_cutting() -> None:
    from classifiers.reading import read_mail, with_attached

    body = "See my letter.\n\nOn Mon, 2 Mar 2026, Privacy <privacy@example.org> wrote:\n> Old."
    letter = "On Friday my neighbour wrote: nothing. Please delete all my data."
    reading = read_mail("Re: letter", with_attached(body, letter))
    assert reading.text == f"See my letter.\n\n{letter}"
    assert with_attached(body, "  \n") == body


def test_forwarded_request_is_read(classifier: Classifier) -> None:
    body = (
        "Zie hieronder, kan jij dit opvolgen?\n\n"
        "---------- Forwarded message ---------\n"
        "From: Klant <klant@example.test>\n"
        "Subject: mijn gegevens\n\n"
        "Verwijder al mijn gegevens uit jullie bestand.\n"
    )
    assert classifier.classify("Fwd: mijn gegevens", body).primary == "erasure"


def test_a_reply_subject_alone_makes_no_right(classifier: Classifier) -> None:
    result = classifier.classify("Re: Verwijder mijn gegevens", "Bedankt, goed ontvangen!")
    assert "erasure" not in result.labels


@pytest.mark.parametrize(("subject", "body"), [("", ""), ("   ", "\n\n"), ("?", "")])
def test_empty_mail_goes_to_triage(classifier: Classifier, subject: str, body: str) -> None:
    result = classifier.classify(subject, body)
    assert result.primary == "other"
    assert result.needs_triage
    assert result.confidence < 0.5
    assert result.language == "und"


def test_two_megabytes_are_fast_and_fine(classifier: Classifier) -> None:
    body = "Verwijder mijn gegevens. " + "lorem ipsum dolor sit amet " * 80_000
    assert len(body) > 2_000_000
    started = time.perf_counter()
    result = classifier.classify("Verzoek", body)
    assert time.perf_counter() - started < 5.0
    assert result.primary == "erasure"


def test_no_right_means_triage_not_a_guess(classifier: Classifier) -> None:
    result = classifier.classify("Vraag", "Ik heb een klacht over jullie privacybeleid.")
    assert result.primary == "other"
    assert result.needs_triage
    assert result.confidence < 0.5
    assert result.scores["other"] > 0.0


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        (
            "Zomerpromoties",
            "Tot 20% korting op alle werken! Je ontvangt deze e-mail omdat je klant bent. "
            "Klik hier om je af te melden.",
        ),
        ("Out of office", "I am currently out of the office and will be back on Monday."),
        ("Offerte", "Wanneer komt de loodgieter? Ik wacht nog op de offerte en een afspraak."),
    ],
)
def test_obvious_non_requests_are_flagged_for_triage(
    classifier: Classifier, subject: str, body: str
) -> None:
    result = classifier.classify(subject, body)
    assert result.primary == "not_a_request"
    assert result.needs_triage


def test_service_words_do_not_hide_a_privacy_question(classifier: Classifier) -> None:
    body = "Na mijn afspraak met de loodgieter: welke gegevens hebben jullie over mij?"
    assert classifier.classify("Offerte", body).primary == "access"


def test_asking_to_unsubscribe_is_an_objection(classifier: Classifier) -> None:
    result = classifier.classify("", "Please unsubscribe me from your newsletter.")
    assert result.primary == "objection"


def test_no_objection_is_not_an_objection(classifier: Classifier) -> None:
    result = classifier.classify("", "Ik heb geen bezwaar, dank voor de uitleg.")
    assert "objection" not in result.labels


@pytest.mark.parametrize(
    "body",
    ["Bitte löschen Sie meine Daten.", "bitte loeschen sie meine daten", "LÖSCHEN SIE MEINE DATEN"],
)
def test_case_and_accents_do_not_matter(classifier: Classifier, body: str) -> None:
    assert classifier.classify("", body).primary == "erasure"


@settings(max_examples=60, deadline=None)
@given(subject=st.text(max_size=200), body=st.text(max_size=3_000))
def test_any_text_gives_a_valid_result(classifier: Classifier, subject: str, body: str) -> None:
    result = classifier.classify(subject, body)
    assert result.primary in LABELS
    assert result.labels[0] == result.primary
    assert tuple(result.scores) == LABELS
    assert 0.0 <= result.confidence <= 1.0
    assert result.reply_language in ("nl", "fr", "de", "en")


def test_unknown_language_is_answered_in_english(classifier: Classifier) -> None:
    result = classifier.classify("", "Hola, quiero saber qué datos personales tienen sobre mí.")
    assert result.language == "es"
    assert result.reply_language == "en"


def test_served_language_is_answered_in_kind(classifier: Classifier) -> None:
    result = classifier.classify("", "Bonjour, supprimez mon compte s'il vous plaît.")
    assert result.reply_language == "fr"


def test_classification_is_deterministic(classifier: Classifier) -> None:
    mail = ("Verzoek", "Verwijder mijn gegevens en stop met bellen.")
    assert len({repr(classifier.classify(*mail)) for _ in range(3)}) == 1


def test_unknown_classifier_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="baseline"):
        load_classifier("gpt-9")


def _scores(**given: float) -> dict[str, float]:
    return {label: given.get(label, 0.0) for label in LABELS}


def test_malformed_classifications_are_refused() -> None:
    with pytest.raises(ValueError):
        Classification("nl", "access", ("erasure",), _scores(access=0.9), 0.9, False)
    with pytest.raises(ValueError):
        Classification("nl", "access", ("access",), _scores(access=1.5), 0.9, False)
    with pytest.raises(ValueError):
        Classification("nl", "access", ("access",), _scores(access=0.3), 0.3, True)
    with pytest.raises(ValueError):
        Classification("nl", "access", ("access",), {"access": 0.9}, 0.9, False)
