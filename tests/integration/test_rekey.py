"""`mailbot rekey`: every stored mail and sealed text re-sealed under a new data key. Cut
short by SIGKILL midway, the database refuses to run half-rotated, the same command
finishes the job, and then the new key alone opens everything while the worker carries
on; the old key is refused."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from mailbot.sealing import MAGIC, load_sealer, new_key_text
from tests.integration.botprocess import REPO
from tests.mailfactory import request_mail

MAILS = 300


def _mailbot(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mailbot", *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=300, check=False)  # fmt: skip


def _keys_of_mails(database: Path) -> list[bytes]:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as connection:
        rows = connection.execute("SELECT raw FROM inbound_message").fetchall()
    connection.close()
    return [bytes(raw)[len(MAGIC) : len(MAGIC) + 8] for (raw,) in rows]


def test_a_rekey_cut_short_by_sigkill_is_finished_by_running_it_again(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    for sub in ("new", "cur", "tmp"):
        (inbox / sub).mkdir(parents=True)
    for n in range(MAILS):
        sender = f"Anna Peeters{n} <r{n}@d{n}.example.org>"
        (inbox / "new" / f"{n:04d}").write_bytes(request_mail(sender=sender, language="nl"))
    database = tmp_path / "data" / "mailbot.sqlite3"
    old_key, new_file = new_key_text(), tmp_path / "new.key"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILBOT_")}
    env.update(MAILBOT_MAILDIR=str(inbox), MAILBOT_SMTP_URL="smtp://127.0.0.1:9",
               MAILBOT_DATA_DIR=str(tmp_path / "data"), MAILBOT_CLASSIFIER="baseline",
               MAILBOT_DATA_KEY=old_key)  # fmt: skip
    assert _mailbot(env, "run", "--once").returncode == 0
    assert _mailbot(env, "keygen", str(new_file)).returncode == 0
    old_id = load_sealer(old_key, None).key_id[:8]
    new_id = load_sealer(None, new_file).key_id[:8]

    rotation = subprocess.Popen(
        [sys.executable, "-m", "mailbot", "rekey", "--new-key-file", str(new_file), "--batch", "1"],
        env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while True:
        keys = _keys_of_mails(database)
        if 0 < keys.count(new_id) < MAILS:
            rotation.send_signal(signal.SIGKILL)
            break
        assert rotation.poll() is None, "the rotation ended before it could be cut short"
        assert time.monotonic() < deadline
        time.sleep(0.005)
    rotation.wait(timeout=10)
    keys = _keys_of_mails(database)
    assert set(keys) == {old_id, new_id}  # half and half: the state a crash leaves

    # Nobody runs on a half-rotated database, with either key.
    refused = _mailbot(env, "status")
    assert refused.returncode == 2 and "rotation was cut short" in refused.stderr
    with_new = {k: v for k, v in env.items() if k != "MAILBOT_DATA_KEY"}
    with_new["MAILBOT_DATA_KEY_FILE"] = str(new_file)
    assert _mailbot(with_new, "status").returncode == 2

    finished = _mailbot(env, "rekey", "--new-key-file", str(new_file))
    assert finished.returncode == 0, finished.stderr
    assert set(_keys_of_mails(database)) == {new_id}

    # The new key opens everything and the worker carries on; the old key is refused.
    assert _mailbot(env, "status").returncode == 2
    (inbox / "new" / "late").write_bytes(request_mail(sender="Late <late@d9.example.org>"))
    assert _mailbot(with_new, "run", "--once").returncode == 0
    listed = _mailbot(with_new, "mails", "list", "--json")
    assert listed.returncode == 0 and listed.stdout.count("case_opened") == MAILS + 1
    shown = _mailbot(with_new, "mails", "show", "1")
    assert shown.returncode == 0 and "r0@d0.example.org" in shown.stdout
    outbox = _mailbot(with_new, "outbox", "list", "--json")  # sealed subjects, opened
    assert outbox.returncode == 0 and outbox.stdout.count("\n") >= MAILS
    # The queue finds a requester by a word of the name with the new key's hashes.
    token = load_sealer(None, new_file).search_token("peeters0")
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        found = connection.execute(
            "SELECT count(*) FROM privacy_case WHERE name_search LIKE ?", (f"% {token} %",)
        ).fetchone()[0]
    connection.close()
    assert found == 1
