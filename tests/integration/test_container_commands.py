"""The very commands compose.yaml gives the containers, run with deploy/docker's
environment file and every secret as a file, against the real Dovecot, SMTP server and
PostgreSQL of the integration tests (no Docker daemon on these machines): the migration,
the worker, and the web app answering /healthz and /metrics."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import yaml

from mailbot.sealing import new_key_text
from tests.integration.botprocess import REPO, stop_worker, wait_until
from tests.mailfactory import request_mail
from tests.servers.mailservers import Dovecot, MailAccount, SmtpSink
from tests.servers.postgres import Postgres

DOCKER = REPO / "deploy" / "docker"


def _container_env(
    dovecot: Dovecot, account: MailAccount, sink: SmtpSink, url: str, tmp_path: Path
) -> dict[str, str]:
    """.env.example with the hosts of the test servers and /run/secrets in tmp_path."""
    secrets_dir = tmp_path / "secrets"
    secrets_dir.mkdir(mode=0o700)
    imap = urlsplit(dovecot.imap_url(account))
    files = {
        "data_key": new_key_text(),
        "database_password": "unused: the test cluster trusts local connections",
        "imap_password": account.password,
        "smtp_password": "unused: the test sink takes mail without login",
        "metrics_token": secrets.token_urlsafe(24),
    }
    for name, value in files.items():
        (secrets_dir / name).write_text(value + "\n", "utf-8")
        (secrets_dir / name).chmod(0o600)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILBOT_")}
    for line in (DOCKER / ".env.example").read_text("utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            env[name] = value.replace("/run/secrets", str(secrets_dir))
    env.update(
        MAILBOT_IMAP_URL=urlunsplit(
            imap._replace(netloc=f"{account.user}@{imap.hostname}:{imap.port}")
        ),
        MAILBOT_SMTP_URL=sink.url,
        MAILBOT_DATABASE_URL=url,
        MAILBOT_TLS_CA_FILE=str(dovecot.cafile),
        MAILBOT_DATA_DIR=str(tmp_path / "data"),
        MAILBOT_CLASSIFIER="baseline",
    )
    return env


def _command(service: str) -> list[str]:
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text("utf-8"))
    command: list[str] = compose["services"][service]["command"]
    assert command[0] == "mailbot"
    return [sys.executable, "-m", "mailbot", *command[1:]]


def test_the_containers_commands_run_with_the_environment_file(
    dovecot: Dovecot,
    mail_account: MailAccount,
    smtp_sink: SmtpSink,
    postgres: Postgres,
    tmp_path: Path,
) -> None:
    url = postgres.create_database(f"compose_{secrets.token_hex(4)}")
    env = _container_env(dovecot, mail_account, smtp_sink, url, tmp_path)
    assert "PASSWORD=" not in " ".join(f"{k}={v}" for k, v in env.items() if "MAILBOT" in k)

    def run(service: str, *extra: str) -> None:
        done = subprocess.run([*_command(service), *extra], env=env, cwd=REPO,
                              capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
        assert done.returncode == 0, done.stderr

    run("migrate")
    # The example starts after the mail already in the folder (MAILBOT_IMAP_HISTORY=new).
    dovecot.deliver(mail_account, request_mail(sender="Old <old@d0.example.org>", language="nl"))
    run("worker", "--once")
    dovecot.deliver(mail_account, request_mail(sender="C <c@d1.example.org>", language="fr"))
    run("worker", "--once")
    (reply,) = smtp_sink.wait_for(1)  # the IMAP and SMTP passwords came from files
    assert reply["To"] == "c@d1.example.org"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [arg if arg != "0.0.0.0" else "127.0.0.1" for arg in _command("web")]  # noqa: S104
    command[command.index("--port") + 1] = str(port)
    with (tmp_path / "web.log").open("wb") as log:
        web = subprocess.Popen(command, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"

        def healthy() -> bool:
            try:
                return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(healthy, 60, "the web app's /healthz")
        token = (tmp_path / "secrets" / "metrics_token").read_text("utf-8").strip()
        answer = httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {token}"})
        text = answer.text
        assert 'mailbot_mails{disposition="case_opened"} 1.0' in text
    finally:
        stop_worker(web)
