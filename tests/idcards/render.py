"""Draws a seed-deterministic set of synthetic ID-document images and look-alikes.

Belgian-eID-like fronts and backs, passport data pages and driving licences carry invented
people, and their machine-readable zones have correct ICAO 9303 check digits. Negatives
are what else a requester attaches: a room photo, a quote, a selfie-like picture, a blank
page, a letter that mentions an identity card. Every sample states the kind the ID check
should find. Usable as a module: `render_set(120, seed=7)` or `render_sample(...)`.
"""

from __future__ import annotations

import functools
import io
import math
import random
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pillow_heif
from PIL import Image, ImageDraw, ImageFilter, ImageFont


__all__ = [
    "FORMATS",
    "KINDS",
    "NEGATIVES",
    "VARIATIONS",
    "Person",
    "Sample",
    "render_sample",
    "render_set",
]

KINDS = ("eid_front", "eid_back", "passport", "driving_licence", "other_document")
NEGATIVES = ("room", "quote", "selfie", "blank", "letter")
VARIATIONS = ("clean", "rot90", "rot180", "rot270", "tilt", "small", "large", "photo")
FORMATS = ("jpeg", "png", "heic", "pdf")
MEDIA_TYPES = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "heic": "image/heic",
    "pdf": "application/pdf",
}
SUFFIXES = {"jpeg": "jpg", "png": "png", "heic": "heic", "pdf": "pdf"}
# One cycle of kinds: fronts are what requesters send most, negatives test false alarms.
_KIND_CYCLE = (
    "eid_front",
    "other_document",
    "passport",
    "eid_back",
    "driving_licence",
    "eid_front",
    "other_document",
    "passport",
    "eid_front",
    "driving_licence",
    "eid_back",
    "other_document",
)
_FIXED_TIME = time.struct_time((2024, 3, 1, 12, 0, 0, 4, 61, 0))


@dataclass(frozen=True, slots=True)
class Sample:
    name: str
    kind: str  # what the ID check should find
    variation: str
    fmt: str
    sniffed_type: str
    filename: str  # what the sender called the file: it may lie, the check never reads it
    data: bytes


def render_set(count: int, seed: int = 7) -> list[Sample]:
    """`count` samples cycling through the kinds; variation and format drawn from `seed`."""
    rng = random.Random(f"plan-{seed}")
    samples = []
    for index in range(count):
        kind = _KIND_CYCLE[index % len(_KIND_CYCLE)]
        variation = VARIATIONS[(index // len(_KIND_CYCLE) + index) % len(VARIATIONS)]
        fmt = rng.choices(FORMATS, weights=(6, 2, 1, 1))[0]
        samples.append(render_sample(index, kind, variation, fmt, seed))
    return samples


def render_sample(
    index: int, kind: str, variation: str, fmt: str, seed: int = 7, negative: str | None = None
) -> Sample:
    """One sample; `negative` picks the look-alike for kind `other_document`."""
    rng = random.Random(f"{seed}-{index}-{kind}-{variation}-{fmt}")
    noise = np.random.default_rng(rng.randrange(2**32))
    person = invent_person(rng)
    if kind == "other_document":
        negative = negative or NEGATIVES[index % len(NEGATIVES)]
        flat = draw_negative(negative, person, rng)
        is_page = negative in ("quote", "letter", "blank")
    else:
        flat = _draw_kind(kind, person, rng)
        is_page = False
    image = vary(flat, variation, rng, noise)
    if fmt == "pdf" and not is_page:
        image = _on_scanned_page(image, rng)
    data = encode(image, fmt, rng)
    label = negative if kind == "other_document" else kind
    filename = _sender_filename(kind, negative, fmt, rng)
    name = f"{index:03d}-{label}-{variation}.{SUFFIXES[fmt]}"
    return Sample(name, kind, variation, fmt, MEDIA_TYPES[fmt], filename, data)


def _draw_kind(kind: str, person: Person, rng: random.Random) -> Image.Image:
    if kind == "eid_front":
        return draw_eid_front(person, rng)
    if kind == "eid_back":
        return draw_eid_back(person, rng)
    if kind == "passport":
        return draw_passport(person, rng)
    if kind == "driving_licence":
        return draw_driving_licence(person, rng)
    raise ValueError(f"unknown kind {kind}")


def _sender_filename(kind: str, negative: str | None, fmt: str, rng: random.Random) -> str:
    # The room photo is named like an ID card on purpose: the check must not believe it.
    if negative == "room":
        return f"identiteitskaart.{SUFFIXES[fmt]}"
    stem = rng.choice(("scan", "IMG_4031", "document", "id", "kopie"))
    return f"{stem}.{SUFFIXES[fmt]}" if kind else stem


def vary(
    image: Image.Image, variation: str, rng: random.Random, noise: np.random.Generator
) -> Image.Image:
    """The flat drawing as it might arrive: turned, tilted, shrunk, enlarged or photographed."""
    if variation.startswith("rot"):
        return image.rotate(int(variation[3:]), expand=True)
    if variation == "tilt":
        angle = rng.choice((-1, 1)) * rng.uniform(4.0, 7.5)
        return image.rotate(angle, Image.Resampling.BICUBIC, expand=True, fillcolor=(236, 236, 232))
    if variation == "small":
        return _fit(image, 600)
    if variation == "large":
        return _fit(image, 4000)
    if variation == "photo":
        return _photographed(image, rng, noise)
    return image


def _fit(image: Image.Image, long_side: int) -> Image.Image:
    factor = long_side / max(image.size)
    size = (round(image.width * factor), round(image.height * factor))
    return image.resize(size, Image.Resampling.LANCZOS)


def _photographed(
    image: Image.Image, rng: random.Random, noise: np.random.Generator
) -> Image.Image:
    """Pasted on a wooden table with a perspective skew, uneven light, noise and blur."""
    width, height = image.size
    scene = (int(width * 1.45), int(height * 1.6))
    left, top = (scene[0] - width) / 2, (scene[1] - height) / 2

    def jitter() -> float:
        return rng.uniform(-0.08, 0.08) * width

    corners = [
        (left + jitter(), top + jitter()),
        (left + width + jitter(), top + jitter()),
        (left + width + jitter(), top + height + jitter()),
        (left + jitter(), top + height + jitter()),
    ]
    source = [(0.0, 0.0), (float(width), 0.0), (float(width), float(height)), (0.0, float(height))]
    coefficients = _perspective(corners, source)
    warped = image.transform(
        scene, Image.Transform.PERSPECTIVE, coefficients, Image.Resampling.BICUBIC
    )
    mask = Image.new("L", image.size, 255).transform(
        scene, Image.Transform.PERSPECTIVE, coefficients, Image.Resampling.BILINEAR
    )
    table = _wood(scene, rng, noise)
    table.paste(warped, (0, 0), mask)
    pixels = np.asarray(table, dtype=np.float32)
    ramp = np.linspace(rng.uniform(0.45, 0.75), rng.uniform(0.95, 1.1), scene[0], dtype=np.float32)
    lit = pixels * (ramp[None, :, None] if rng.random() < 0.5 else ramp[::-1][None, :, None])
    lit += noise.normal(0.0, rng.uniform(4.0, 14.0), lit.shape).astype(np.float32)
    photo = Image.fromarray(np.clip(lit, 0, 255).astype(np.uint8))
    return photo.filter(ImageFilter.GaussianBlur(rng.uniform(0.8, 2.0)))


def _perspective(
    target: list[tuple[float, float]], source: list[tuple[float, float]]
) -> tuple[float, ...]:
    """Coefficients that map each output corner in `target` back to the `source` corner."""
    rows, values = [], []
    for (x, y), (u, v) in zip(target, source, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        values.extend((u, v))
    solution = np.linalg.solve(np.array(rows, dtype=float), np.array(values, dtype=float))
    return tuple(float(c) for c in solution)


def _wood(size: tuple[int, int], rng: random.Random, noise: np.random.Generator) -> Image.Image:
    width, height = size
    ys = np.arange(height, dtype=np.float32)[:, None]
    xs = np.arange(width, dtype=np.float32)[None, :]
    grain = np.sin(ys / rng.uniform(5.0, 11.0) + 2.5 * np.sin(xs / rng.uniform(150, 300)))
    shade = 0.8 + 0.12 * grain + noise.normal(0.0, 0.04, (height, width)).astype(np.float32)
    base = np.array(rng.choice([(150, 105, 70), (186, 140, 96), (120, 84, 58)]), np.float32)
    return Image.fromarray(np.clip(shade[:, :, None] * base, 0, 255).astype(np.uint8))


def _on_scanned_page(image: Image.Image, rng: random.Random) -> Image.Image:
    """A flatbed scan: the document at 300 dpi near the top-left corner of a white A4 page."""
    page = Image.new("RGB", (A4[0] * 2, A4[1] * 2), (250, 250, 248))
    card = image if max(image.size) <= 2200 else _fit(image, 2200)
    page.paste(card, (rng.randint(60, 200), rng.randint(60, 240)))
    return page


def encode(image: Image.Image, fmt: str, rng: random.Random) -> bytes:
    """The picture as the bytes a mail attachment would carry."""
    buffer = io.BytesIO()
    rgb = image.convert("RGB")
    if fmt == "jpeg":
        rgb.save(buffer, "JPEG", quality=rng.randint(40, 95))
    elif fmt == "png":
        rgb.save(buffer, "PNG")
    elif fmt == "heic":
        pillow_heif.from_pillow(rgb).save(buffer, quality=rng.randint(50, 90))
    elif fmt == "pdf":
        # A fixed date keeps the bytes reproducible (Pillow stamps the clock otherwise).
        rgb.save(buffer, "PDF", resolution=300.0, creationDate=_FIXED_TIME, modDate=_FIXED_TIME)
    else:
        raise ValueError(f"unknown format {fmt}")
    return buffer.getvalue()


@functools.cache
def font(size: int, style: str = "sans") -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """DejaVu when Debian's fonts are there, Pillow's built-in font otherwise."""
    files = {"sans": "DejaVuSans.ttf", "bold": "DejaVuSans-Bold.ttf", "mono": "DejaVuSansMono.ttf"}
    path = Path("/usr/share/fonts/truetype/dejavu") / files[style]
    if path.exists():
        return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size=size)


def check_digit(field: str) -> str:
    """ICAO 9303 check digit: weights 7, 3, 1; letters count 10-35 and '<' zero."""
    weights = (7, 3, 1)
    total = 0
    for position, char in enumerate(field):
        value = int(char) if char.isdigit() else 0 if char == "<" else ord(char) - ord("A") + 10
        total += value * weights[position % 3]
    return str(total % 10)


def birth_and_expiry(person: Person) -> tuple[str, str]:
    return person.birth.strftime("%y%m%d"), person.expiry.strftime("%y%m%d")


def later(day: date, years: int) -> date:
    return day + timedelta(days=round(365.25 * years))


def wave(draw: ImageDraw.ImageDraw, size: tuple[int, int], colour: tuple[int, int, int]) -> None:
    """Guilloche-like background lines, which real cards have and OCR has to ignore."""
    width, height = size
    for row in range(0, height, 11):
        points = [(x, row + 5 * math.sin(x / 41 + row / 57)) for x in range(0, width + 8, 8)]
        draw.line(points, fill=colour, width=1)


# --- the documents -------------------------------------------------------------------------

A4 = (1240, 1754)  # at 150 dpi
INK, LABEL_INK = (22, 24, 34), (78, 80, 100)
_SURNAMES = ("VOORBEELD", "SPECIMEN", "TESTAERT", "FICTIEF", "EXEMPLAIRE", "MUSTERMANN")
_GIVEN = ("ANNA MARIA", "JAN PIETER", "LOTTE", "CAMILLE NOOR", "LUKAS", "INES SOFIE")
_PLACES = ("GENT", "LIÈGE", "EUPEN", "NAMUR", "BRUGGE", "MONS")
# Label sets per language of the card (Belgian cards add English), in drawing order.
_FRONT_LABELS = {
    "nl": ("NAAM", "VOORNAMEN", "GESLACHT", "NATIONALITEIT", "GEBOORTEDATUM", "KAARTNUMMER"),
    "fr": ("NOM", "PRÉNOMS", "SEXE", "NATIONALITÉ", "DATE DE NAISSANCE", "N° DE CARTE"),
    "de": ("NAME", "VORNAMEN", "GESCHLECHT", "STAATSANGEHÖRIGKEIT", "GEBURTSDATUM", "KARTENNUMMER"),
}
_ENGLISH = ("Name", "Given names", "Sex", "Nationality", "Date of birth", "Card No")
_FRONT_TITLES = {"nl": "IDENTITEITSKAART", "fr": "CARTE D'IDENTITÉ", "de": "PERSONALAUSWEIS"}
_BACK_LABELS = {
    "nl": ("GEBOORTEPLAATS EN -DATUM", "RIJKSREGISTERNR.", "UITGEREIKT TE"),
    "fr": ("LIEU ET DATE DE NAISSANCE", "N° REGISTRE NATIONAL", "DÉLIVRÉE À"),
    "de": ("GEBURTSORT UND -DATUM", "NATIONALREGISTERNR.", "AUSGESTELLT IN"),
}
_LICENCE_TITLES = ("RIJBEWIJS", "PERMIS DE CONDUIRE", "FÜHRERSCHEIN", "DRIVING LICENCE")


@dataclass(frozen=True, slots=True)
class Person:
    """An invented holder: names from placeholder words, numbers from the seed."""

    surname: str
    given: str
    sex: str
    birth: date
    expiry: date
    card_number: str  # 12 digits, shown as 3-7-2
    register_number: str  # 11 digits
    passport_number: str  # 2 letters, 6 digits
    birthplace: str


def invent_person(rng: random.Random) -> Person:
    birth = date(1950, 1, 1) + timedelta(days=rng.randrange(20000))
    head = f"{rng.randrange(10**10):010d}"
    card = head + f"{int(head) % 97 or 97:02d}"
    return Person(
        surname=rng.choice(_SURNAMES),
        given=rng.choice(_GIVEN),
        sex=rng.choice("MF"),
        birth=birth,
        expiry=date(2026, 1, 1) + timedelta(days=rng.randrange(3000)),
        card_number=card,
        register_number=birth.strftime("%y%m%d") + f"{rng.randrange(10**5):05d}",
        passport_number="".join(rng.choices("ABEGHKMN", k=2)) + f"{rng.randrange(10**6):06d}",
        birthplace=rng.choice(_PLACES),
    )


def td1_lines(person: Person) -> tuple[str, str, str]:
    """Belgian eID back: the 12-digit card number overflows into the optional data."""
    number = person.card_number
    top = f"IDBEL{number[:9]}<{number[9:]}{check_digit(number)}".ljust(30, "<")
    birth, expiry = birth_and_expiry(person)
    middle = f"{birth}{check_digit(birth)}{person.sex}{expiry}{check_digit(expiry)}BEL"
    middle += person.register_number
    middle += check_digit(top[5:] + middle[:7] + middle[8:15] + middle[18:29])
    bottom = f"{person.surname}<<{person.given.replace(' ', '<')}".ljust(30, "<")[:30]
    return top, middle, bottom


def td3_lines(person: Person, state: str) -> tuple[str, str]:
    top = f"P<{state}{person.surname}<<{person.given.replace(' ', '<')}".ljust(44, "<")[:44]
    number, personal = person.passport_number.ljust(9, "<"), person.register_number.ljust(14, "<")
    birth, expiry = birth_and_expiry(person)
    bottom = f"{number}{check_digit(number)}{state}{birth}{check_digit(birth)}{person.sex}"
    bottom += f"{expiry}{check_digit(expiry)}{personal}{check_digit(personal)}"
    bottom += check_digit(bottom[0:10] + bottom[13:20] + bottom[21:43])
    return top, bottom


def _card(size: tuple[int, int], tint: tuple[int, int, int]) -> Image.Image:
    image = Image.new("RGB", size, tint)
    wave(ImageDraw.Draw(image), size, tuple(max(c - 16, 0) for c in tint))  # type: ignore[arg-type]
    return image


def _portrait(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int]) -> None:
    left, top, right, bottom = box
    width, height, middle = right - left, bottom - top, (left + right) // 2
    draw.rectangle(box, fill=(196, 198, 204))
    grey = (112, 114, 122)
    draw.ellipse(
        (middle - width * 0.22, top + height * 0.15, middle + width * 0.22, top + height * 0.55),
        fill=grey,
    )  # noqa: E501
    draw.chord(
        (left + width * 0.08, top + height * 0.62, right - width * 0.08, bottom + height * 0.38),
        180,
        360,
        fill=grey,
    )  # noqa: E501


def _field(
    draw: ImageDraw.ImageDraw, xy: tuple[int, int], label: str, value: str, scale: int = 26
) -> None:  # noqa: E501
    draw.text(xy, label, fill=LABEL_INK, font=font(scale * 2 // 3))
    draw.text((xy[0], xy[1] + scale), value, fill=INK, font=font(scale, "bold"))


def _dotted(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def draw_eid_front(person: Person, rng: random.Random) -> Image.Image:
    language = rng.choice(("nl", "fr", "de"))
    image = _card((1012, 638), rng.choice([(226, 236, 240), (240, 230, 232), (232, 240, 228)]))
    draw = ImageDraw.Draw(image)
    draw.text((30, 18), "BELGIË   BELGIQUE   BELGIEN   BELGIUM", fill=INK, font=font(27, "bold"))
    title = f"{_FRONT_TITLES[language]}   IDENTITY CARD"
    draw.text((30, 58), title, fill=INK, font=font(27, "bold"))
    _portrait(draw, (30, 112, 292, 452))
    number = person.card_number
    values = (person.surname, person.given, person.sex, "BEL", _dotted(person.birth),
              f"{number[:3]}-{number[3:10]}-{number[10:]}")  # fmt: skip
    labels = [f"{a} / {b}" for a, b in zip(_FRONT_LABELS[language], _ENGLISH, strict=True)]
    for row, (label, value) in enumerate(zip(labels, values, strict=True)):
        _field(draw, (320, 110 + row * 80), label, value)
    draw.line([(40, 560), (110, 520), (150, 585), (230, 530)], fill=INK, width=3)
    return image


def draw_eid_back(person: Person, rng: random.Random) -> Image.Image:
    language = rng.choice(("nl", "fr", "de"))
    image = _card((1012, 638), (232, 236, 240))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((34, 40, 164, 140), 14, fill=(212, 180, 92), outline=(150, 120, 50))
    born, register, issued = _BACK_LABELS[language]
    digits = person.register_number
    values = (f"{person.birthplace}  {_dotted(person.birth)}",
              f"{digits[:2]}.{digits[2:4]}.{digits[4:6]}-{digits[6:9]}.{digits[9:]}",
              rng.choice(_PLACES))  # fmt: skip
    for row, (label, value) in enumerate(zip((born, register, issued), values, strict=True)):
        _field(draw, (200, 34 + row * 80), label, value)
    for row, line in enumerate(td1_lines(person)):
        draw.text((60, 410 + row * 62), line, fill=INK, font=font(44, "mono"))
    return image


def draw_passport(person: Person, rng: random.Random) -> Image.Image:
    belgian = rng.random() < 0.75
    state = "BEL" if belgian else "UTO"
    image = _card((1476, 1039), (236, 238, 226))
    draw = ImageDraw.Draw(image)
    country = (
        "KONINKRIJK BELGIË   ROYAUME DE BELGIQUE   KÖNIGREICH BELGIEN" if belgian else "UTOPIA"
    )  # noqa: E501
    title = "PASPOORT   PASSEPORT   REISEPASS   PASSPORT" if belgian else "PASSPORT   PASSEPORT"
    draw.text((40, 26), country, fill=INK, font=font(32, "bold"))
    draw.text((40, 74), title, fill=INK, font=font(32, "bold"))
    _portrait(draw, (40, 150, 420, 640))
    fields = (("Type / Type", "P"), ("Code / Code", state), ("Paspoortnr. / Passport No.", person.passport_number),  # noqa: E501
              ("Naam / Nom / Surname", person.surname), ("Voornamen / Prénoms / Given names", person.given),  # noqa: E501
              ("Nationaliteit / Nationalité / Nationality", state),
              ("Geboortedatum / Date de naissance / Date of birth", _dotted(person.birth)),
              ("Geslacht / Sexe / Sex", person.sex),
              ("Geboorteplaats / Lieu de naissance / Place of birth", person.birthplace),
              ("Vervaldatum / Date d'expiration / Date of expiry", _dotted(person.expiry)))  # fmt: skip
    for row, (label, value) in enumerate(fields):
        column = 460 + (row % 3) * 320 if row < 3 else 460
        _field(draw, (column, 150 + (0 if row < 3 else (row - 2) * 72)), label, value, 28)
    for row, line in enumerate(td3_lines(person, state)):
        draw.text((40, 830 + row * 84), line, fill=INK, font=font(50, "mono"))
    return image


def draw_driving_licence(person: Person, rng: random.Random) -> Image.Image:
    image = _card((1012, 638), (246, 218, 224))
    draw = ImageDraw.Draw(image)
    draw.rectangle((24, 20, 108, 92), fill=(30, 60, 150))
    draw.text((52, 34), "B", fill=(250, 220, 40), font=font(40, "bold"))
    titles = rng.sample(_LICENCE_TITLES, 3)
    draw.text((130, 18), "BELGIË   BELGIQUE   BELGIEN", fill=INK, font=font(26, "bold"))
    draw.text((130, 56), "   ".join(titles), fill=INK, font=font(24, "bold"))
    _portrait(draw, (28, 128, 280, 460))
    issue = later(person.expiry, -10)
    lines = (f"1. {person.surname}", f"2. {person.given}", f"3. {_dotted(person.birth)} {person.birthplace}",  # noqa: E501
             f"4a. {_dotted(issue)}", f"4b. {_dotted(person.expiry)}", f"4c. {rng.choice(_PLACES)}",  # noqa: E501
             f"5. {person.register_number[:10]}", "9. AM/B/BE")  # fmt: skip
    for row, line in enumerate(lines):
        draw.text((310, 128 + row * 60), line, fill=INK, font=font(30, "bold"))
    return image


def draw_negative(kind: str, person: Person, rng: random.Random) -> Image.Image:
    """What else people attach: none of it is an identity document."""
    if kind in ("quote", "letter", "blank"):
        image = Image.new("RGB", A4, (252, 252, 250))
        draw = ImageDraw.Draw(image)
        for row, line in enumerate(_page_text(kind, person, rng)):
            draw.text(
                (110, 140 + row * 52), line, fill=INK, font=font(30, "bold" if row == 0 else "sans")
            )  # noqa: E501
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
    caption = rng.choice(
        ("Badkamer na de werken, lavabo links", "Salle de bain : fuite sous l'évier")
    )  # noqa: E501
    draw.rectangle((0, 1100, 1600, 1200), fill=(30, 30, 30))
    draw.text((40, 1122), caption, fill=(240, 240, 240), font=font(40))
    return image


def _page_text(kind: str, person: Person, rng: random.Random) -> list[str]:
    if kind == "blank":
        return []
    name = f"{person.given.title()} {person.surname.title()}"
    if kind == "letter":
        return [f"Naam: {name}", "", "Geachte,", "",
                "Hierbij vraag ik inzage in alle gegevens die u over mij bewaart",
                "(artikel 15 AVG). Een kopie van mijn identiteitskaart volgt",
                "indien nodig. Graag een antwoord per e-mail.", "",
                "Met vriendelijke groeten,", name]  # fmt: skip
    items = ("Tegelwerk badkamer", "Plaatsen lavabo", "Silicone voegen", "Afvoer vervangen",
             "Verplaatsing", "Afvoer puin", "Kleine materialen", "Schilderwerk plafond")  # fmt: skip
    lines = [f"OFFERTE / DEVIS  nr. {rng.randrange(1000, 9999)}", "Voorbeeld Renovaties BV",
             f"Klant / Client: {name}", f"Datum: {_dotted(person.expiry)}", ""]  # fmt: skip
    lines += [f"{n}. {item:<26} € {rng.randrange(40, 1900)},00" for n, item in enumerate(items, 1)]
    return [*lines, "", "Totaal excl. BTW / Total HTVA", "BTW 21% / TVA 21%"]


def main() -> None:
    """`python -m tests.idcards.render DIR [COUNT] [SEED]`: the set as files plus a manifest."""
    import json
    import sys

    directory = Path(sys.argv[1])
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 120
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 7
    directory.mkdir(parents=True, exist_ok=True)
    manifest = []
    for sample in render_set(count, seed):
        (directory / sample.name).write_bytes(sample.data)
        manifest.append({key: getattr(sample, key) for key in Sample.__slots__ if key != "data"})
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
