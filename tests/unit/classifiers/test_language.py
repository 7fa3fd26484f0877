"""Language detection: the four served languages, honest codes for the rest, "und" for noise."""

from __future__ import annotations

import pytest

from classifiers import detect_language


@pytest.mark.parametrize(
    "text",
    [
        "Verwijder mijn gegevens aub",
        "Mijn adres klopt niet",
        "Ik wil inzage",
        "Stop met bellen",
        "ik wil dat jullie stoppen",  # py3langid alone ranks Afrikaans first here
        "Graag alles wissen",
        "Hoi, wat weten jullie van mij?",
    ],
)
def test_short_dutch_is_dutch(text: str) -> None:
    assert detect_language(text) == "nl"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Bonjour, je voudrais savoir quelles données vous avez sur moi.", "fr"),
        ("Plus de newsletter svp", "fr"),
        ("Guten Tag, bitte löschen Sie alle meine Daten aus Ihrer Kundendatei.", "de"),
        ("Hello, please delete my account and everything you store about me.", "en"),
    ],
)
def test_served_languages(text: str, language: str) -> None:
    assert detect_language(text) == language


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Hola, quiero saber qué datos personales tienen ustedes sobre mí.", "es"),
        ("Buongiorno, vorrei che cancellaste tutti i miei dati personali.", "it"),
        ("Dzień dobry, proszę o usunięcie moich danych osobowych z waszej bazy.", "pl"),
    ],
)
def test_other_languages_are_not_passed_off_as_served(text: str, language: str) -> None:
    assert detect_language(text) == language


def test_real_afrikaans_is_not_rewritten_to_dutch() -> None:
    assert detect_language("Die kinders speel elke middag in die tuin agter die huis.") == "af"


@pytest.mark.parametrize("text", ["", "   \n\t", "ok", "12345 678", "?!", "jan@example.org"])
def test_no_language_in_noise(text: str) -> None:
    assert detect_language(text) == "und"


def test_addresses_and_links_do_not_decide() -> None:
    text = "Please remove me. anke.peeters@example.org https://www.example.org/profiel/verwijderen"
    assert detect_language(text) == "en"


def test_detection_is_deterministic() -> None:
    text = "Kunnen jullie mijn telefoonnummer aanpassen?"
    assert {detect_language(text) for _ in range(5)} == {"nl"}
