"""The worker under load, hostile mail mixed in: N mails (1 % hostile) appended to a real
Dovecot over IMAP, then `mailbot run --once` (a separate process, as in production) reads,
handles and answers them through a real SMTP sink.

    .venv/bin/python -m scripts.bench_load [N] [--classifier e5|baseline] [--against-classify]

The hostile kinds are the ones issue 11 found: parser bombs (a Content-Type with 50,000
parameters, a 2.8 MB Subject, 20,000 headers) that must be quarantined without holding
up the others; three senders sharing one Message-ID, each owed a case; a forged sender
whose display name is a phishing lure, owed a plain acknowledgement that repeats none of
it; a vacation reply without auto headers and a no-reply sender, owed no answer. Prints
what became of each kind, the time, the mails per second and the worker's peak RSS, and
exits 1 when a mail was lost or answered wrongly. With --against-classify, `mailbot
classify` then reads the same mails as .eml files, as the floor the worker's cost is
compared with (deploy/RUNBOOK.md, "Capacity").
"""

from __future__ import annotations

import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path

from imapclient import IMAPClient
from sqlmodel import Session, func, select

from mailbot.cases.models import OutboundMessage
from mailbot.database import open_engine
from mailbot.store.models import InboundMessage
from tests.mailfactory import request_mail
from tests.servers.mailservers import Dovecot, MailAccount, start_dovecot
from tests.servers.smtp_sink import SmtpSink, start_smtp_sink

PHISHING_NAME = "Your Jaimy account is locked, unlock at https://jaimy-login.example.net now"


def _header_bomb(n: int) -> bytes:
    parameters = "".join(f'; p{i}="v"' for i in range(50_000))
    return (
        f"From: Bomb {n} <bomb{n}@example.org>\r\nTo: privacy@jaimy.be\r\n"
        f"Subject: data\r\nMessage-ID: <bomb{n}@example.org>\r\n"
        f"Content-Type: text/plain{parameters}\r\n\r\nDelete my data.\r\n"
    ).encode()


def _huge_subject(n: int) -> bytes:
    return (
        f"From: Long {n} <long{n}@example.org>\r\nTo: privacy@jaimy.be\r\n"
        f"Subject: {'x' * 2_800_000}\r\nMessage-ID: <long{n}@example.org>\r\n"
        "\r\nDelete my data.\r\n"
    ).encode()


def _many_headers(n: int) -> bytes:
    filler = "".join(f"X-Filler-{i}: {i}\r\n" for i in range(20_000))
    return (
        f"From: Many {n} <many{n}@example.org>\r\nTo: privacy@jaimy.be\r\n"
        f"Subject: data\r\nMessage-ID: <many{n}@example.org>\r\n{filler}"
        "\r\nDelete my data.\r\n"
    ).encode()


def _shared_message_id(n: int) -> bytes:
    return request_mail(
        sender=f"Shared {n} <shared@shared{n}.example.org>",
        message_id="<1@localhost>",
        language="fr",
    )


def _phishing_name(n: int) -> bytes:
    return request_mail(sender=f'"{PHISHING_NAME}" <lure@lure{n}.example.net>', language="en")


def _vacation(n: int) -> bytes:
    return request_mail(
        sender=f"Away {n} <away@away{n}.example.org>",
        language="nl",
        subject="Afwezig: Re: uw verzoek",
        body="Ik ben afwezig tot maandag en lees mijn mail niet.",
    )


def _no_reply(n: int) -> bytes:
    return request_mail(sender=f"Shop <no-reply@shop{n}.example.com>", language="en")


# kind -> (mail maker, what must become of it)
HOSTILE: dict[str, tuple[Callable[[int], bytes], str]] = {
    "header bomb": (_header_bomb, "quarantined"),
    "2.8 MB subject": (_huge_subject, "quarantined"),
    "20,000 headers": (_many_headers, "quarantined"),
    "shared Message-ID": (_shared_message_id, "answered"),
    "phishing display name": (_phishing_name, "answered"),
    "vacation reply": (_vacation, "not answered"),
    "no-reply sender": (_no_reply, "not answered"),
}


def mails(count: int) -> list[tuple[str, str, bytes]]:
    """(kind, sender address, raw) for `count` mails, 1 % hostile, spread evenly."""
    hostile = max(count // 100, len(HOSTILE))
    step, kinds = max(count // hostile, 1), list(HOSTILE)
    chosen: list[tuple[str, str, bytes]] = []
    for n in range(count):
        if n % step == 0 and n // step < hostile:
            kind = kinds[(n // step) % len(kinds)]
            raw = HOSTILE[kind][0](n)
        else:
            kind = "request"
            # Spread over domains as real senders are: the per-domain cap (20 a day) holds
            # a flood from one domain for the DPO, which is not what this measures.
            sender = f"Requester {n} <requester{n}@home{n % 1000}.example.org>"
            raw = request_mail(sender=sender, language=("nl", "fr", "de", "en")[n % 4])
        chosen.append((kind, _sender(raw), raw))
    return chosen


def _sender(raw: bytes) -> str:
    head = raw.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
    line = next(h for h in head.replace("\n ", " ").splitlines() if h.lower().startswith("from:"))
    return getaddresses([line[5:]])[0][1].lower()


def _append(dovecot: Dovecot, account: MailAccount, raws: list[bytes]) -> None:
    client = IMAPClient(dovecot.host, port=dovecot.imap_port, ssl=False)
    try:
        client.login(account.user, account.password)
        for raw in raws:
            client.append("INBOX", raw)
    finally:
        client.logout()


def _classify_rate(
    raws: list[bytes], env: dict[str, str], directory: Path, threads: int | None = None
) -> float:
    """Mails per second of `mailbot classify --json` on these mails, after its load (the
    time of a one-mail run subtracted); `threads`: the encoder's threads, else its own
    choice (every usable core)."""
    if threads is not None:
        env = {**env, "OMP_NUM_THREADS": str(threads)}
    directory.mkdir(exist_ok=True)
    files = []
    for n, raw in enumerate(raws):
        (directory / f"{n:06d}.eml").write_bytes(raw)
        files.append(str(directory / f"{n:06d}.eml"))

    def seconds(names: list[str]) -> float:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "mailbot", "classify", "--json", *names],
                       env=env, capture_output=True, check=True)  # fmt: skip
        return time.perf_counter() - started

    return (len(files) - 1) / (seconds(files) - seconds(files[:1]))


def run(count: int, classifier: str, root: Path, against_classify: bool = False) -> int:
    dovecot = start_dovecot(root / "dovecot")
    sink: SmtpSink = start_smtp_sink(root / "smtp")
    try:
        account = dovecot.add_account()
        chosen = mails(count)
        started = time.perf_counter()
        _append(dovecot, account, [raw for _, _, raw in chosen])
        print(f"appended {count:,} mails to Dovecot in {time.perf_counter() - started:.0f} s")
        database = root / "bot.sqlite3"
        env = {k: v for k, v in os.environ.items() if not k.startswith("MAILBOT_")}
        env.update(
            MAILBOT_IMAP_URL=dovecot.imap_url(account),
            MAILBOT_SMTP_URL=sink.url,
            MAILBOT_DATA_DIR=str(root / "data"),
            MAILBOT_DATABASE_URL=f"sqlite:///{database}",
            MAILBOT_DATA_KEY_FILE=str(root / "data.key"),
            MAILBOT_CLASSIFIER=classifier,
            MAILBOT_TLS_CA_FILE=str(dovecot.cafile),
        )
        subprocess.run([sys.executable, "-m", "mailbot", "keygen", str(root / "data.key")],
                       env=env, check=True, capture_output=True)  # fmt: skip
        started, rounds = time.perf_counter(), 0
        began = datetime.now(UTC)
        # A round sends for at most MAILBOT_SEND_BUDGET_SECONDS, then gives way to
        # reading and handling: the running worker's next rounds send the rest, so
        # here `run --once` is repeated until the outbox is empty.
        while rounds == 0 or _queued(env) > 0:
            rounds += 1
            worker = subprocess.run(
                [sys.executable, "-m", "mailbot", "run", "--once"],
                env=env, capture_output=True, text=True, check=False,
            )  # fmt: skip
            if worker.returncode != 0 or rounds > 50:
                print(worker.stderr[-3000:])
                return 1
        seconds = time.perf_counter() - started
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"{rounds} rounds of `mailbot run --once` until the outbox was empty")
        code = _report(chosen, database, sink, seconds, peak_mb, began)
        if against_classify:
            raws = [raw for _, _, raw in chosen]
            rate = _classify_rate(raws, env, root / "eml")
            print(f"`mailbot classify` on the same mails: {rate:.1f} mails/s after load; "
                  f"the worker ran at {len(chosen) / seconds / rate:.0%} of it")  # fmt: skip
            # The worker's encoder leaves one core to reading, recording and sending:
            # classify on the cores it keeps is the most any worker could do so.
            cores = len(os.sched_getaffinity(0))
            if cores > 1:
                alone = _classify_rate(raws, env, root / "eml", threads=cores - 1)
                print(f"`mailbot classify` on {cores - 1} of the {cores} cores (the worker's "
                      f"encoder's share): {alone:.1f} mails/s, {alone / rate:.0%} of classify "
                      f"on all of them")  # fmt: skip
        return code
    finally:
        sink.stop()
        dovecot.stop()


def _queued(env: dict[str, str]) -> int:
    status = subprocess.run(
        [sys.executable, "-m", "mailbot", "status", "--json"],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return int(json.loads(status.stdout)["outbox"]["queued"])


def _report(
    chosen: list[tuple[str, str, bytes]], database: Path, sink: SmtpSink, seconds: float,
    peak_mb: float, began: datetime,
) -> int:  # fmt: skip
    with Session(open_engine(f"sqlite:///{database}")) as session:
        stored = session.exec(select(InboundMessage.sender, InboundMessage.disposition)).all()
        last_handled = session.exec(select(func.max(InboundMessage.handled_at))).one()
        first_sent = session.exec(select(func.min(OutboundMessage.sent_at))).one()
    answers = Counter(
        address.lower()
        for message in sink.messages()
        for _, address in getaddresses([str(message["To"])])
    )
    lures = [m for m in sink.messages() if "jaimy-login" in str(m["Subject"]) + _text(m)]
    problems = []
    if len(stored) != len(chosen):
        problems.append(f"{len(chosen) - len(stored)} mails not stored")
    if lures:
        problems.append(f"{len(lures)} replies repeat the phishing text")
    dispositions = Counter(disposition for _, disposition in stored)
    print(f"{'kind':<24}{'mails':>7}{'answered once':>15}{'unanswered':>12}  expected")
    for kind in ["request", *HOSTILE]:
        addresses = [address for k, address, _ in chosen if k == kind]
        once = sum(answers[a] == 1 for a in addresses)
        never = sum(answers[a] == 0 for a in addresses)
        expected = HOSTILE[kind][1] if kind in HOSTILE else "answered"
        print(f"{kind:<24}{len(addresses):>7}{once:>15}{never:>12}  {expected}")
        wrong = never if expected == "answered" else len(addresses) - never
        if wrong:
            problems.append(f"{kind}: {wrong} of {len(addresses)} not {expected}")
    print(f"dispositions: {dict(dispositions)}")
    quarantine_expected = sum(
        1 for k, _, _ in chosen if k in HOSTILE and HOSTILE[k][1] == "quarantined"
    )
    if dispositions.get("quarantined", 0) != quarantine_expected:
        problems.append(
            f"{dispositions.get('quarantined', 0)} quarantined, {quarantine_expected} expected"
        )
    print(
        f"the worker over {len(chosen):,} mails: {seconds:.0f} s, "
        f"{len(chosen) / seconds:.1f} mails/s end to end, peak RSS {peak_mb:.0f} MB"
    )
    if first_sent is not None:
        print(f"the first reply went out {(first_sent - began).total_seconds():.0f} s after start")
    if last_handled is not None:
        handling = (last_handled - began).total_seconds()
        print(
            f"the last mail handled (case opened, reply queued, or quarantined) "
            f"{handling:.0f} s after start"
        )
    for problem in problems:
        print(f"PROBLEM: {problem}")
    return 1 if problems else 0


def _text(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    return str(body.get_content()) if body is not None else ""


def main(arguments: list[str]) -> int:
    count = int(next((a for a in arguments if a.isdigit()), "10000"))
    classifier = (
        arguments[arguments.index("--classifier") + 1] if "--classifier" in arguments else "e5"
    )
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; {count:,} mails, classifier {classifier}"
    )
    root = Path(tempfile.mkdtemp(prefix="bench-load-"))
    root.chmod(0o755)  # Dovecot's mail user walks into it
    try:
        return run(count, classifier, root, "--against-classify" in arguments)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
