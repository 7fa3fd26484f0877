"""Which language a mail is written in, leaning towards the four languages we serve."""

from __future__ import annotations

import functools
import re
from typing import Final

from py3langid.langid import MODEL_FILE, LanguageIdentifier

from classifiers.labels import SERVED_LANGUAGES, UNDETERMINED_LANGUAGE

# Enough text for a stable guess; identification cost grows with length.
_SAMPLE_CHARS: Final = 5_000
# Fewer letters than this carry no usable signal ("ok", "?", "12345").
_MIN_LETTERS: Final = 3
# A served language this high in the ranking, with at least this share of the
# winner's probability, is taken instead: short Belgian mails are far likelier
# to be Dutch or French than Kinyarwanda, yet a clear Spanish mail stays Spanish.
_SERVED_RANK_WINDOW: Final = 5
_SERVED_MIN_SHARE: Final = 0.25
# Below this the winner is a coin toss among many languages.
_MIN_PROBABILITY: Final = 0.2
# Short Dutch is often scored as Afrikaans or Frisian, its close kin.
_DUTCH_KIN: Final = frozenset({"af", "fy"})
_SHORT_TEXT_LETTERS: Final = 400
_DUTCH_RANK_WINDOW: Final = 5
# Words and spellings that standard Dutch uses and Afrikaans / Frisian do not
# ("ij" is written "y" in both; "niet" is "nie" / "net"; "jullie" is "julle" / "jimme").
_DUTCH_MARKER: Final = re.compile(
    r"\b(?:\w*ij\w*|niet|jullie|uw|gegevens|zijn|worden|wordt|alstublieft|aub|bedankt)\b"
)
_DIGITS: Final = re.compile(r"[\d_]+")
_LINK_PREFIXES: Final = ("http://", "https://", "www.")


@functools.cache
def _identifier() -> LanguageIdentifier:
    # A private instance with normalised probabilities: the module-level
    # py3langid functions share mutable global state with other callers.
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def language_sample(text: str) -> str:
    """The part of `text` worth identifying: no addresses, links or digits, bounded length."""
    words = _DIGITS.sub(" ", text[: _SAMPLE_CHARS * 2]).split()
    kept = (word for word in words if "@" not in word and not word.startswith(_LINK_PREFIXES))
    return " ".join(kept)[:_SAMPLE_CHARS]


def ranked_languages(text: str) -> list[tuple[str, float]]:
    """Every language py3langid knows with its probability for `text`, likeliest first."""
    ranking: list[tuple[str, float]] = _identifier().rank(text)
    # Sort again on (-probability, code) so ties cannot depend on model order.
    return sorted(((lang, float(p)) for lang, p in ranking), key=lambda item: (-item[1], item[0]))


def detect_language(text: str) -> str:
    """ISO 639 code of `text` ("und" when too short or too unclear to say).

    Codes come from py3langid's full set, so a Polish mail is "pl", not a
    mistaken "de"; a served language is preferred when it is nearly as likely.
    """
    sample = language_sample(text)
    letters = sum(char.isalpha() for char in sample)
    if letters < _MIN_LETTERS:
        return UNDETERMINED_LANGUAGE
    ranking = ranked_languages(sample)
    top_language, top_probability = ranking[0]
    if top_language == "zxx":  # py3langid's "no linguistic content"
        return UNDETERMINED_LANGUAGE
    served = _close_served_language(ranking)
    if served is not None:
        return served
    if _is_short_dutch(sample, letters, ranking):
        return "nl"
    if top_probability < _MIN_PROBABILITY:
        return UNDETERMINED_LANGUAGE
    return top_language


def _close_served_language(ranking: list[tuple[str, float]]) -> str | None:
    top_probability = ranking[0][1]
    for language, probability in ranking[:_SERVED_RANK_WINDOW]:
        if language in SERVED_LANGUAGES and probability >= top_probability * _SERVED_MIN_SHARE:
            return language
    return None


def _is_short_dutch(sample: str, letters: int, ranking: list[tuple[str, float]]) -> bool:
    if ranking[0][0] not in _DUTCH_KIN or letters > _SHORT_TEXT_LETTERS:
        return False
    if "nl" not in {language for language, _ in ranking[:_DUTCH_RANK_WINDOW]}:
        return False
    return _DUTCH_MARKER.search(sample.casefold()) is not None
