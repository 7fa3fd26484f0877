"""Renders a seed-deterministic set of synthetic ID-document files and look-alikes.

Takes the flat drawings of `documents` (ID documents of invented people, and what else a
requester attaches) and makes them arrive as a mail would carry them: turned, tilted,
resized or photographed on a table, scanned onto a page, encoded as JPEG, PNG, HEIC or
PDF. Each sample states the kind the ID check should find. Import `render_set` /
`render_sample`, or write a set to a directory with
`python -m tests.idcards.render DIR [COUNT] [SEED]` (files plus manifest.json).
"""

from __future__ import annotations

import dataclasses
import io
import json
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pillow_heif
from PIL import Image, ImageFilter

from tests.idcards.documents import A4, DRAWINGS, NEGATIVES, PAGES, draw_negative
from tests.idcards.holders import invent_person

VARIATIONS = ("clean", "rot90", "rot180", "rot270", "tilt", "small", "large", "photo")
FORMATS = ("jpeg", "png", "heic", "pdf")
MEDIA_TYPES = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "heic": "image/heic",
    "pdf": "application/pdf",
}
SUFFIXES = {"jpeg": "jpg", "png": "png", "heic": "heic", "pdf": "pdf"}
# Expected kinds per cycle of 12: fronts are sent most, negatives catch false alarms.
_SHARES = {"eid_front": 3, "eid_back": 2, "passport": 2, "driving_licence": 2, "other_document": 3}
_CYCLE = [kind for kind, share in _SHARES.items() for _ in range(share)]
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
    """`count` samples cycling through the kinds; variation and format follow from `seed`."""
    rng = random.Random(f"plan-{seed}")
    samples = []
    for index in range(count):
        variation = VARIATIONS[(index // len(_CYCLE) + index) % len(VARIATIONS)]
        fmt = rng.choices(FORMATS, weights=(6, 2, 1, 1))[0]
        kind = _CYCLE[index * 5 % len(_CYCLE)]  # 5 shares no factor with 12: kinds take turns
        samples.append(render_sample(index, kind, variation, fmt, seed))
    return samples


def render_sample(
    index: int,
    kind: str,
    variation: str,
    fmt: str,
    seed: int = 7,
    negative: str | None = None,
    holder: tuple[str, str] | None = None,
) -> Sample:
    """One sample; `negative` picks the look-alike drawn for kind `other_document`;
    `holder` (surname, given names) puts a chosen name on the document."""
    rng = random.Random(f"{seed}-{index}-{kind}-{variation}-{fmt}")
    noise = np.random.default_rng(rng.randrange(2**32))
    person = invent_person(rng)
    if holder is not None:
        person = dataclasses.replace(person, surname=holder[0].upper(), given=holder[1])
    if kind == "other_document":
        negative = negative or NEGATIVES[index % len(NEGATIVES)]
        flat = draw_negative(negative, person, rng)
    else:
        flat = DRAWINGS[kind](person, rng)
    image = vary(flat, variation, rng, noise)
    if fmt == "pdf" and negative not in PAGES:
        image = _on_scanned_page(image, rng)
    # The room photo bears an ID card's file name on purpose: the check must not believe it.
    stem = "identiteitskaart" if negative == "room" else rng.choice(("scan", "IMG_4031", "id"))
    name = f"{index:03d}-{negative or kind}-{variation}.{SUFFIXES[fmt]}"
    data = encode(image, fmt, rng)
    return Sample(name, kind, variation, fmt, MEDIA_TYPES[fmt], f"{stem}.{SUFFIXES[fmt]}", data)


# --- how the picture arrives ----------------------------------------------------------------


def vary(
    image: Image.Image, variation: str, rng: random.Random, noise: np.random.Generator
) -> Image.Image:
    """The flat drawing turned, tilted, shrunk, enlarged or photographed on a table."""
    if variation.startswith("rot"):
        return image.rotate(int(variation[3:]), expand=True)
    if variation == "tilt":
        angle = rng.choice((-1, 1)) * rng.uniform(4.0, 7.5)
        return image.rotate(angle, Image.Resampling.BICUBIC, expand=True, fillcolor=(236, 236, 232))
    if variation in ("small", "large"):
        return _fit(image, 600 if variation == "small" else 4000)
    return _photographed(image, rng, noise) if variation == "photo" else image


def _fit(image: Image.Image, long_side: int) -> Image.Image:
    factor = long_side / max(image.size)
    return image.resize(
        (round(image.width * factor), round(image.height * factor)), Image.Resampling.LANCZOS
    )


def _photographed(
    image: Image.Image, rng: random.Random, noise: np.random.Generator
) -> Image.Image:
    """On a wooden table, with a perspective skew, uneven light, sensor noise and blur."""
    width, height = image.size
    scene = (int(width * 1.45), int(height * 1.6))
    left, top = (scene[0] - width) / 2, (scene[1] - height) / 2
    corners = [
        (
            left + dx * width + rng.uniform(-0.08, 0.08) * width,
            top + dy * height + rng.uniform(-0.08, 0.08) * width,
        )
        for dx, dy in ((0, 0), (1, 0), (1, 1), (0, 1))
    ]
    source = [(0.0, 0.0), (width, 0.0), (width, height), (0.0, height)]
    equations, values = [], []
    for (x, y), (u, v) in zip(corners, source, strict=True):  # output corner -> card corner
        equations += [[x, y, 1, 0, 0, 0, -u * x, -u * y], [0, 0, 0, x, y, 1, -v * x, -v * y]]
        values += [u, v]
    coefficients = tuple(float(c) for c in np.linalg.solve(np.array(equations), np.array(values)))
    warped = image.transform(
        scene, Image.Transform.PERSPECTIVE, coefficients, Image.Resampling.BICUBIC
    )
    mask = Image.new("L", image.size, 255).transform(
        scene, Image.Transform.PERSPECTIVE, coefficients
    )
    ys, xs = np.mgrid[0 : scene[1], 0 : scene[0]].astype(np.float32)
    grain = np.sin(ys / rng.uniform(5.0, 11.0) + 2.5 * np.sin(xs / rng.uniform(150, 300)))
    wood = np.array(rng.choice([(150, 105, 70), (186, 140, 96), (120, 84, 58)]), np.float32)
    table = Image.fromarray(
        np.clip((0.8 + 0.12 * grain)[:, :, None] * wood, 0, 255).astype(np.uint8)
    )
    table.paste(warped, (0, 0), mask)
    ramp = np.linspace(rng.uniform(0.45, 0.75), rng.uniform(0.95, 1.1), scene[0], dtype=np.float32)
    lit = (
        np.asarray(table, np.float32) * (ramp if rng.random() < 0.5 else ramp[::-1])[None, :, None]
    )
    lit += noise.normal(0.0, rng.uniform(4.0, 14.0), lit.shape).astype(np.float32)
    photo = Image.fromarray(np.clip(lit, 0, 255).astype(np.uint8))
    return photo.filter(ImageFilter.GaussianBlur(rng.uniform(0.8, 2.0)))


def _on_scanned_page(image: Image.Image, rng: random.Random) -> Image.Image:
    """A flatbed scan: the document at 300 dpi near the top-left corner of a white A4 page."""
    page = Image.new("RGB", (A4[0] * 2, A4[1] * 2), (250, 250, 248))
    page.paste(
        image if max(image.size) <= 2200 else _fit(image, 2200),
        (rng.randint(60, 200), rng.randint(60, 240)),
    )
    return page


def encode(image: Image.Image, fmt: str, rng: random.Random) -> bytes:
    """The picture as the bytes a mail attachment would carry."""
    buffer, rgb = io.BytesIO(), image.convert("RGB")
    if fmt == "jpeg":
        rgb.save(buffer, "JPEG", quality=rng.randint(40, 95))
    elif fmt == "png":
        rgb.save(buffer, "PNG", compress_level=3)
    elif fmt == "heic":
        pillow_heif.from_pillow(rgb).save(buffer, quality=rng.randint(50, 90))
    elif fmt == "pdf":  # a fixed date keeps the bytes reproducible
        rgb.save(buffer, "PDF", resolution=300.0, creationDate=_FIXED_TIME, modDate=_FIXED_TIME)
    else:
        raise ValueError(f"unknown format {fmt}")
    return buffer.getvalue()


def main() -> None:
    directory = Path(sys.argv[1])
    count, seed = (
        (int(sys.argv[2]) if len(sys.argv) > 2 else 120),
        (int(sys.argv[3]) if len(sys.argv) > 3 else 7),
    )
    directory.mkdir(parents=True, exist_ok=True)
    manifest = []
    for sample in render_set(count, seed):
        (directory / sample.name).write_bytes(sample.data)
        manifest.append({key: getattr(sample, key) for key in Sample.__slots__ if key != "data"})
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
