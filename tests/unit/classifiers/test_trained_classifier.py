"""The trained classifier (multilingual-e5-small + committed head) on mails it must read
right, and on bad input it must survive."""

from __future__ import annotations

import pytest

from classifiers import LABELS, load_classifier
from classifiers.trained import TrainedClassifier


@pytest.fixture(scope="module")
def classifier() -> TrainedClassifier:
    loaded = load_classifier("e5")
    assert isinstance(loaded, TrainedClassifier)
    return loaded


@pytest.mark.parametrize(
    ("subject", "body", "primary"),
    [
        (
            "Gegevens wissen",
            "Goedendag, gelieve mijn account en al mijn gegevens te verwijderen. "
            "Ik gebruik Jaimy niet meer.",
            "erasure",
        ),
        (
            "Mes données",
            "Bonjour, pouvez-vous m'envoyer une copie de toutes les données que "
            "vous avez sur moi, et me dire à quels artisans vous les avez transmises ?",
            "access",
        ),
        (
            "Werbung",
            "Bitte schicken Sie mir keine Newsletter und keine Werbeanrufe mehr.",
            "objection",
        ),
        (
            "Wrong address",
            "Hi, my address in your system is wrong: I moved to Rue Haute 12. Please correct it.",
            "rectification",
        ),
    ],
)
def test_clear_requests_in_four_languages(
    classifier: TrainedClassifier, subject: str, body: str, primary: str
) -> None:
    result = classifier.classify(subject, body)
    assert result.primary == primary, result
    assert not result.needs_triage
    assert set(result.scores) == set(LABELS)


def test_new_text_decides_over_quoted_history(classifier: TrainedClassifier) -> None:
    quoted = "\n".join(f"> Nieuwe offertes voor uw badkamer, week {n}" for n in range(300))
    body = (
        "Verwijder aub mijn gegevens.\n\nOp 3 mei 2026 schreef Jaimy <info@example.com>:\n" + quoted
    )
    assert classifier.classify("Re: Nieuwsbrief", body).primary == "erasure"


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("", ""),
        ("", " \n\t "),
        ("big", "Bitte löschen Sie meine Daten. " * 70_000),  # about 2 MB
        ("", "<html><body><p>Supprimez mon compte</p></body></html>"),
        ("Datos", "Hola, quiero saber qué datos personales tienen sobre mí."),
        ("", "\x00\x01 ☃ 🙂 " * 100),
    ],
)
def test_bad_input_classifies_without_errors(
    classifier: TrainedClassifier, subject: str, body: str
) -> None:
    result = classifier.classify(subject, body)
    assert result.primary in LABELS
    assert 0.0 <= result.confidence <= 1.0


def test_empty_mail_goes_to_triage(classifier: TrainedClassifier) -> None:
    result = classifier.classify("", "")
    assert (result.primary, result.needs_triage) == ("other", True)


def test_a_language_we_do_not_serve_is_answered_in_english(
    classifier: TrainedClassifier,
) -> None:
    result = classifier.classify(
        "Datos", "Hola, quiero saber qué datos personales tienen sobre mí."
    )
    assert result.language == "es" and result.reply_language == "en"


def test_batch_and_single_agree(classifier: TrainedClassifier) -> None:
    mails = [
        ("Stop", "Stop met bellen aub"),
        ("Export", "Please export my data as CSV."),
        ("", "Wann kommt der Handwerker?"),
    ]
    batch = classifier.classify_many(mails)
    single = [classifier.classify(*mail) for mail in mails]
    assert [r.primary for r in batch] == [r.primary for r in single]
    for a, b in zip(batch, single, strict=True):
        assert abs(a.confidence - b.confidence) < 1e-3
