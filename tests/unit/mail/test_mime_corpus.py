"""Real bounces, auto-replies and malformed mail of ../shared/corpus/mime (skipped without it)."""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path
from typing import Any

import pytest

from mailbot.mail.parse import MalformedMail, parse_mail
from mailbot.triage.screen import Verdict, screen

CORPUS = Path(__file__).resolve().parents[3].parent / "shared" / "corpus" / "mime"

if not (CORPUS / "index.jsonl").is_file():
    pytest.skip("../shared/corpus/mime is absent", allow_module_level=True)

pytestmark = pytest.mark.corpus

ENTRIES: list[dict[str, Any]] = [
    json.loads(line) for line in (CORPUS / "index.jsonl").read_text().splitlines() if line.strip()
]
MACHINE_MADE = [e for e in ENTRIES if e["file"].split("/")[0] in ("bounces", "autoreplies")]
MALFORMED = [e for e in ENTRIES if e["file"].startswith("malformed/")]
OWN = frozenset({"privacy@jaimy.example.test"})


def _ids(entries: list[dict[str, Any]]) -> list[str]:
    return [entry["file"] for entry in entries]


@pytest.mark.parametrize("entry", ENTRIES, ids=_ids(ENTRIES))
def test_parse_raises_nothing_but_malformed_mail(entry: dict[str, Any]) -> None:
    raw = (CORPUS / entry["file"]).read_bytes()
    try:
        mail = parse_mail(raw)
    except MalformedMail as refused:
        assert refused.reason
        return
    assert "\x00" not in mail.text
    assert all(isinstance(value, str) for _, value in mail.headers)
    screen(mail, OWN)  # screening must cope with whatever parsing let through


@pytest.mark.parametrize("entry", MACHINE_MADE, ids=_ids(MACHINE_MADE))
def test_bounces_and_auto_replies_are_never_answered(entry: dict[str, Any]) -> None:
    raw = (CORPUS / entry["file"]).read_bytes()
    try:
        mail = parse_mail(raw)
    except MalformedMail:
        return  # refused mail is not answered either
    result = screen(mail, OWN)
    assert result.verdict is not Verdict.ANSWER, entry["note"]


@pytest.mark.parametrize("entry", MALFORMED, ids=_ids(MALFORMED))
def test_malformed_mail_is_parsed_in_bounded_time(entry: dict[str, Any]) -> None:
    raw = (CORPUS / entry["file"]).read_bytes()
    started = time.perf_counter()
    with contextlib.suppress(MalformedMail):
        parse_mail(raw)
    assert time.perf_counter() - started < 10.0  # a safety net against blow-ups, not a benchmark
