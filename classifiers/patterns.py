"""Phrase rules for each right a mail can exercise, in nl, fr, de and en.

Patterns are written for folded text: lower case, no accents, single spaces.
Weights: about 2 for the right's own name, 1.5 for a clear request phrase,
below 1 for words that only hint. Every matching pattern adds its weight once.
"""

from __future__ import annotations

import re
from typing import Final

Rule = tuple[str, float, re.Pattern[str]]

# "<gap>" in a pattern stands for up to four words in between.
_GAP: Final = r"(?:\W+\w+){0,4}?\W+"
_EN_DETAILS: Final = (
    r"(?:address|name|surname|first name|last name|e-?mail(?: address)?|(?:tele)?phone(?: number)?"
    r"|mobile(?: number)?|number|date of birth|birth ?date|details|data|information|spelling)"
)
_NL_DETAILS: Final = (
    r"(?:adres|naam|achternaam|voornaam|e-?mail(?:adres)?|telefoonnummer|gsm(?:-?nummer)?"
    r"|nummer|geboortedatum|gegevens|woonplaats|postcode)"
)
_FR_DETAILS: Final = (
    r"(?:adresse(?: e-?mail| mail| postale)?|nom(?: de famille)?|prenom|e-?mail|courriel"
    r"|numero(?: de telephone)?|telephone|date de naissance|donnees|informations|coordonnees)"
)
_DE_DETAILS: Final = (
    r"(?:adresse|anschrift|namen?|nachnamen?|vornamen?|e-?mail(?:-?adresse)?|telefonnummer"
    r"|handynummer|nummer|geburtsdatum|daten|angaben|kontaktdaten)"
)
_MARKETING: Final = (
    r"(?:marketing|newsletters?|nieuwsbrie(?:f|ven)|reclame|publicites?|pubs?|werbung|werbe\w*"
    r"|promo(?:tion)?s?|promoties?|advertising|ads|spam|mailings?|e-?mails|mails|courriels"
    r"|sms(?:'?jes)?|texts|calls|anrufe|appels|telefoontjes|offres|angebote|prospection)"
)
_NL_CONTACT: Final = r"(?:bellen|mailen|e-?mailen|sms'?en|contacteren|spammen|sturen|benaderen)"
_EN_ERASE: Final = r"\b(?:delete|erase|remove|wipe|purge|destroy)"
_NL_ERASE: Final = r"\b(?:verwijder|verwijderen|verwijdert|wis|wissen|wist|schrap|schrappen)"
_FR_ERASE: Final = r"\b(?:supprimer|supprimez|supprime|effacer|effacez|efface|retirer|retirez)"
_DE_ERASE: Final = r"\b(?:l(?:o|oe)sch\w*|entfern\w*)"


def rules(label: str, weight: float, *patterns: str) -> tuple[Rule, ...]:
    """One rule per pattern, all for `label` with `weight`; "<gap>" is expanded."""
    return tuple(
        (label, weight, re.compile(pattern.replace("<gap>", _GAP))) for pattern in patterns
    )


RIGHT_RULES: Final[tuple[Rule, ...]] = (
    *rules(
        "access",
        2.0,
        r"\bright (?:of|to) access\b|\b(?:data )?subject access request\b",
        r"\bwhat (?:personal )?(?:data|information|info|details) (?:do |does )?(?:you|your \w+)"
        r" (?:still |currently |actually )?(?:hold|have|keep|store|process)",
        r"\bwelke (?:persoons)?gegevens (?:hebben|heeft|hebt|bewaren|bewaart|verwerken|verwerkt"
        r"|kennen|bezitten) (?:jullie|u|jij|je)\b",
        r"\bdroit d'acces\b|\bdemande d'acces\b",
        r"\bquelles (?:sont les )?(?:donnees|informations)(?: personnelles| a caractere personnel)?"
        r" (?:vous )?(?:avez|detenez|possedez|conservez|traitez)",
        r"\bwelche (?:personenbezogenen |personlichen )?daten (?:haben|speichern|verarbeiten)"
        r" sie\b",
        r"\bwelche (?:personenbezogenen |personlichen )?daten sie (?:\w+ ){0,2}(?:gespeichert"
        r"|verarbeitet|haben)",
    ),
    *rules(
        "access",
        1.5,
        r"\baccess to (?:all )?(?:of )?(?:my|the) (?:personal )?(?:data|information|details)",
        r"\b(?:do|does) (?:you|your \w+) (?:hold|have|keep|store|process) (?:any )?(?:personal )?"
        r"(?:data|information|details) (?:about|on|of) me\b",
        r"\bcopy of (?:all )?(?:of )?(?:my|the) (?:personal )?(?:data|information|details|records)",
        r"\binzage\w*",
        r"\bwat (?:weten|hebben|bewaren) (?:jullie|u) (?:allemaal )?(?:van|over) mij\b",
        r"\b(?:kopie|afschrift|overzicht) van (?:al )?(?:mijn|de|alle) (?:persoons)?gegevens\b",
        r"\b(?:acceder|acces) (?:a|aux) (?:l'ensemble de |toutes )?(?:mes|les) (?:donnees|infos)",
        r"\bcopie (?:de|des) (?:l'ensemble de |toutes )?(?:mes|les) (?:donnees|informations)",
        r"\bkopie (?:meiner|der|aller) (?:personenbezogenen |gespeicherten )?daten\b",
        r"\bdatenkopie\b",
    ),
    *rules(
        "access",
        1.0,
        r"\bd?sar\b|\baccess request\b",
        r"\b(?:how did you (?:get|obtain)|where did you get) my\b",
        r"\brecht (?:op|van) inzage\b",
        r"\bwaar (?:hebben|heeft) (?:jullie|u) mijn \w+ vandaan\b",
        r"\bhoe kom(?:en jullie|t u) aan mijn\b",
        r"\bcommuniquer (?:l'ensemble des |toutes les |les |mes )(?:donnees|informations)",
        r"\bauskunft (?:nach|gemass|gem\.|uber (?:die |meine )?(?:\w+ )?(?:daten|angaben))",
    ),
    # "Auskunft" is also everyday German for "information".
    *rules("access", 0.9, r"\b(?:daten)?auskunft\w*"),
    *rules(
        "rectification",
        2.0,
        r"\brectif(?:y|ication)\b|\bright to rectif",
        r"\bberichtig\w*",
    ),
    *rules(
        "rectification",
        1.5,
        rf"\b(?:correct|update|change|amend|fix) (?:my|the) (?:\w+ )?{_EN_DETAILS}\b",
        rf"\bmy (?:\w+ )?{_EN_DETAILS} (?:is|are) (?:wrong|incorrect|inaccurate|outdated"
        r"|out of date|misspelled|not correct)\b",
        r"\bmy (?:\w+ )?(?:address|name|e-?mail|number) (?:has|have) changed\b",
        r"\b(?:recht op )?(?:rectificatie|verbetering|correctie)\b",
        r"\b(?:corrigeer|verbeter|wijzig|update)(?:t|en)? (?:mijn|het|de) (?:\w+ )?"
        rf"{_NL_DETAILS}\b",
        rf"\bmijn (?:\w+ )?{_NL_DETAILS} (?:\w+ ){{0,3}}?(?:aanpassen|aan te passen|wijzigen"
        r"|te wijzigen|corrigeren|te corrigeren|verbeteren|te verbeteren|updaten|rechtzetten)\b",
        rf"\bmijn (?:\w+ )?{_NL_DETAILS} (?:klopt|is|staat|zijn|kloppen) (?:\w+ )?(?:niet|fout"
        r"|verkeerd|onjuist|verouderd)\b",
        r"\b(?:rectifier|rectifiez|corriger|corrigez|modifier|modifiez|mettre a jour|changer)"
        rf" (?:mon |ma |mes |l'|le |la |les )(?:\w+ )?{_FR_DETAILS}\b",
        rf"\b(?:mon|ma|mes) {_FR_DETAILS} (?:est|sont|n'est|ne sont) (?:pas |plus )?"
        r"(?:incorrecte?s?|erronee?s?|fausses?|faux|correcte?s?|a jour|exacte?s?)\b",
        rf"\b(?:meine|meinen|die) (?:\w+ )?{_DE_DETAILS} (?:\w+ ){{0,3}}?(?:korrigieren|andern"
        r"|aktualisieren|berichtigen)\b",
        r"\b(?:korrigieren|andern|aktualisieren) sie (?:bitte )?(?:meine|meinen|die) (?:\w+ )?"
        rf"{_DE_DETAILS}\b",
        rf"\bmeine (?:\w+ )?{_DE_DETAILS} (?:ist|sind|stimmt|stimmen) (?:\w+ )?(?:falsch|nicht"
        r" (?:mehr )?(?:korrekt|richtig|aktuell)|veraltet|fehlerhaft|unrichtig)\b",
    ),
    *rules(
        "rectification",
        0.5,
        r"\b(?:wrong|incorrect|inaccurate|outdated|misspelled)\b",
        r"\b(?:onjuist|foutief|verouderd)e?\b|\bklop(?:t|pen) niet\b",
        r"\b(?:inexacte?s?|erronee?s?|obsoletes?)\b",
        r"\b(?:unrichtig|fehlerhaft|veraltet)e?[nrs]?\b",
    ),
    *rules(
        "erasure",
        2.0,
        r"\bright to (?:be forgotten|erasure)\b",
        r"\brecht op (?:gegevens)?(?:wissing|verwijdering|vergetelheid|vergeten te worden)\b",
        r"\bdroit (?:a l'oubli|a l'effacement|a l'effacement)\b",
        r"\brecht auf (?:l(?:o|oe)schung|vergessen ?werden)\b",
    ),
    *rules(
        "erasure",
        1.5,
        rf"{_EN_ERASE}<gap>(?:data|information|info|details|account|profile|records?)\b",
        rf"{_EN_ERASE} me from (?:\w+ ){{0,2}}?(?:database|system|records|files)\b",
        rf"{_NL_ERASE}<gap>(?:gegevens|account|profiel|data|info|informatie)\b",
        r"\b(?:gegevens|account|profiel|data)\b<gap>(?:verwijderen|verwijderd|wissen|gewist|schrappen|geschrapt)\b",
        r"\b(?:mij|me) (?:\w+ )?(?:uit|van) (?:\w+ ){0,2}?(?:databank|database|bestand|systeem"
        r"|klantenbestand) (?:\w+ )?(?:verwijderen|wissen|schrappen|halen)\b",
        rf"{_FR_ERASE}<gap>(?:donnees|compte|profil|informations|coordonnees)\b",
        r"\b(?:donnees|compte|profil|informations)\b<gap>(?:supprimee?s?|effacee?s?)\b",
        rf"{_DE_ERASE}<gap>(?:daten|konto|account|profil|angaben)\b",
        r"\b(?:daten|konto|account|profil|kundenkonto|angaben)\b<gap>(?:l(?:o|oe)schen|entfernen|gel(?:o|oe)scht|entfernt)\b",
    ),
    *rules(
        "erasure",
        1.0,
        r"\b(?:deletion|erasure)\b|\bforget me\b|\b(?:close|cancel|terminate) my account\b",
        r"\bverwijdering\b|\bvergeten (?:te )?worden\b|\baccount (?:opheffen|opzeggen|sluiten)\b",
        r"\b(?:suppression|effacement)\b|\bfermer mon compte\b",
        r"\bl(?:o|oe)schung\w*|\bl(?:o|oe)schen\b",
    ),
    *rules(
        "restriction",
        2.0,
        r"\brestrict(?:ion of)? (?:the )?processing\b|\bright to restrict",
        r"\bbeperking van (?:de )?verwerking\b|\brecht op beperking\b",
        r"\blimitation (?:du|de) (?:traitement|l'utilisation)\b|\bdroit a la limitation\b",
        r"\beinschrankung der verarbeitung\b|\brecht auf einschrankung\b",
    ),
    *rules(
        "restriction",
        1.5,
        r"\b(?:limit|freeze|suspend|block) (?:the )?(?:processing|use) of my (?:personal )?data\b",
        r"\bbeperk(?:en|t)? (?:de|het) (?:verwerking|gebruik)\b",
        r"\bverwerking\b<gap>(?:beperken|opschorten|bevriezen)\b",
        r"\blimite[rz] (?:le traitement|l'utilisation)\b",
        r"\bverarbeitung\b<gap>einschranken\b|\beinschranken\b<gap>verarbeitung\b",
        r"\bsperr(?:ung|en)\b<gap>daten\b|\bdaten\b<gap>sperren\b",
    ),
    *rules("restriction", 0.5, r"\brestrict(?:ion)?\b|\bbeperking\b"),
    *rules(
        "portability",
        2.0,
        r"\b(?:data )?portability\b|\b(?:data|gegevens)?overdraagbaarheid\b",
        r"\bportabilite\b|\b(?:daten)?ubertragbarkeit\b",
    ),
    *rules(
        "portability",
        1.5,
        r"\bexport (?:of )?(?:all )?(?:my|the) (?:personal )?(?:data|information|account)\b",
        r"\b(?:transfer|transmit|move|port|send)\b<gap>to (?:another|a different|a new|my new)"
        r" (?:provider|company|service|controller)\b",
        r"\bexporte?\w*<gap>gegevens\b|\bgegevens\b<gap>exporte\w*",
        r"\bexport(?:er|ez)? (?:de )?(?:\w+ )?(?:mes|les) donnees\b",
        r"\btransmettre\b<gap>a un (?:autre|nouveau) (?:responsable|prestataire|fournisseur)\b",
        r"\bexport\w*<gap>daten\b|\bdaten\b<gap>export\w*",
        r"\b(?:ubermitteln|ubertragen)\b<gap>(?:anderen|neuen) (?:verantwortlichen|anbieter)\b",
    ),
    *rules(
        "portability",
        1.2,
        r"\bmachine[- ]?readable\b|\bstructured,? (?:commonly used|common)\b",
        r"\bmachine\W?leesba\w*",
        r"\b(?:overdragen|overzetten|doorsturen|overmaken) (?:naar|aan) (?:een )?"
        r"(?:andere|nieuwe)\b",
        r"\blisible par (?:une )?machine\b|\bformat (?:structure|couramment utilise)\b",
        r"\bmaschinenlesbar\w*|\bstrukturierten?,? gangigen\b",
    ),
    *rules("portability", 0.4, r"\b(?:csv|json|xml)\b"),
    *rules(
        "objection",
        2.0,
        r"\bi (?:hereby )?object\b|\bright to object\b",
        r"\bobject(?:ion)? to (?:the |any )?(?:processing|use|(?:direct )?marketing|profiling)\b",
        r"\bremove (?:me|my (?:\w+ )?(?:e-?mail|address|number)) from (?:\w+ ){0,2}?(?:mailing"
        r"|e-?mail|marketing|newsletter|distribution|contact|call)(?:ing)? list",
        r"\b(?:me|mij) (?:\w+ )?(?:uit|van) (?:de|jullie|uw|het) (?:\w+ )?"
        r"(?:mailing|verzend|e-?mail|marketing|bel)(?:lijst|bestand)\b",
        r"\bje m'oppose\b|\bdroit d'opposition\b|\bm'opposer\b",
        r"\bopposition (?:au|a la|a tout) (?:traitement|prospection|profilage)\b",
    ),
    *rules(
        "objection",
        1.8,
        r"\bunsubscribe (?:me|my)\b|\b(?:please|want to|like to|wish to) unsubscribe\b",
        r"\bstop (?:sending|e-?mailing|mailing|calling|phoning|texting|contacting|spamming"
        r"|bothering)\b",
        r"\b(?:do not|don't|dont|never) (?:call|phone|text|e-?mail|contact|mail) me\b",
        rf"\bno (?:more|further) (?:\w+ )?{_MARKETING}\b",
        rf"\b(?:stop|stopt|stoppen) (?:\w+ )?met (?:het )?(?:\w+ )?{_NL_CONTACT}\b",
        r"\b(?:bel|mail|contacteer|sms) (?:me|mij) (?:\w+ )?(?:niet meer|nooit meer|niet langer)\b",
        r"\bniet meer (?:gebeld|gemaild|gecontacteerd|benaderd|lastiggevallen)\b",
        r"\bne plus (?:me |m')?(?:recevoir|appeler|contacter|solliciter|demarcher|envoyer"
        r"|ecrire)\b",
        r"\bne (?:m'|me )(?:appelez|contactez|envoyez|sollicitez|ecrivez) plus\b",
        r"\b(?:arretez|cessez|arreter|cesser) de (?:m'|me )?(?:appeler|contacter|envoyer|ecrire"
        r"|harceler|solliciter|spammer)\b",
        r"\bwiderspruch\w*|\bwiderspreche\w*",
        rf"\bkeine (?:\w+ )?{_MARKETING} mehr\b|\bmochte (?:\w+ )?keine (?:\w+ )?{_MARKETING}\b",
        r"\b(?:rufen|schreiben|kontaktieren) sie mich (?:bitte )?nicht mehr\b",
        r"\bnicht mehr (?:anrufen|kontaktieren|anschreiben|belastigen)\b",
    ),
    *rules(
        "objection",
        1.6,
        rf"\bgeen (?:\w+ )?{_MARKETING}(?: \w+)? meer\b",
        rf"\bwil (?:\w+ )?geen (?:\w+ )?{_MARKETING}\b",
        rf"\bplus de {_MARKETING}\b",
        r"(?<!geen )\bbezwaar\b",  # "geen bezwaar" means "no objection"
    ),
    *rules(
        "objection",
        1.0,
        r"\bopt(?:[- ])?out\b",
        r"\buitschrijven\b|\bschrijf (?:me|mij) uit\b|\bafmelden\b|\bmeld (?:me|mij) af\b",
        r"\b(?:desinscri|desabonn)\w*",
        r"\b(?:abmelden|abbestellen|austragen|abmeldung)\b",
    ),
    *rules(
        "objection",
        0.6,
        r"\bunsubscribe\b|\b(?:direct )?marketing\b",
        r"\brecht (?:van|op) bezwaar\b",
        r"\bopposition\b|\b(?:prospection|demarchage)\b",
    ),
    *rules(
        "withdraw_consent",
        2.0,
        r"\b(?:withdraw|withdrawing|revoke|revoking|retract|cancel)\b(?:\W+\w+){0,3}?\W+consent\b",
        r"\b(?:withdrawal|revocation) of (?:my )?consent\b",
        r"\b(?:trek|trekt|intrekken|ingetrokken|intrekking)\b<gap>toestemming\b",
        r"\btoestemming\b<gap>(?:intrekken|ingetrokken|intrekking|in te trekken)\b",
        r"\b(?:retire|retirer|retirez|retrait|revoque|revoquer|revocation)\b<gap>consentement\b",
        r"\b(?:widerrufe|widerrufen|widerruf|zuruckziehen|ziehe)\b<gap>(?:einwilligung|einverstandnis|zustimmung)\w*",
        r"\b(?:einwilligung|einverstandnis|zustimmung)\w*<gap>(?:widerrufe|widerrufen|zuruck|zuruckziehen)\b",
    ),
    *rules(
        "withdraw_consent",
        1.5,
        r"\bno longer (?:give (?:my |you )?)?consent\b|\bi do (?:not|n't) consent\b",
        r"\b(?:geef|heb) (?:ik )?(?:u |jullie )?geen toestemming\b",
        r"\bje ne consens plus\b",
    ),
    *rules(
        "withdraw_consent",
        0.4,
        r"\bconsent\b|\btoestemming\b|\bconsentement\b|\beinwilligung\w*",
    ),
)
