"""The web app and the worker side by side on one database, SQLite and PostgreSQL: the
real `mailbot run` and `mailbot web` processes, as an operator starts them.

Mail arrives while both run; the DPO sees the cases appear in the queue, drafts a
refusal in the browser's forms, edits and approves it, and the running worker sends
the edited letter to the SMTP server.
"""

from __future__ import annotations

import html
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_DATA_KEY
from tests.integration.botprocess import REPO, stop_worker, wait_until
from tests.mailfactory import request_mail
from tests.servers.mailservers import SmtpSink
from tests.servers.postgres import Postgres

pytestmark = pytest.mark.integration
PASSWORD = "a long passphrase for the dpo"


class Browser:
    """Forms posted as a browser would; cookies kept by hand because the app sets them
    Secure and this test speaks plain HTTP on the loopback."""

    def __init__(self, base: str) -> None:
        self.http = httpx.Client(base_url=base, timeout=10)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, **data: str) -> httpx.Response:
        header = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        answer = self.http.request(
            method, path, data=data or None, headers={"Cookie": header} if header else {}
        )
        for line in answer.headers.get_list("set-cookie"):
            name, _, rest = line.partition("=")
            self.cookies[name] = rest.split(";", 1)[0].strip('"')
        return answer


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _mailbot(env: dict[str, str], *args: str, stdin: str = "") -> None:
    subprocess.run(
        [sys.executable, "-m", "mailbot", *args],
        env=env, cwd=REPO, input=stdin, text=True, check=True, capture_output=True, timeout=120,
    )  # fmt: skip


def _start(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "mailbot", *args],
            env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip


def _deliver(inbox: Path, raw: bytes, name: str) -> None:
    (inbox / "tmp" / name).write_bytes(raw)
    (inbox / "tmp" / name).rename(inbox / "new" / name)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'bot.sqlite3'}"
    cluster: Postgres = request.getfixturevalue("postgres")
    return cluster.create_database(f"web_{int(time.time() * 1000) % 10**9}")


def test_the_dpo_works_in_the_web_app_while_the_worker_runs(
    database_url: str, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    for sub in ("new", "cur", "tmp"):
        (inbox / sub).mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILBOT_")}
    env.update(
        MAILBOT_MAILDIR=str(inbox),
        MAILBOT_SMTP_URL=smtp_sink.url,
        MAILBOT_DATABASE_URL=database_url,
        MAILBOT_DATA_DIR=str(tmp_path),
        MAILBOT_DATA_KEY=TEST_DATA_KEY,
        MAILBOT_CLASSIFIER="baseline",
        MAILBOT_POLL_SECONDS="1",
    )
    _mailbot(env, "migrate")
    _mailbot(env, "users", "add", "Dana DPO", "--role", "dpo", stdin=PASSWORD + "\n")
    port = _port()
    worker = _start(env, tmp_path / "worker.log", "run")
    web = _start(env, tmp_path / "web.log", "web", "--port", str(port))
    try:
        browser = Browser(f"http://127.0.0.1:{port}")
        wait_until(lambda: _answers(browser), 30, "the web app to answer /healthz")
        page = browser.request("GET", "/signin")
        token = re.search(r'name="token" value="([^"]+)"', page.text)
        assert token is not None
        signed = browser.request(
            "POST", "/signin", name="Dana DPO", password=PASSWORD, token=token.group(1)
        )
        assert signed.status_code == 303 and signed.headers["location"] == "/cases"

        for n, language in enumerate(("nl", "fr", "en")):
            sender = f"Requester {n} <side-by-side-{n}@example.org>"
            _deliver(inbox, request_mail(sender=sender, language=language), f"m{n}")
        references: list[str] = []

        def three_cases() -> bool:
            references[:] = re.findall(r'href="/cases/([A-Z0-9-]+)"', _get(browser, "/cases"))
            return len(set(references)) == 3

        wait_until(three_cases, 60, "the worker's three cases in the web queue", step=0.5)

        case_page = _get(browser, f"/cases/{references[0]}")
        csrf = _csrf(case_page)
        drafted = browser.request(
            "POST", f"/cases/{references[0]}/refuse",
            csrf=csrf, reasons="The data asked for are held by the tradesperson.", scope="whole",
        )  # fmt: skip
        assert drafted.status_code == 303
        assert drafted.headers["location"].startswith("/drafts/")
        editor = _get(browser, drafted.headers["location"])
        body = re.search(r'<textarea id="body" name="body"[^>]*>(.*?)</textarea>', editor, re.S)
        base = re.search(r'name="base" value="([^"]+)"', editor)
        assert body is not None and base is not None
        text = html.unescape(body.group(1)) + "\nChecked and edited by the DPO in the web app.\n"
        approved = browser.request(
            "POST", drafted.headers["location"] + "/save",
            csrf=_csrf(editor), base=base.group(1), body=text, intent="approve",
        )  # fmt: skip
        assert approved.status_code == 303
        assert approved.headers["location"] == f"/cases/{references[0]}"

        def refusal_sent() -> bool:
            return any(
                "Checked and edited by the DPO" in str(m.get_body(("plain",)).get_content())
                for m in smtp_sink.messages()
            )

        wait_until(refusal_sent, 60, "the worker to send the approved refusal", step=0.5)
        assert worker.poll() is None and web.poll() is None
    finally:
        stop_worker(worker)
        stop_worker(web)
    log = (tmp_path / "worker.log").read_text() + (tmp_path / "web.log").read_text()
    assert "Traceback" not in log, log


def _answers(browser: Browser) -> bool:
    try:
        return browser.request("GET", "/healthz").status_code == 200
    except httpx.TransportError:
        return False


def _get(browser: Browser, path: str) -> str:
    answer = browser.request("GET", path)
    assert answer.status_code == 200, (path, answer.status_code)
    return answer.text


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)
