"""Telling a complaint lodged with a data-protection authority from a threat to lodge one,
from the right to complain listed in an access request, and from other mail."""

from __future__ import annotations

import pytest

from classifiers.complaint import lodges_complaint


@pytest.mark.parametrize(
    "text",
    [
        "Ik dien hierbij een klacht in op grond van artikel 77 AVG tegen Jaimy NV.",
        "Ik heb vandaag een klacht ingediend bij de Gegevensbeschermingsautoriteit.",
        "Je dépose par la présente une plainte auprès de l'APD contre votre société.",
        "J'ai introduit une plainte auprès de l'Autorité de protection des données.",
        "Hiermit reiche ich Beschwerde nach Art. 77 DSGVO gegen die Jaimy NV ein.",
        "Ich habe heute Beschwerde bei der Datenschutzbehörde eingereicht.",
        "Hiermit möchte ich Beschwerde nach § 48 KDG einreichen.",
        "I am hereby lodging a complaint under Article 77 GDPR about Jaimy NV.",
        "For your information: I have filed a complaint with the Data Protection Authority.",
    ],
)
def test_a_lodged_complaint_is_recognised(text: str) -> None:
    assert lodges_complaint(f"Geachte,\n\n{text}\n\nMet vriendelijke groet,\nAnna Peeters")


@pytest.mark.parametrize(
    "text",
    [
        # threats and conditions
        "Zonder antwoord binnen de maand zal ik een klacht indienen bij de GBA.",
        "Als het nog eens gebeurt, dien ik een klacht in bij de GBA.",
        "À défaut de réponse, je déposerai une plainte auprès de l'APD.",
        "Sollte ich keine Antwort erhalten, werde ich Beschwerde bei der Datenschutzbehörde "
        "einlegen.",
        "Ich behalte mir vor, Beschwerde bei der zuständigen Aufsichtsbehörde einzureichen.",
        "Failing a reply, I will lodge a complaint with the supervisory authority.",
        # the right to complain, among what an access request asks to be told
        "Please tell me about the right to lodge a complaint with a supervisory authority.",
        "Informeer mij over het recht om een klacht in te dienen bij de GBA.",
        "das Bestehen eines Beschwerderechts bei einer Aufsichtsbehörde (Art. 77 DSGVO);",
        "le droit d'introduire une réclamation auprès d'une autorité de contrôle;",
        # a complaint about the work, not to an authority
        "Hierbij dien ik een klacht in over de loodgieter die niet kwam opdagen.",
        "I hereby file a complaint about the quote I received.",
    ],
)
def test_threats_rights_and_service_complaints_are_not(text: str) -> None:
    assert not lodges_complaint(text)


def test_the_complaint_article_stays_inside_its_sentence() -> None:
    # "Art." ends with a full stop: the sentence must not be cut there.
    assert lodges_complaint("Hiermit möchte ich Beschwerde nach Art. 77 DSGVO einreichen.")
    # but a lodging verb in one sentence and the authority in another is no complaint
    assert not lodges_complaint("I hereby ask for a copy. The ICO will hear of any complaint.")
