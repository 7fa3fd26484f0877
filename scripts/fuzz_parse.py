"""Fuzz the path every inbound mail takes first: parse, screen, and what `mails show`
prints of it, with Hypothesis mutating seed mails for a bounded time.

    .venv/bin/python -m scripts.fuzz_parse --seconds 600 [--out DIR]

Seeds: the demo mails, a few synthetic requests, and ../shared/corpus/mime (real
bounces, auto-replies and malformed mail) when present, read in place. Mutations flip,
insert, delete and repeat bytes, and repeat the tokens parsers trip on (";", "=?",
folding, boundaries, quotes, comments) up to thousands of times. A finding is an input
that raises anything but MalformedMail (a crash) or takes over a second (slow); each
is written to DIR and printed, and becomes a regression test with synthetic bytes.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import signal
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import HypothesisWarning

from mailbot.mail.parse import MalformedMail, parse_mail
from mailbot.sealing import Sealer
from mailbot.store.models import InboundMessage
from mailbot.store.reading import read_stored
from mailbot.store.sealed import sealing_context
from mailbot.triage.screen import screen
from tests.mailfactory import PNG_1PX, request_mail

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus" / "mime"
SLOW_SECONDS = 1.0
HARD_LIMIT_SECONDS = 20  # one input past this is stopped and reported as slow
TOKENS = (
    b";",
    b"; a=b",
    b";\r\n p*0*=utf-8''%41",
    b"=?utf-8?q?=C3=A9?=",
    b"=?",
    b"?=",
    b"\r\n ",
    b"\r",
    b"\n",
    b"\r\n\r\n",
    b"--",
    b"boundary=",
    b"Content-Type: multipart/mixed; boundary=x\r\n",
    b"\r\n--x\r\n",
    b"Content-Type: message/rfc822\r\n\r\n",
    b"Content-Transfer-Encoding: base64\r\n",
    b'"',
    b"\\",
    b"(",
    b")",
    b"<",
    b">",
    b"@",
    b",",
    b":;",
    b"\x00",
    b"\xff",
    b"<![CDATA[",
    b"<!--",
    b"<html><p>",
    b"=\r\n",
    b"X-H: v\r\n",
)


class _TimeUp(Exception):
    """The fuzzing time is over."""


class _HardLimit(BaseException):
    """One input took longer than HARD_LIMIT_SECONDS (not an Exception: what the
    exercise catches as a crash must not catch this)."""


@dataclass
class Findings:
    out: Path
    inputs: int = 0
    slowest: float = 0.0
    crashes: dict[str, bytes] = field(default_factory=dict)  # signature -> smallest input
    slow: dict[str, tuple[float, bytes]] = field(default_factory=dict)

    def crash(self, exc: BaseException, raw: bytes, where: str) -> None:
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        signature = f"{where}: {type(exc).__name__} at {Path(frame.filename).name}:{frame.lineno}"
        if signature not in self.crashes or len(raw) < len(self.crashes[signature]):
            self.crashes[signature] = raw
            self._write("crash", raw)
            print(f"CRASH {signature} ({len(raw)} bytes)", flush=True)

    def timed(self, seconds: float, raw: bytes, where: str) -> None:
        self.slowest = max(self.slowest, seconds)
        if seconds <= SLOW_SECONDS:
            return
        self.slow[hashlib.sha256(raw).hexdigest()[:12]] = (seconds, raw)
        self._write("slow", raw)
        print(f"SLOW {where}: {seconds:.1f} s ({len(raw)} bytes)", flush=True)

    def _write(self, kind: str, raw: bytes) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / f"{kind}-{hashlib.sha256(raw).hexdigest()[:12]}.eml").write_bytes(raw)


def seeds() -> list[bytes]:
    """The demo mails, synthetic requests and the real corpus when present."""
    found = [path.read_bytes() for path in sorted((REPO / "mailbot" / "demo_mail").rglob("*.eml"))]
    found += [
        request_mail(language="fr", extra_headers={"Reply-To": "Other <o@example.org>"}),
        request_mail(language="nl", attachments=[("kaart.png", "image/png", PNG_1PX)]),
        request_mail(language="de", subject="=?utf-8?q?Auskunft_=C3=BCber?= Daten"),
    ]
    if CORPUS.is_dir():
        found += [path.read_bytes() for path in sorted(CORPUS.rglob("*.eml"))]
    return found


@st.composite
def mutated(draw: Callable[..., Any], pool: list[bytes]) -> bytes:
    raw = bytearray(draw(st.sampled_from(pool)))
    for _ in range(draw(st.integers(1, 4))):
        at = int(draw(st.floats(0, 1)) * len(raw))
        kind = draw(st.sampled_from(("flip", "insert", "delete", "repeat", "token")))
        if kind == "flip" and raw:
            raw[min(at, len(raw) - 1)] = draw(st.integers(0, 255))
        elif kind == "insert":
            raw[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif kind == "delete":
            del raw[at : at + draw(st.integers(1, 256))]
        elif kind == "repeat":
            piece = bytes(raw[at : at + draw(st.integers(1, 64))])
            raw[at:at] = piece * draw(st.integers(1, 5000))
        else:
            raw[at:at] = draw(st.sampled_from(TOKENS)) * draw(st.integers(1, 20_000))
    return bytes(raw)


def exercise(raw: bytes, sealer: Sealer, findings: Findings) -> None:
    """Parse and screen `raw`, then read it as `mails show` does; findings recorded."""
    findings.inputs += 1
    started = time.perf_counter()
    try:
        mail = parse_mail(raw)
        screen(mail, frozenset({"privacy@jaimy.be"}), frozenset({"jaimy.be"}))
    except MalformedMail:
        pass
    except Exception as exc:
        findings.crash(exc, raw, "parse+screen")
    findings.timed(_confirmed(time.perf_counter() - started, raw), raw, "parse+screen")
    started = time.perf_counter()
    key = "sha256:" + hashlib.sha256(raw).hexdigest()
    row = InboundMessage(
        id=1,
        source="fuzz",
        message_key=key,
        raw=sealer.seal(raw, sealing_context(key)),
        size=len(raw),
        sha256=key[7:],
        received_at=datetime.now(UTC),
    )
    try:
        read_stored(row, sealer)
    except Exception as exc:
        findings.crash(exc, raw, "read_stored")
    findings.timed(time.perf_counter() - started, raw, "read_stored")


def _confirmed(seconds: float, raw: bytes) -> float:
    """A slow parse timed again, the faster run counting: on a shared machine a single
    run can be slow for reasons of its neighbours."""
    if seconds <= SLOW_SECONDS:
        return seconds
    started = time.perf_counter()
    with contextlib.suppress(Exception):
        screen(parse_mail(raw), frozenset({"privacy@jaimy.be"}), frozenset({"jaimy.be"}))
    return min(seconds, time.perf_counter() - started)


def fuzz(seconds: float, findings: Findings) -> None:
    pool = seeds()
    print(f"{len(pool)} seeds; fuzzing for {seconds:.0f} s", flush=True)
    sealer = Sealer(bytes(32))
    end = time.monotonic() + seconds

    def hard_limit(signum: int, frame: FrameType | None) -> None:
        raise _HardLimit

    signal.signal(signal.SIGALRM, hard_limit)

    @settings(
        max_examples=10**9,
        phases=[Phase.generate],
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(mutated(pool))
    def one(raw: bytes) -> None:
        if time.monotonic() > end:
            raise _TimeUp
        signal.alarm(HARD_LIMIT_SECONDS)
        try:
            exercise(raw, sealer, findings)
        except _HardLimit:
            findings.timed(float(HARD_LIMIT_SECONDS), raw, "stopped at the hard limit")
        finally:
            signal.alarm(0)

    with warnings.catch_warnings(), contextlib.suppress(_TimeUp):
        warnings.simplefilter("ignore", HypothesisWarning)  # reprs of large inputs
        one()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "mailbot-fuzz")
    args = parser.parse_args(argv)
    findings = Findings(args.out)
    started = time.monotonic()
    fuzz(args.seconds, findings)
    took = time.monotonic() - started
    print(
        f"{findings.inputs} inputs in {took:.0f} s; {len(findings.crashes)} crash kind(s), "
        f"{len(findings.slow)} slow input(s); slowest {findings.slowest:.2f} s"
    )
    for signature in findings.crashes:
        print(f"  crash: {signature}")
    return 1 if findings.crashes or findings.slow else 0


if __name__ == "__main__":
    sys.exit(main())
