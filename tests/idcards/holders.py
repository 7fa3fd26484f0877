"""Invented holders of synthetic identity documents and their machine-readable zones.

Placeholder names and seed-drawn numbers (one fixed specimen among them), and the TD1
(Belgian eID back) and TD3 (passport) zones with correct ICAO 9303 check digits, which
`documents` prints on its drawings and the MRZ tests read back.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True, slots=True)
class Person:
    """An invented holder: placeholder names, numbers drawn from the seed."""

    surname: str
    given: str
    sex: str
    birth: date
    expiry: date
    card_number: str  # 12 digits, printed 3-7-2
    register_number: str  # 11 digits
    passport_number: str  # 2 letters, 6 digits
    birthplace: str


# One fixed holder, for tests that need the same document every time.
SPECIMEN_HOLDER = Person(
    surname="VOORBEELD",
    given="LOTTE",
    sex="F",
    birth=date(1984, 7, 9),
    expiry=date(2031, 3, 2),
    card_number="592123456730",
    register_number="84070912345",
    passport_number="EM482913",
    birthplace="GENT",
)
_SURNAMES = ("VOORBEELD", "SPECIMEN", "TESTAERT", "FICTIEF", "EXEMPLAIRE", "MUSTERMANN")
_GIVEN = ("ANNA MARIA", "JAN PIETER", "LOTTE", "CAMILLE NOOR", "LUKAS", "INES SOFIE")
PLACES = ("GENT", "LIÈGE", "EUPEN", "NAMUR", "BRUGGE", "MONS")


def invent_person(rng: random.Random) -> Person:
    birth = date(1950, 1, 1) + timedelta(days=rng.randrange(20000))
    head = f"{rng.randrange(10**10):010d}"
    return Person(
        surname=rng.choice(_SURNAMES),
        given=rng.choice(_GIVEN),
        sex=rng.choice("MF"),
        birth=birth,
        expiry=date(2026, 1, 1) + timedelta(days=rng.randrange(3000)),
        card_number=head + f"{int(head) % 97 or 97:02d}",
        register_number=birth.strftime("%y%m%d") + f"{rng.randrange(10**5):05d}",
        passport_number="".join(rng.choices("ABEGHKMN", k=2)) + f"{rng.randrange(10**6):06d}",
        birthplace=rng.choice(PLACES),
    )


def check_digit(field: str) -> str:
    """ICAO 9303: weights 7, 3, 1 repeating; letters count 10-35 and '<' zero."""
    values = [int(c) if c.isdigit() else 0 if c == "<" else ord(c) - 55 for c in field]
    return str(sum(v * (7, 3, 1)[i % 3] for i, v in enumerate(values)) % 10)


def td1_lines(person: Person) -> tuple[str, str, str]:
    """Belgian eID back; its 12-digit card number overflows into the optional data."""
    number = person.card_number
    top = f"IDBEL{number[:9]}<{number[9:]}{check_digit(number)}".ljust(30, "<")
    birth, expiry = person.birth.strftime("%y%m%d"), person.expiry.strftime("%y%m%d")
    middle = f"{birth}{check_digit(birth)}{person.sex}{expiry}{check_digit(expiry)}BEL"
    middle += person.register_number
    middle += check_digit(top[5:] + middle[:7] + middle[8:15] + middle[18:29])
    bottom = f"{person.surname}<<{person.given.replace(' ', '<')}".ljust(30, "<")[:30]
    return top, middle, bottom


def td3_lines(person: Person, state: str) -> tuple[str, str]:
    top = f"P<{state}{person.surname}<<{person.given.replace(' ', '<')}".ljust(44, "<")[:44]
    number, personal = person.passport_number.ljust(9, "<"), person.register_number.ljust(14, "<")
    birth, expiry = person.birth.strftime("%y%m%d"), person.expiry.strftime("%y%m%d")
    bottom = f"{number}{check_digit(number)}{state}{birth}{check_digit(birth)}{person.sex}"
    bottom += f"{expiry}{check_digit(expiry)}{personal}{check_digit(personal)}"
    return top, bottom + check_digit(bottom[0:10] + bottom[13:20] + bottom[21:43])
