"""The ID check's decision core: from OCR text (as tesseract gives it) to a kind."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailbot.triage.id_evidence import (
    DECIDE_SCORE,
    ID_KINDS,
    IdCheck,
    assess_text,
    no_document,
    ocr_unavailable,
)
from mailbot.triage.mrz import check_digit, read_mrz
from tests.idcards.holders import SPECIMEN_HOLDER, td1_lines, td3_lines

# ICAO 9303's specimen documents (the imaginary state Utopia, an invented holder).
TD3 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10"
TD1 = (
    "I<UTOD231458907<<<<<<<<<<<<<<<\n7408122F1204159UTO<<<<<<<<<<<6\nERIKSSON<<ANNA<MARIA<<<<<<<<<<"
)

# What tesseract returns for each kind, one card language at a time, with its usual slips:
# lost accents, a misread letter, labels and values on separate lines.
FRONT = {
    "nl": "BELGIË BELGIQUE BELGIEN BELGIUM\nIDENTITEITSKAART IDENTITY CARD\nNAAM / Name\n"
    "VOORBEELD\nVOORNAMEN / Given names\nLOTTE\nGESLACHT / Sex\nF\n"
    "GEBOORTEDATUM / Date of birth\n09.07.1984\nKAARTNUMMER / Card No\n592-1234567-30",
    "fr": "BELGIE BELGIQUE BELGIEN BELGIUM\nCARTE D'IDENTITE IDENTITY CARD\nNOM / Name\n"
    "VOORBEELD\nPRÉNOMS / Given names\nLOTTE\nSEXE / Sex\nF\nDATE DE NAISSANCE\n09.07.1984",
    "de": "BELGIË BELGIQUE BELGIEN BELGIUM\nPERSONALAUSWElS IDENTITY CARD\nNAME / Name\n"
    "VOORBEELD\nVORNAMEN / Given names\nLOTTE\nGESCHLECHT / Sex\nF\n"
    "STAATSANGEHÖRIGKEIT / Nationality\nBEL\nGEBURTSDATUM\n09.07.1984",
    "en": "BELGIUM BELGIE\nIDENTITY CARD\nName\nVOORBEELD\nGiven names\nLOTTE\nSex\nF\n"
    "Nationality\nBEL\nDate of birth\n09.07.1984\nCard No\n592-1234567-30",
}
BACK_LABELS = {
    "nl": "GEBOORTEPLAATS EN -DATUM\nGENT 09.07.1984\nRIJKSREGISTERNR.\n84.07.09-123.45",
    "fr": "LIEU ET DATE DE NAISSANCE\nGENT 09.07.1984\nN° REGISTRE NATIONAL\n84.07.09-123.45",
    "de": "GEBURTSORT UND -DATUM\nGENT 09.07.1984\nNATIONALREGISTERNR.\n84.07.09-123.45",
    "en": "Place of birth\nGENT 09.07.1984\nNational Register No\n84.07.09-123.45",
}
PASSPORT_TITLES = {"nl": "PASPOORT", "fr": "PASSEPORT", "de": "REISEPASS", "en": "PASSPORT"}
PASSPORT_LABELS = {
    "nl": "Naam\nVOORBEELD\nVoornamen\nLOTTE\nGeboortedatum\n09.07.1984",
    "fr": "Nom\nVOORBEELD\nPrénoms\nLOTTE\nDate de naissance\n09.07.1984",
    "de": "Name\nVOORBEELD\nVornamen\nLOTTE\nGeburtsdatum\n09.07.1984",
    "en": "Surname\nVOORBEELD\nGiven names\nLOTTE\nDate of birth\n09.07.1984",
}
LICENCE_TITLES = {
    "nl": "RIJBEWIJS",
    "fr": "PERMIS DE CONDUIRE",
    "de": "FÜHRERSCHEIN",
    "en": "DRIVING LICENCE",
}
LANGUAGES = ("nl", "fr", "de", "en")


def back_text(language: str) -> str:
    return BACK_LABELS[language] + "\n" + "\n".join(td1_lines(SPECIMEN_HOLDER))


def passport_text(language: str) -> str:
    title = PASSPORT_TITLES[language]
    return f"{title}\n{PASSPORT_LABELS[language]}\n" + "\n".join(td3_lines(SPECIMEN_HOLDER, "BEL"))


def licence_text(language: str) -> str:
    return (
        f"BELGIË\n{LICENCE_TITLES[language]}\n1. VOORBEELD\n2. LOTTE\n3. 09.07.1984 GENT\n"
        "4a. 02.03.2021 4b. 02.03.2031\n4c. GENT\n5. 8407091234\n9. AM/B"
    )


TEXTS = {
    "eid_front": FRONT.__getitem__,
    "eid_back": back_text,
    "passport": passport_text,
    "driving_licence": licence_text,
}


def test_the_kinds_are_the_ones_the_classify_contract_names() -> None:
    assert ID_KINDS == (
        "eid_front",
        "eid_back",
        "passport",
        "driving_licence",
        "other_document",
        "none",
    )


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", list(TEXTS))
def test_each_kind_is_recognised_in_each_language(kind: str, language: str) -> None:
    check = assess_text(TEXTS[kind](language))
    assert check.kind == kind, check
    assert check.verified, check


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", list(TEXTS))
def test_evidence_and_reason_hold_no_personal_data(kind: str, language: str) -> None:
    text = TEXTS[kind](language)
    check = assess_text(text)
    recorded = " ".join((check.reason, *check.evidence)).upper()
    for word in ("VOORBEELD", "LOTTE", "GENT", "1984", "0907", "592", "8407", "EM482913"):
        assert word not in recorded
    assert "<" not in recorded and not re.search(r"\d{3}", recorded)
    assert all(EVIDENCE.fullmatch(fact) for fact in check.evidence), check.evidence


# Every fact the core may record: names of cues and counts, never document content.
EVIDENCE = re.compile(
    r"(issuer|title|label):[a-z-]+|layout:[a-z-]+|licence-field:4[a-d]|shape:id-[13]-(card|page)"
    r"|mrz-td[13](-checksums-valid|-checks-\d-of-\d)?|score:\d{1,2}|eid-back-also-shown"
)


@given(
    surname=st.text(st.characters(categories=["Lu"]), min_size=3, max_size=20),
    number=st.integers(10**8, 10**12),
)
def test_no_holder_data_reaches_the_evidence_whatever_it_is(surname: str, number: int) -> None:
    text = FRONT["nl"].replace("VOORBEELD", surname) + f"\n{number}\n{surname}<<{number}<<<<"
    check = assess_text(text)
    assert all(EVIDENCE.fullmatch(fact) for fact in check.evidence)
    assert str(number) not in check.reason


def test_a_file_name_in_the_picture_does_not_make_it_an_id() -> None:
    # The shell never passes the file name; even text that spells one is no ID.
    caption = "identiteitskaart.jpg\nBadkamer na de werken, lavabo links"
    check = assess_text(caption)
    assert check.kind == "other_document" and not check.verified


@pytest.mark.parametrize(
    "text",
    [
        "",
        "OFFERTE / DEVIS nr. 4711\n1. Tegelwerk badkamer € 1.250,00\n2. Plaatsen lavabo\n"
        "3. Silicone voegen\n4. Afvoer vervangen\n5. Verplaatsing\n9. Kleine materialen",
        "Naam: Lotte Voorbeeld\nGeachte,\nHierbij vraag ik inzage in mijn gegevens. Een kopie "
        "van mijn identiteitskaart volgt indien nodig.\nMet vriendelijke groeten",
        "Ik woon in België. Mijn paspoort is verlopen.",
    ],
    ids=["nothing read", "quote with numbered lines", "letter naming the card", "a sentence"],
)
def test_documents_that_merely_mention_ids_are_other_documents(text: str) -> None:
    check = assess_text(text)
    assert check.kind == "other_document"
    assert not check.verified


def test_noisy_long_words_still_count_but_short_ones_must_be_exact() -> None:
    noisy = assess_text("IDENTITEITSKAAKT\nGEBOORTEDATLM\nNATIONALITElT")
    assert {"title:identiteitskaart", "label:geboortedatum"} <= set(noisy.evidence)
    assert not any(fact.startswith("label:naam") for fact in assess_text("NAAN").evidence)


def test_a_few_cues_give_a_kind_but_not_a_verified_one() -> None:
    check = assess_text("BELGIË BELGIQUE\nRIJBEWIJS PERMIS DE CONDUIRE\n4a. 01.01.2020")
    assert check.kind == "driving_licence"
    assert not check.verified
    assert "probably" in check.reason


def test_a_scan_of_both_sides_counts_as_the_front() -> None:
    check = assess_text(FRONT["nl"] + "\n" + back_text("nl"))
    assert check.kind == "eid_front"
    assert "eid-back-also-shown" in check.evidence


def test_card_proportions_are_a_cue_but_a4_paper_is_not_a_passport_page() -> None:
    assert "shape:id-1-card" in assess_text("", (1012, 638)).evidence
    assert "shape:id-1-card" in assess_text("", (638, 1012)).evidence
    assert "shape:id-3-page" in assess_text("", (1476, 1039)).evidence
    assert not any(f.startswith("shape:") for f in assess_text("", (1240, 1754)).evidence)
    assert assess_text("", (1012, 638)).kind == "other_document"  # a shape alone is no ID


@pytest.mark.parametrize(
    ("field", "digit"),
    [("L898902C3", 6), ("740812", 2), ("120415", 9), ("D23145890", 7), ("<<<<<<", 0)],
)
def test_check_digits_of_the_icao_specimens(field: str, digit: int) -> None:
    assert check_digit(field) == digit


@given(st.text("0123456789", min_size=1, max_size=14), st.data())
def test_any_single_wrong_digit_changes_the_check_digit(field: str, data: st.DataObject) -> None:
    # Weights 7, 3 and 1 are all prime to 10, which is why a misread digit always shows.
    position = data.draw(st.integers(0, len(field) - 1))
    other = data.draw(st.sampled_from([d for d in "0123456789" if d != field[position]]))
    changed = field[:position] + other + field[position + 1 :]
    assert check_digit(changed) != check_digit(field)


@pytest.mark.parametrize(
    ("text", "layout"),
    [
        (TD3, "td3"),
        (TD1, "td1"),
        ("\n".join(td1_lines(SPECIMEN_HOLDER)), "td1"),  # a 12-digit Belgian card number
        ("\n".join(td3_lines(SPECIMEN_HOLDER, "BEL")), "td3"),
    ],
)
def test_valid_machine_readable_zones_pass_every_check(text: str, layout: str) -> None:
    reading = read_mrz(text)
    assert reading is not None and reading.layout == layout and reading.valid


@pytest.mark.parametrize(
    "misread",
    [
        TD3.replace("7408122", "74O8122"),  # O for 0 in a date
        TD3.replace("1204159", "12O4l59"),  # O and l in the expiry
        TD3.replace("L898902C3", "L8989O2C3"),  # O for 0 in the document number
        TD3.replace("<<<<<<<<<<<<<<<<<<<", "« « « « « « « « « <"),  # fillers as guillemets
        TD3.replace("B<<<<<10", "B<<<<10"),  # a filler dropped
        TD3.replace("B<<<<<10", "B<<<<<<10"),  # a filler doubled
        TD1.replace("D23145890", "D23I4589O"),  # I for 1 and O for 0
    ],
)
def test_common_ocr_slips_in_the_zone_are_forgiven(misread: str) -> None:
    reading = read_mrz(misread)
    assert reading is not None and reading.valid, reading


def test_a_wrong_digit_in_the_zone_is_caught_and_counted() -> None:
    reading = read_mrz(TD3.replace("7408122", "7408132"))
    assert reading is not None and not reading.valid
    assert reading.verdict == "checks-3-of-5"  # the birth date and the composite fail
    check = assess_text(passport_text("en").replace("840709", "840708"))
    assert "mrz-td3-checksums-valid" not in check.evidence


def test_a_zone_that_fails_its_checks_names_the_kind_without_establishing_it() -> None:
    check = assess_text(TD3.replace("7408122", "7408132"))
    assert check.kind == "passport"
    assert not check.verified


def test_text_without_a_zone_has_none() -> None:
    assert read_mrz("IDENTITEITSKAART IDENTITY CARD\nBELGIE BELGIQUE BELGIEN BELGIUM") is None
    assert read_mrz(FRONT["nl"]) is None


def test_a_valid_zone_alone_establishes_a_passport() -> None:
    check = assess_text(TD3)
    assert check.kind == "passport" and check.verified
    assert "MRZ" in check.reason


def test_outcomes_without_reading() -> None:
    assert no_document() == IdCheck("none", False, "no document attached")
    assert ocr_unavailable().kind == "other_document"
    assert not ocr_unavailable().verified
    assert ocr_unavailable().reason == "ocr unavailable"
    assert DECIDE_SCORE > 0
