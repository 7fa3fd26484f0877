"""Phrase rules for what surrounds a request: privacy vocabulary, bulk mail, customer service.

They never name a right: privacy words argue for "other" and against reading a mail as
customer service; bulk-mail and service words argue for "not_a_request".
"""

from __future__ import annotations

from typing import Final

from classifiers.patterns import Rule, rules

# Privacy words: evidence for "other", and a veto on reading a mail as customer service.
PRIVACY_RULES: Final[tuple[Rule, ...]] = (
    *rules(
        "other",
        1.2,
        r"\b(?:gegevensbeschermingsautoriteit|autoriteit persoonsgegevens|toezichthouder)\b",
        r"\b(?:autorite de protection des donnees|datenschutzbehorde|aufsichtsbehorde)\b",
        r"\b(?:gba|apd|cnil|ico|edpb)\b",
    ),
    *rules(
        "other",
        1.0,
        r"\b(?:datalek|data ?breach|fuite de donnees|violation de donnees|datenleck|datenpanne)\b",
    ),
    *rules(
        "other",
        0.6,
        r"\bprivacy\w*|\b(?:gdpr|avg|rgpd|dsgvo|ds-gvo|vie privee)\b|\bdatenschutz\w*",
        r"\b(?:gegevensbescherming|protection des donnees|data protection)\b",
        r"\b(?:persoonsgegevens|personal (?:data|information)|personenbezogen\w*)\b",
        r"\bdonnees (?:personnelles|a caractere personnel)\b",
        r"\b(?:mijn gegevens|mes donnees|meine daten|my data)\b",
        r"\b(?:klacht|plainte|beschwerde|complaint)\b",
        r"\b(?:herinnering|rappel|erinnerung|reminder)\b",
        r"\b(?:nog steeds|nog altijd) geen antwoord\b|\btoujours pas de reponse\b",
        r"\b(?:immer noch|noch) keine antwort\b|\bstill no (?:answer|reply)\b",
        r"\b(?:dpo|functionaris voor gegevensbescherming|delegue a la protection des donnees)\b",
        r"\bdatenschutzbeauftragte\w*",
    ),
)

# Bulk mail and automatic replies: nobody is asking anything.
MASS_MAIL_RULES: Final[tuple[Rule, ...]] = (
    *rules(
        "not_a_request",
        1.5,
        r"\bout of (?:the )?office\b|\bauto(?:matic)?[- ]?reply\b",
        r"\bi (?:am|will be) (?:currently )?(?:away|out of the office|on (?:annual )?leave"
        r"|on holiday|on vacation)\b",
        r"\bafwezig(?:heid)?s?bericht\b|\bautomatisch antwoord\b",
        r"\bik ben (?:momenteel |tot \w+ \w+ )?afwezig\b",
        r"\breponse automatique\b|\babsente? du bureau\b|\bje suis (?:actuellement )?absente?\b",
        r"\babwesenheitsnotiz\b|\bautomatische antwort\b",
        r"\bich bin (?:derzeit |zurzeit )?(?:nicht im buro|abwesend|im urlaub)\b",
        r"\bdelivery status notification\b|\bundeliver(?:able|ed)\b",
        r"\bmail delivery (?:failed|subsystem)\b|\bcould not be delivered\b",
        r"\bniet (?:afgeleverd|bezorgd) (?:worden|kunnen worden)\b|\bonbestelbaar\b",
        r"\bnon remis\b|\bn'a pas pu etre (?:remis|distribue)\b",
        r"\bunzustellbar\b|\bkonnte nicht zugestellt\b",
    ),
    *rules(
        "not_a_request",
        1.2,
        r"\byou (?:are receiving|received) this (?:e-?mail|message|newsletter)\b",
        r"\b(?:je|u) ontvangt deze (?:e-?mail|nieuwsbrief|mail|berichten)\b",
        r"\bvous recevez (?:cet|ce|cette) (?:e-?mail|message|courriel|newsletter)\b",
        r"\bsie erhalten diese (?:e-?mail|nachricht|newsletter|mail)\b",
        r"\bclick here to unsubscribe\b|\bto unsubscribe,? click\b",
        r"\bklik hier om (?:je|u) af te melden\b",
        r"\b(?:pour vous desinscrire|pour se desinscrire),? cliquez\b",
        r"\bcliquez ici pour vous desinscrire\b",
        r"\bum sich (?:\w+ ){0,3}abzumelden\b|\bhier abmelden\b",
        r"\bif you (?:no longer wish|do not wish|don't want) to receive\b",
        r"\bwil (?:je|u) (?:deze|onze) (?:\w+ )?niet (?:meer )?ontvangen\b",
        r"\bsi vous ne souhaitez plus recevoir\b",
        r"\bwenn sie (?:diese|unsere) (?:\w+ )?nicht mehr erhalten\b",
    ),
    *rules(
        "not_a_request",
        1.0,
        r"\bview (?:this e-?mail )?in (?:your )?browser\b",
        r"\bmanage (?:your )?(?:e-?mail )?preferences\b",
        r"\bbekijk (?:deze e-?mail|de online versie)\b",
        r"\bversion (?:en ligne|web)\b|\bim browser (?:ansehen|anzeigen|offnen)\b",
    ),
    *rules(
        "not_a_request",
        0.5,
        r"\b(?:kortingscode|code promo|gutscheincode|discount code|promo code)\b",
        r"\b\d{1,2} ?% (?:off|korting|de remise|rabatt)\b",
    ),
)

# Jaimy's ordinary business (quotes, appointments, tradespeople): misdirected service mail.
SERVICE_RULES: Final[tuple[Rule, ...]] = (
    *rules(
        "not_a_request",
        1.0,
        r"\b(?:offerte|prijsofferte|prijsopgave|devis|quote|quotation|kostenvoranschlag|angebot)\b",
        r"\b(?:afspraak|rendez-vous|rdv|appointment|termin)\b",
    ),
    *rules(
        "not_a_request",
        0.8,
        r"\b(?:factuur|facture|invoice|rechnung)\b",
        r"\b(?:vakman|loodgieter|elektricien|aannemer|technieker|plombier|electricien|artisan)\b",
        r"\b(?:technicien|handwerker|installateur|klempner|elektriker|plumber|electrician)\b",
        r"\b(?:contractor|technician|handyman)\b",
    ),
    *rules(
        "not_a_request",
        0.6,
        r"\b(?:herstelling|reparatie|renovatie|reparation|travaux|renovation|reparatur|repair)\b",
    ),
)
