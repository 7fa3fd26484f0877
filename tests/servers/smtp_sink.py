"""The SMTP capture sink: an aiosmtpd child process that files every mail it accepts in a maildir.

On request it behaves as a badly configured or unwell server would: `password` makes
it require AUTH and answer 535 to any other password (and accept that one); `silent`
makes it accept connections and never say a word, not even the greeting.

`start_smtp_sink` runs `python -m tests.servers.smtp_sink` and hands back an SmtpSink that
reads the captured mails; the command line is the child's entry point, not meant for people.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from tests.servers.processes import HOST, await_start, spawn, terminate


@dataclass
class SmtpSink:
    host: str
    port: int
    maildir: Path
    process: subprocess.Popen[bytes] = field(repr=False)

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def messages(self) -> list[EmailMessage]:
        files = [path for box in ("new", "cur") for path in (self.maildir / box).iterdir()]
        parser = BytesParser(EmailMessage, policy=policy.default)
        # Names start with the arrival time in nanoseconds (see CaptureHandler below).
        files.sort(key=lambda path: (int(path.name.split(".", 1)[0]), path.name))
        return [parser.parsebytes(path.read_bytes()) for path in files]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(captured := self.messages()) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the SMTP sink holds {len(captured)} mails, wanted {count}")
            time.sleep(0.05)
        return captured

    def stop(self) -> None:
        terminate(self.process)


def start_smtp_sink(
    workdir: Path, fail_first: int = 0, password: str | None = None, silent: bool = False
) -> SmtpSink:
    workdir = workdir.resolve()  # the child runs from the repository root
    maildir, port_file = workdir / "maildir", workdir / "smtp-sink.port"
    for box in ("tmp", "new", "cur"):
        (maildir / box).mkdir(parents=True, exist_ok=True)
    port_file.unlink(missing_ok=True)
    command = [sys.executable, "-m", "tests.servers.smtp_sink", "--maildir", str(maildir),
               "--fail-first", str(fail_first), "--port-file", str(port_file)]  # fmt: skip
    if password is not None:
        command += ["--password", password]
    if silent:
        command.append("--silent")
    process = spawn(command, workdir / "smtp-sink.log")
    await_start("the SMTP sink", process, port_file.exists, workdir / "smtp-sink.log")
    return SmtpSink(HOST, int(port_file.read_text()), maildir, process)


class CaptureHandler:
    """aiosmtpd handler: refuses the first DATA commands on request, files the rest."""

    def __init__(self, maildir: Path, fail_first: int) -> None:
        self.maildir, self.failures_left, self.accepted = maildir, fail_first, 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.failures_left > 0:
            self.failures_left -= 1
            return "451 4.3.0 try again later"
        self.accepted += 1
        name = f"{time.time_ns()}.P{os.getpid()}Q{self.accepted}.sink"
        recipients = ", ".join(envelope.rcpt_tos)
        sender = envelope.mail_from or "<>"
        stamp = f"X-Sink-Mail-From: {sender}\r\nX-Sink-Rcpt-To: {recipients}\r\n"
        draft = self.maildir / "tmp" / name
        draft.write_bytes(stamp.encode() + envelope.original_content)
        draft.replace(self.maildir / "new" / name)  # readers only ever see whole mails
        return f"250 2.0.0 OK queued as {name}"


class Silent(asyncio.Protocol):
    """Takes the connection and the bytes sent, and never answers."""

    def data_received(self, data: bytes) -> None:
        pass


def _password_check(password: str) -> Any:
    from aiosmtpd.smtp import AuthResult, LoginPassword

    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        ok = isinstance(data, LoginPassword) and data.password == password.encode()
        return AuthResult(success=ok, handled=False)  # aiosmtpd then answers 235 or 535

    return check


async def serve_sink(
    port: int,
    maildir: Path,
    fail_first: int,
    port_file: Path | None,
    password: str | None = None,
    silent: bool = False,
) -> None:
    from aiosmtpd.smtp import SMTP

    handler = CaptureHandler(maildir, fail_first)
    loop = asyncio.get_running_loop()

    def protocol() -> asyncio.Protocol:
        if silent:
            return Silent()
        if password is None:
            return SMTP(handler, hostname="sink.example.test", enable_SMTPUTF8=True)
        return SMTP(
            handler,
            hostname="sink.example.test",
            enable_SMTPUTF8=True,
            auth_required=True,
            auth_require_tls=False,  # the sink has no TLS; a test password only
            authenticator=_password_check(password),
        )

    server = await loop.create_server(protocol, HOST, port)
    if port_file is not None:
        draft = port_file.with_suffix(".draft")
        draft.write_text(str(server.sockets[0].getsockname()[1]))
        draft.replace(port_file)  # the parent polls for this file: it must appear complete
    stopped = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopped.set)
    await stopped.wait()
    server.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.servers.smtp_sink", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--maildir", type=Path, required=True)
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--port-file", type=Path)
    parser.add_argument("--password", help="require AUTH with this password (535 otherwise)")
    parser.add_argument("--silent", action="store_true", help="accept, never answer")
    args = parser.parse_args(argv)
    asyncio.run(
        serve_sink(
            args.port, args.maildir, args.fail_first, args.port_file, args.password, args.silent
        )
    )


if __name__ == "__main__":
    main()
