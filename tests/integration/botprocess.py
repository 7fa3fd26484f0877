"""Running the real `mailbot` command against the test rig, as an operator would."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from imapclient import IMAPClient

from tests.conftest import TEST_DATA_KEY
from tests.servers.mailservers import Dovecot, MailAccount, SmtpSink

REPO = Path(__file__).resolve().parents[2]


def bot_env(
    dovecot: Dovecot, account: MailAccount, sink: SmtpSink, data_dir: Path, tls: bool = False
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILBOT_")}
    env.update(
        MAILBOT_IMAP_URL=dovecot.imap_url(account, tls=tls),
        MAILBOT_SMTP_URL=sink.url,
        MAILBOT_DATA_DIR=str(data_dir),
        MAILBOT_TLS_CA_FILE=str(dovecot.cafile),
        MAILBOT_IDLE_SECONDS="20",
        # These tests are about the mail path; the trained model has its own tests and
        # one end-to-end test below. The baseline saves a model load per command.
        MAILBOT_CLASSIFIER="baseline",
        MAILBOT_DATA_KEY=TEST_DATA_KEY,
    )
    return env


def mailbot(
    *args: str, env: dict[str, str], check: bool = True
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "mailbot", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if check and done.returncode != 0:
        raise AssertionError(f"mailbot {' '.join(args)} exited {done.returncode}:\n{done.stderr}")
    return done


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "mailbot", "run"],
            env=env,
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )


def stop_worker(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> int:
    if process.poll() is None:
        process.send_signal(sig)
    return process.wait(timeout=30)


def status(env: dict[str, str]) -> dict[str, object]:
    result: dict[str, object] = json.loads(mailbot("status", "--json", env=env).stdout)
    return result


def cases(env: dict[str, str]) -> list[dict[str, object]]:
    lines = mailbot("cases", "list", "--json", env=env).stdout.splitlines()
    return [json.loads(line) for line in lines]


def mails(env: dict[str, str]) -> list[dict[str, Any]]:
    lines = mailbot("mails", "list", "--json", env=env).stdout.splitlines()
    return [json.loads(line) for line in lines]


def wait_until(condition: Callable[[], bool], timeout: float, what: str, step: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what}")
        time.sleep(step)


def imap_flags(dovecot: Dovecot, account: MailAccount) -> dict[int, set[bytes]]:
    client = IMAPClient(dovecot.host, port=dovecot.imap_port, ssl=False)
    try:
        client.login(account.user, account.password)
        client.select_folder("INBOX", readonly=True)
        fetched = client.fetch(client.search(["ALL"]), ["FLAGS"])
        return {uid: set(data[b"FLAGS"]) for uid, data in fetched.items()}
    finally:
        client.logout()
