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
        # a date inside the sentence, an ordinary "als", "wurde" or "droit d'"
        "Ich habe am 3. März Beschwerde bei der Datenschutzbehörde eingereicht.",
        "Ik heb als klant een klacht ingediend bij de GBA.",
        "Ich habe Beschwerde bei der Datenschutzaufsichtsbehörde eingereicht, da meine "
        "Anfrage nicht beantwortet wurde.",
        "J'ai déposé une plainte auprès de l'APD pour violation de mon droit d'accès.",
        # lodged already, beside a condition; an open complaint; other authority names
        "Faute de réponse à mes trois courriels, j'ai déposé une plainte auprès de l'APD.",
        "My complaint with the supervisory authority has been open since April.",
        "I've already complained to the Information Commissioner's Office.",
        "Ich habe mich an den Landesbeauftragten für Datenschutz gewandt und Beschwerde erhoben.",
        # passive, short, typed on a phone, in a second language
        "Er is gisteren een klacht ingediend bij de privacywaakhond.",
        "Die Beschwerde ist bei der BfDI eingereicht.",
        "hab beschwerde bei datenschutzbehoerde gemacht wegen eure anrufe",
        "i have made a complant to the data protection autority about ur company",
        "moi j'ai fait plainte a l'APD deja, ils regardent le dossier",
        "Une plainte a été introduite auprès du gendarme de la vie privée cet après-midi.",
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
        # a condition or a time limit in the present tense is still a threat
        "If I do not receive an answer within a week, I file a complaint with the ICO.",
        "Zonder antwoord binnen 14 dagen dien ik een klacht in bij de GBA.",
        "Zo niet dien ik klacht in bij de Gegevensbeschermingsautoriteit.",
        "Wenn ich bis Freitag keine Antwort habe, reiche ich Beschwerde bei der "
        "Datenschutzbehörde ein.",
        "Sans réponse sous huit jours, je dépose une plainte auprès de l'APD.",
        "Next week I file a complaint with the Data Protection Authority.",
        # questions, with or without a question mark
        "Should I file a complaint with the ICO or with you?",
        "Bij wie dien ik een klacht in: bij u of bij de GBA?",
        "Ik wil weten of ik een klacht kan indienen bij de GBA.",
        # the right to complain, inside an access request
        "Hierbij verzoek ik u om inzage op grond van artikel 15 AVG, met inbegrip van het "
        "recht om een klacht in te dienen bij de GBA.",
        # not lodged yet, hesitating, reserving
        "Ik heb nog geen klacht ingediend bij de GBA, maar het formulier is klaar.",
        "Eine Beschwerde bei der Aufsichtsbehörde habe ich bislang nicht eingereicht.",
        "J'ai longtemps hésité à saisir l'APD, je vous laisse une dernière chance.",
        "Unsere Mandantin behält sich vor, Beschwerde bei der Aufsichtsbehörde einzulegen.",
        "Als ik binnen 7 dagen geen bevestiging krijg, dien ik klacht in bij de GBA.",
        # the authority handles complaints: not the writer's
        "The ICO handles complaints about data protection.",
        # a regulator of another kind
        "I complained to the plumber about the gas regulator he fitted.",
    ],
)
def test_threats_rights_and_service_complaints_are_not(text: str) -> None:
    assert not lodges_complaint(text)


def test_the_complaint_article_stays_inside_its_sentence() -> None:
    # "Art." ends with a full stop: the sentence must not be cut there.
    assert lodges_complaint("Hiermit möchte ich Beschwerde nach Art. 77 DSGVO einreichen.")
    # but lodging words in one sentence and the authority in another are no complaint
    assert not lodges_complaint("I hereby lodge my request. Complaints go to the ICO.")


def test_the_authoritys_acknowledgement_forwarded_is_a_complaint() -> None:
    forwarded = (
        "Ter informatie.\n\n---------- Doorgestuurd bericht ---------\n"
        "Van: Gegevensbeschermingsautoriteit <noreply@gba.example.org>\n"
        "Onderwerp: Ontvangstbevestiging\n\n"
        "Geachte heer Smets,\n\nWij bevestigen de ontvangst van uw klacht tegen Jaimy NV."
    )
    assert lodges_complaint(forwarded)
    # the same words from Jaimy's customer service, no authority anywhere: not one
    assert not lodges_complaint("Wij bevestigen de ontvangst van uw klacht over de dakwerker.")
