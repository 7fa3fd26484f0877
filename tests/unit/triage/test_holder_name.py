"""The name on an ID copy against the sender's display name: compared, never kept."""

from __future__ import annotations

import pytest

from mailbot.triage.holder_name import holder_matches, name_parts

CARD = """BELGIE BELGIQUE BELGIEN IDENTITEITSKAART
Naam / Nom VAN DEN BROECK
Voornamen / Prenoms Anne-Sophie Marie
IDBEL5901234567<8<<<<<<<<<<<<<<
VAN<DEN<BROECK<<ANNE<SOPHIE<MA"""


@pytest.mark.parametrize(
    "name",
    [
        "Anne-Sophie Van den Broeck",
        "VAN DEN BROECK Anne-Sophie",
        "Mevrouw A. Van den Broeck",
        "Anne-Sophie",
        "Anne-Sophie Van den Broek",  # one letter off in a long part: an OCR slip
    ],
)
def test_the_senders_name_on_the_card_matches(name: str) -> None:
    assert holder_matches(CARD, name) is True


@pytest.mark.parametrize(
    "name", ["Pieter Claes", "Zoë Van den Broeck", "Anne-Sophie Dubois", "Van den Bruck Anne"]
)
def test_another_name_does_not(name: str) -> None:
    assert holder_matches(CARD, name) is False


@pytest.mark.parametrize("name", ["", "A. B.", "Dr. J."])
def test_nothing_to_compare_is_no_answer(name: str) -> None:
    assert holder_matches(CARD, name) is None


def test_a_mailbox_name_is_a_name_that_is_not_on_the_card() -> None:
    assert holder_matches(CARD, "Info") is False


def test_titles_and_initials_are_not_looked_for() -> None:
    assert name_parts("Mr. J. R. Peeters-Dumont") == ["peeters", "dumont"]
    assert name_parts("Frau Dr. Müller") == ["muller"]
