"""Measures the sentence encoder: load time, mails per second and peak memory, per precision.

    .venv/bin/python -m scripts.bench_encoder [--model DIR_OR_HUB_ID] [--precision compact]

Each precision runs in its own process, so the peak RSS is that configuration's alone. The
100 mails are synthetic, in Dutch, French, German and English, 100 to 300 tokens long.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

SENTENCES = {
    "nl": [
        "Geachte heer, mevrouw,",
        "Op grond van artikel 15 van de AVG wil ik graag inzage in mijn persoonsgegevens.",
        "Ik ben sinds 2019 klant en heb onlangs een bestelling geplaatst via uw webwinkel.",
        "Kunt u mij laten weten welke gegevens u over mij bewaart en met wie u ze deelt?",
        "Daarnaast verzoek ik u mijn e-mailadres uit uw nieuwsbrieflijst te verwijderen.",
        "Mijn klantnummer is 48213 en mijn adres is Voorbeeldstraat 12, 1000 Brussel.",
        "Ik verwacht binnen een maand een antwoord, zoals de wet voorschrijft.",
        "Met vriendelijke groeten, Jan Voorbeeld",
    ],
    "fr": [
        "Madame, Monsieur,",
        "Conformément à l'article 17 du RGPD, je vous demande d'effacer mes données.",
        "J'ai créé un compte chez vous en 2021 mais je n'utilise plus vos services.",
        "Merci de me confirmer la suppression de mon compte et de mon historique d'achats.",
        "Je m'oppose également à tout traitement de mes données à des fins de prospection.",
        "Vous pouvez me joindre à l'adresse marie.exemple@example.org pour toute question.",
        "Dans l'attente de votre réponse, je vous prie d'agréer mes salutations distinguées.",
        "Marie Exemple",
    ],
    "de": [
        "Sehr geehrte Damen und Herren,",
        "hiermit mache ich mein Recht auf Berichtigung nach Art. 16 DSGVO geltend.",
        "Meine Anschrift hat sich geändert und Ihre Rechnungen gehen an die alte Adresse.",
        "Bitte ändern Sie außerdem die Schreibweise meines Namens in Ihrem Kundenkonto.",
        "Ich bitte um eine Bestätigung innerhalb der gesetzlichen Frist von einem Monat.",
        "Die Kundennummer finden Sie in der Betreffzeile dieser Nachricht.",
        "Mit freundlichen Grüßen",
        "Erika Beispiel",
    ],
    "en": [
        "Dear data protection officer,",
        "I am writing to request a copy of my personal data under Article 20 of the GDPR.",
        "Please provide the data in a structured, commonly used and machine-readable format.",
        "I would also like to know how long you keep my order history and for what purpose.",
        "If you share my data with third parties, please list them and the legal basis.",
        "You can reach me at alex.sample@example.test or on my mobile phone.",
        "Thank you in advance for handling this request within one month.",
        "Kind regards, Alex Sample",
    ],
}


def synthetic_mails(count: int = 100, seed: int = 7) -> list[str]:
    """Mails of 4 to 14 sentences in one of the four languages, reproducibly."""
    rng = random.Random(seed)  # noqa: S311 - picks benchmark sentences, guards nothing
    mails = []
    for number in range(count):
        sentences = SENTENCES[("nl", "fr", "de", "en")[number % 4]]
        picked = [rng.choice(sentences) for _ in range(rng.randint(5, 18))]
        mails.append("\n".join(picked))
    return mails


def machine() -> dict[str, Any]:
    """Where the numbers were taken: they mean little without it."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


def measure(model: str | None, precision: str) -> dict[str, Any]:
    """One configuration, in this process: load, warm up, then time 100 mails."""
    started = time.perf_counter()
    import torch

    from classifiers.encoder import load_encoder

    encoder = load_encoder(model, precision=precision)  # type: ignore[arg-type]
    load_seconds = time.perf_counter() - started
    mails = synthetic_mails()
    tokens = [len(row) for row in encoder.token_ids(mails)]
    encoder.embed(mails[:4])  # first call: pages in the weights, sets up kernels
    wall, cpu = time.perf_counter(), time.process_time()
    encoder.embed(mails)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "precision": precision,
        "model": encoder.source,
        "load_seconds": round(load_seconds, 2),
        "mails_per_second": round(len(mails) / wall, 1),
        "cpu_seconds_per_mail": round(cpu / len(mails), 4),
        "mean_tokens": round(sum(tokens) / len(tokens)),
        "max_tokens": max(tokens),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "torch_threads": torch.get_num_threads(),
        "matmul_dtype": str(encoder.compute_dtype).removeprefix("torch."),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model directory or hub id")
    parser.add_argument("--precision", choices=("compact", "fp32"), action="append")
    parser.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    precisions = arguments.precision or ["compact", "fp32"]
    if arguments.in_process:
        print(json.dumps(measure(arguments.model, precisions[0])))
        return 0
    print(json.dumps(machine(), indent=2))
    from classifiers.encoder import ensure_default_model

    if arguments.model is None:
        started = time.perf_counter()
        ensure_default_model()
        print(f"default model ready in {time.perf_counter() - started:.1f} s")
    from classifiers.encoder import BF16_ENV, native_bf16

    runs: list[tuple[str, dict[str, str]]] = [(precision, {}) for precision in precisions]
    if "compact" in precisions and native_bf16():  # also what a CPU without bfloat16 gets
        runs.insert(precisions.index("compact") + 1, ("compact", {BF16_ENV: "0"}))
    for precision, environment in runs:
        # The same module in a child, run like this one: from the repository root.
        command = [sys.executable, "-m", "scripts.bench_encoder", "--in-process"]
        command += ["--precision", precision]
        command += ["--model", arguments.model] if arguments.model else []
        result = subprocess.run(
            command, capture_output=True, text=True, check=False, env=os.environ | environment
        )
        if result.returncode:
            print(result.stderr, file=sys.stderr)
            return result.returncode
        print(json.dumps(json.loads(result.stdout.splitlines()[-1]), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
