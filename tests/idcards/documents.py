"""Draws synthetic identity documents and their look-alikes, flat and upright.

Belgian-eID-like fronts and backs, passport data pages and driving licences for the
invented holders of `holders`, machine-readable zones included; and the negatives: what
else a requester attaches (a room photo, a quote, a selfie-like picture, a blank page, a
letter that mentions an identity card). `render` turns these drawings into the pictures
and files a mail would carry.
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from tests.idcards.holders import PLACES, Person, td1_lines, td3_lines

NEGATIVES = ("room", "quote", "selfie", "blank", "letter")
PAGES = ("quote", "letter", "blank")  # negatives that are A4 pages already
A4 = (1240, 1754)  # px at 150 dpi
CARD = (1012, 638)  # ID-1, 85.60 x 53.98 mm at 300 dpi
INK, LABEL_INK = (22, 24, 34), (78, 80, 100)
Colour = tuple[int, int, int]

# Field labels by the card's language; Belgian cards add the English after a slash.
_FRONT = {
    "nl": "IDENTITEITSKAART|NAAM|VOORNAMEN|GESLACHT|NATIONALITEIT|GEBOORTEDATUM|KAARTNUMMER",
    "fr": "CARTE D'IDENTITÉ|NOM|PRÉNOMS|SEXE|NATIONALITÉ|DATE DE NAISSANCE|N° DE CARTE",
    "de": "PERSONALAUSWEIS|NAME|VORNAMEN|GESCHLECHT|STAATSANGEHÖRIGKEIT|GEBURTSDATUM|KARTENNUMMER",
}
_ENGLISH = ("Name", "Given names", "Sex", "Nationality", "Date of birth", "Card No")
_BACK = {
    "nl": ("GEBOORTEPLAATS EN -DATUM", "RIJKSREGISTERNR.", "UITGEREIKT TE"),
    "fr": ("LIEU ET DATE DE NAISSANCE", "N° REGISTRE NATIONAL", "DÉLIVRÉE À"),
    "de": ("GEBURTSORT UND -DATUM", "NATIONALREGISTERNR.", "AUSGESTELLT IN"),
}
_PASSPORT = {  # label: what it shows
    "Naam / Nom / Surname": "surname",
    "Voornamen / Prénoms / Given names": "given",
    "Nationaliteit / Nationalité / Nationality": "state",
    "Geboortedatum / Date de naissance / Date of birth": "birth",
    "Geslacht / Sexe / Sex": "sex",
    "Geboorteplaats / Lieu de naissance / Place of birth": "birthplace",
    "Vervaldatum / Date d'expiration / Date of expiry": "expiry",
}
_LICENCE_TITLES = ("RIJBEWIJS", "PERMIS DE CONDUIRE", "FÜHRERSCHEIN", "DRIVING LICENCE")


@functools.cache
def font(size: int, style: str = "sans") -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """DejaVu where Debian's fonts are installed, Pillow's built-in font otherwise."""
    files = {"sans": "DejaVuSans.ttf", "bold": "DejaVuSans-Bold.ttf", "mono": "DejaVuSansMono.ttf"}
    path = Path("/usr/share/fonts/truetype/dejavu") / files[style]
    return ImageFont.truetype(str(path), size) if path.exists() else ImageFont.load_default(size)


def _card(size: tuple[int, int], tint: Colour) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    """A tinted blank with guilloche-like waves, which real cards have and OCR must ignore."""
    image = Image.new("RGB", size, tint)
    draw = ImageDraw.Draw(image)
    darker = (tint[0] - 16, tint[1] - 16, tint[2] - 16)
    for row in range(0, size[1], 11):
        points = [(x, row + 5 * math.sin(x / 41 + row / 57)) for x in range(0, size[0] + 8, 8)]
        draw.line(points, fill=darker, width=1)
    return image, draw


def _portrait(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int]) -> None:
    left, top, right, bottom = box
    width, height, grey = right - left, bottom - top, (112, 114, 122)
    draw.rectangle(box, fill=(196, 198, 204))
    middle = (left + right) / 2
    draw.ellipse(
        (middle - width * 0.22, top + height * 0.15, middle + width * 0.22, top + height * 0.55),
        fill=grey,
    )
    draw.chord(
        (left + width * 0.08, top + height * 0.62, right - width * 0.08, bottom + height * 0.38),
        180,
        360,
        fill=grey,
    )


def _fields(
    draw: ImageDraw.ImageDraw, xy: tuple[int, int], rows: list[tuple[str, str]], size: int
) -> None:
    """Label over value, row under row, as ID documents print them."""
    for row, (label, value) in enumerate(rows):
        y = xy[1] + row * size * 3
        draw.text((xy[0], y), label, fill=LABEL_INK, font=font(size * 2 // 3))
        draw.text((xy[0], y + size), value, fill=INK, font=font(size, "bold"))


def _dotted(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def draw_eid_front(person: Person, rng: random.Random) -> Image.Image:
    title, *labels = _FRONT[rng.choice(("nl", "fr", "de"))].split("|")
    image, draw = _card(CARD, rng.choice([(226, 236, 240), (240, 230, 232), (232, 240, 228)]))
    draw.text((30, 18), "BELGIË   BELGIQUE   BELGIEN   BELGIUM", fill=INK, font=font(27, "bold"))
    draw.text((30, 58), f"{title}   IDENTITY CARD", fill=INK, font=font(27, "bold"))
    _portrait(draw, (30, 112, 292, 452))
    number = person.card_number
    values = (
        person.surname,
        person.given,
        person.sex,
        "BEL",
        _dotted(person.birth),
        f"{number[:3]}-{number[3:10]}-{number[10:]}",
    )
    rows = [(f"{a} / {b}", v) for a, b, v in zip(labels, _ENGLISH, values, strict=True)]
    _fields(draw, (320, 110), rows, 26)
    draw.line([(40, 560), (110, 520), (150, 585), (230, 530)], fill=INK, width=3)
    return image


def draw_eid_back(person: Person, rng: random.Random) -> Image.Image:
    image, draw = _card(CARD, (232, 236, 240))
    draw.rounded_rectangle((34, 40, 164, 140), 14, fill=(212, 180, 92), outline=(150, 120, 50))
    nrn = person.register_number
    values = (
        f"{person.birthplace}  {_dotted(person.birth)}",
        f"{nrn[:2]}.{nrn[2:4]}.{nrn[4:6]}-{nrn[6:9]}.{nrn[9:]}",
        rng.choice(PLACES),
    )
    _fields(
        draw, (200, 34), list(zip(_BACK[rng.choice(("nl", "fr", "de"))], values, strict=True)), 26
    )
    for row, line in enumerate(td1_lines(person)):
        draw.text((60, 410 + row * 62), line, fill=INK, font=font(44, "mono"))
    return image


def draw_passport(person: Person, rng: random.Random) -> Image.Image:
    belgian = rng.random() < 0.75  # the others come from ICAO's imaginary Utopia
    state = "BEL" if belgian else "UTO"
    image, draw = _card((1476, 1039), (236, 238, 226))  # ID-3, 125 x 88 mm
    country = (
        "KONINKRIJK BELGIË   ROYAUME DE BELGIQUE   KÖNIGREICH BELGIEN" if belgian else "UTOPIA"
    )
    title = "PASPOORT   PASSEPORT   REISEPASS   PASSPORT" if belgian else "PASSPORT   PASSEPORT"
    draw.text((40, 26), country, fill=INK, font=font(32, "bold"))
    draw.text((40, 74), title, fill=INK, font=font(32, "bold"))
    _portrait(draw, (40, 150, 420, 640))
    heading = [("Type / Type", "P"), ("Code / Code", state)]
    heading.append(("Paspoortnr. / Passport No.", person.passport_number))
    for column, field in enumerate(heading):
        _fields(draw, (460 + column * 320, 150), [field], 28)
    known = {"state": state, "birth": _dotted(person.birth), "expiry": _dotted(person.expiry)}
    rows = [(label, known.get(key) or getattr(person, key)) for label, key in _PASSPORT.items()]
    _fields(draw, (460, 234), rows, 24)
    for number, line in enumerate(td3_lines(person, state)):
        draw.text((40, 830 + number * 84), line, fill=INK, font=font(50, "mono"))
    return image


def draw_driving_licence(person: Person, rng: random.Random) -> Image.Image:
    image, draw = _card(CARD, (246, 218, 224))
    draw.rectangle((24, 20, 108, 92), fill=(30, 60, 150))
    draw.text((52, 34), "B", fill=(250, 220, 40), font=font(40, "bold"))
    draw.text((130, 18), "BELGIË   BELGIQUE   BELGIEN", fill=INK, font=font(26, "bold"))
    draw.text(
        (130, 56), "   ".join(rng.sample(_LICENCE_TITLES, 3)), fill=INK, font=font(24, "bold")
    )
    _portrait(draw, (28, 128, 280, 460))
    issued = person.expiry - timedelta(days=3652)
    lines = (
        f"1. {person.surname}",
        f"2. {person.given}",
        f"3. {_dotted(person.birth)} {person.birthplace}",
        f"4a. {_dotted(issued)}",
        f"4b. {_dotted(person.expiry)}",
        f"4c. {rng.choice(PLACES)}",
        f"5. {person.register_number[:10]}",
        "9. AM/B/BE",
    )
    for row, line in enumerate(lines):
        draw.text((310, 128 + row * 60), line, fill=INK, font=font(30, "bold"))
    return image


DRAWINGS: dict[str, Callable[[Person, random.Random], Image.Image]] = {
    "eid_front": draw_eid_front,
    "eid_back": draw_eid_back,
    "passport": draw_passport,
    "driving_licence": draw_driving_licence,
}


def draw_negative(kind: str, person: Person, rng: random.Random) -> Image.Image:
    """What else people attach; none of it is an identity document."""
    if kind in PAGES:
        image = Image.new("RGB", A4, (252, 252, 250))
        draw = ImageDraw.Draw(image)
        for row, line in enumerate(_page_text(kind, person, rng)):
            draw.text((110, 140 + row * 52), line, fill=INK, font=font(30, "sans"))
        return image
    if kind == "selfie":
        image = Image.new("RGB", (900, 1200), rng.choice([(160, 190, 210), (210, 200, 180)]))
        draw = ImageDraw.Draw(image)
        draw.ellipse((250, 180, 650, 700), fill=(60, 42, 30))
        draw.ellipse((290, 260, 610, 720), fill=(226, 188, 160))
        draw.chord((80, 760, 820, 1600), 180, 360, fill=(50, 80, 140))
        return image
    image = Image.new("RGB", (1600, 1200), (222, 226, 230))  # a bathroom after the works
    draw = ImageDraw.Draw(image)
    for x in range(0, 1600, 100):
        draw.line([(x, 0), (x, 820)], fill=(200, 204, 210), width=3)
    draw.rectangle((0, 820, 1600, 1200), fill=(150, 130, 110))
    draw.rectangle((120, 560, 720, 860), fill=(246, 246, 246), outline=(180, 180, 180), width=4)
    draw.ellipse((980, 520, 1300, 640), fill=(248, 248, 248), outline=(170, 170, 170), width=4)
    draw.rectangle((1000, 160, 1280, 480), fill=(180, 200, 215), outline=(120, 120, 120), width=6)
    draw.rectangle((0, 1100, 1600, 1200), fill=(30, 30, 30))
    caption = rng.choice(
        ("Badkamer na de werken, lavabo links", "Salle de bain : fuite sous l'évier")
    )
    draw.text((40, 1122), caption, fill=(240, 240, 240), font=font(40))
    return image


def _page_text(kind: str, person: Person, rng: random.Random) -> list[str]:
    name = f"{person.given.title()} {person.surname.title()}"
    if kind == "letter":  # mentions the card and has a label, the way requests do
        return [
            f"Naam: {name}",
            "",
            "Geachte,",
            "",
            "Hierbij vraag ik inzage in alle gegevens die u over mij bewaart",
            "(artikel 15 AVG). Een kopie van mijn identiteitskaart volgt",
            "indien nodig. Graag een antwoord per e-mail.",
            "",
            "Met vriendelijke groeten,",
            name,
        ]
    if kind == "quote":  # numbered lines, like a licence's fields
        items = (
            "Tegelwerk badkamer",
            "Plaatsen lavabo",
            "Silicone voegen",
            "Afvoer vervangen",
            "Verplaatsing",
            "Afvoer puin",
            "Kleine materialen",
            "Schilderwerk plafond",
        )
        lines = [
            f"OFFERTE / DEVIS  nr. {rng.randrange(1000, 9999)}",
            "Voorbeeld Renovaties BV",
            f"Klant / Client: {name}",
            f"Datum: {_dotted(person.expiry)}",
            "",
        ]
        lines += [
            f"{n}. {item:<26} € {rng.randrange(40, 1900)},00" for n, item in enumerate(items, 1)
        ]
        return [*lines, "", "Totaal excl. BTW / Total HTVA", "BTW 21% / TVA 21%"]
    return []  # blank
