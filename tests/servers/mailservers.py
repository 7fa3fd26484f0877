"""Real mail servers on 127.0.0.1 for the integration tests and a developer's local stack.

A throwaway Dovecot (IMAP, IMAPS, LMTP) rendered from tests/servers/dovecot/dovecot.conf.in;
the SMTP capture sink lives in tests/servers/smtp_sink.py. `python -m tests.servers.mailservers
up DIR`, run from the repository root, starts both in the foreground.
"""

from __future__ import annotations

import argparse
import contextlib
import grp
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from urllib.parse import quote

from tests.servers.processes import HOST, accepts_connections, await_start, spawn, terminate

# SmtpSink is re-exported: the integration tests import the whole rig from this module.
from tests.servers.smtp_sink import SmtpSink as SmtpSink
from tests.servers.smtp_sink import start_smtp_sink

DOVECOT_BINARY = Path("/usr/sbin/dovecot")
DOVEADM_BINARY = Path("/usr/bin/doveadm")
CONFIG_TEMPLATE = Path(__file__).resolve().parent / "dovecot" / "dovecot.conf.in"
MAIL_DOMAIN = "example.test"
INSTALL_HINT = "run `make test` or apt-get install dovecot-imapd dovecot-lmtpd"
STATUS_FIELDS = ("messages", "unseen", "uidvalidity", "uidnext")
USER_NAME = re.compile(r"[a-z0-9][a-z0-9._-]*")


@dataclass(frozen=True)
class MailAccount:
    user: str
    password: str
    address: str


@dataclass(frozen=True)
class ProcessIdentity:
    """Who Dovecot's processes run as: its own users as root, the caller otherwise."""

    internal_user: str
    internal_group: str
    login_user: str
    mail_uid: int
    mail_gid: int
    privileged: bool


def process_identity() -> ProcessIdentity:
    if os.geteuid() == 0:
        dovecot = pwd.getpwnam("dovecot")
        group = grp.getgrgid(dovecot.pw_gid).gr_name
        return ProcessIdentity("dovecot", group, "dovenull", dovecot.pw_uid, dovecot.pw_gid, True)
    caller = pwd.getpwuid(os.getuid()).pw_name
    group = grp.getgrgid(os.getgid()).gr_name
    return ProcessIdentity(caller, group, caller, os.getuid(), os.getgid(), False)


def free_ports(count: int) -> list[int]:
    """Ports nobody listens on now; all probes stay open together so the ports differ."""
    with contextlib.ExitStack() as stack:
        probes = [stack.enter_context(socket.socket()) for _ in range(count)]
        for probe in probes:
            probe.bind((HOST, 0))
        return [int(probe.getsockname()[1]) for probe in probes]


def make_self_signed_cert(directory: Path) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError("the `openssl` command is needed to make the test certificate")
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-nodes", "-days", "30", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:prime256v1", "-keyout", str(key), "-out", str(cert), "-subj",
         "/CN=mailservers test rig", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-addext", "keyUsage=critical,digitalSignature,keyCertSign"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def render_config(
    workdir: Path, who: ProcessIdentity, ports: list[int], tls: tuple[Path, Path]
) -> str:
    return Template(CONFIG_TEMPLATE.read_text()).substitute(
        base_dir=workdir / "run", state_dir=workdir / "state", log_path=workdir / "dovecot.log",
        passwd_dir=workdir / "passwd.d", home_dir=workdir / "home",
        internal_user=who.internal_user, internal_group=who.internal_group,
        login_user=who.login_user, mail_uid=who.mail_uid, mail_gid=who.mail_gid,
        login_chroot="login" if who.privileged else "",
        anvil_chroot="empty" if who.privileged else "",
        ssl_cert=tls[0], ssl_key=tls[1],
        imap_port=ports[0], imaps_port=ports[1], lmtp_port=ports[2],
    )  # fmt: skip


def blocked_parent(directory: Path, uid: int, gid: int) -> Path | None:
    """The first directory on the way to `directory` that uid/gid may not pass through."""
    for step in [*reversed(directory.parents), directory]:
        info = step.stat()
        search = 0o100 if info.st_uid == uid else 0o010 if info.st_gid == gid else 0o001
        if not info.st_mode & search:
            return step
    return None


@dataclass
class Dovecot:
    host: str
    imap_port: int
    imaps_port: int
    lmtp_port: int
    cafile: Path
    workdir: Path
    process: subprocess.Popen[bytes] = field(repr=False)
    mail_owner: tuple[int, int] = field(repr=False)

    def add_account(self, user: str | None = None) -> MailAccount:
        name = user or f"user-{secrets.token_hex(4)}"
        if not USER_NAME.fullmatch(name) or (self._passwd_dir / name).exists():
            raise ValueError(f"cannot add account {name!r}: invalid or taken")
        # URL-reserved characters make sure every consumer percent-decodes imap_url().
        account = MailAccount(name, f"{secrets.token_urlsafe(9)}/@%", f"{name}@{MAIL_DOMAIN}")
        home = self.workdir / "home" / name
        home.mkdir()
        os.chown(home, *self.mail_owner)
        # One passwd-file per user: Dovecot re-reads a changed file at most once a second, but
        # opens a file it has never seen at once. The rename hides half-written lines.
        draft = self._passwd_dir / f".{name}.draft"
        draft.write_text(f"{name}:{{PLAIN}}{account.password}\n")
        draft.replace(self._passwd_dir / name)
        return account

    def imap_url(self, account: MailAccount, folder: str = "INBOX", tls: bool = False) -> str:
        scheme, port = ("imaps", self.imaps_port) if tls else ("imap", self.imap_port)
        credentials = f"{quote(account.user, safe='')}:{quote(account.password, safe='')}"
        return f"{scheme}://{credentials}@{self.host}:{port}/{quote(folder)}"

    def deliver(self, account: MailAccount, raw: bytes, folder: str = "INBOX") -> None:
        if folder != "INBOX":
            listed = self._doveadm("mailbox", "list", "-u", account.user).splitlines()
            if folder not in listed:
                self._doveadm("mailbox", "create", "-u", account.user, folder)
        self._doveadm("save", "-u", account.user, "-m", folder, stdin=raw)

    def status(self, account: MailAccount, folder: str = "INBOX") -> dict[str, int]:
        wanted = " ".join(STATUS_FIELDS)
        table = self._doveadm("-f", "tab", "mailbox", "status", "-u", account.user, wanted, folder)
        header, values = (line.split("\t") for line in table.splitlines()[:2])
        row = dict(zip(header, values, strict=True))
        return {name: int(row[name]) for name in STATUS_FIELDS}

    def set_uidvalidity(self, account: MailAccount, value: int, folder: str = "INBOX") -> None:
        self._doveadm("mailbox", "update", "--uid-validity", str(value), "-u", account.user, folder)

    def kick(self, account: MailAccount) -> None:
        self._doveadm("kick", account.user)

    def stop(self) -> None:
        terminate(self.process)

    @property
    def _passwd_dir(self) -> Path:
        return self.workdir / "passwd.d"

    def _doveadm(self, *args: str, stdin: bytes | None = None) -> str:
        command = [str(DOVEADM_BINARY), "-c", str(self.workdir / "dovecot.conf"), *args]
        done = subprocess.run(command, input=stdin, capture_output=True, check=False)
        if done.returncode != 0:
            error = done.stderr.decode(errors="replace").strip()
            raise RuntimeError(f"doveadm {' '.join(args[:2])} failed ({done.returncode}): {error}")
        return done.stdout.decode()


def start_dovecot(workdir: Path) -> Dovecot:
    if not DOVECOT_BINARY.exists():
        raise RuntimeError(f"{DOVECOT_BINARY} is missing: {INSTALL_HINT}")
    workdir = workdir.resolve()
    who = process_identity()
    owner = (who.mail_uid, who.mail_gid)
    workdir.mkdir(parents=True, exist_ok=True)
    workdir.chmod(0o711)
    # Mail processes (IMAP, LMTP, doveadm) run as the mail user and need the full path.
    if (blocked := blocked_parent(workdir, *owner)) is not None:
        raise RuntimeError(
            f"Dovecot's mail user (uid {who.mail_uid}) cannot pass through {blocked}: "
            f"chmod o+x it, or start Dovecot in a directory whose parents are searchable"
        )
    # As root the mail user is also the internal user that reads the passwd-files.
    for private in ("home", "passwd.d"):
        (workdir / private).mkdir(mode=0o700, exist_ok=True)
        os.chown(workdir / private, *owner)
    tls = make_self_signed_cert(workdir / "tls")
    imap, imaps, lmtp = ports = free_ports(3)
    config = workdir / "dovecot.conf"
    config.write_text(render_config(workdir, who, ports, tls))
    # -F keeps the master our child, so stop() can reap it instead of polling a zombie.
    process = spawn([str(DOVECOT_BINARY), "-F", "-c", str(config)], workdir / "dovecot.out")
    await_start("Dovecot", process, lambda: accepts_connections(imap), workdir / "dovecot.log")
    return Dovecot(HOST, imap, imaps, lmtp, tls[0], workdir, process, owner)


def run_stack(directory: Path) -> None:
    # Also SIGINT: a shell's background job inherits it ignored.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.default_int_handler)
    with contextlib.ExitStack() as running, contextlib.suppress(KeyboardInterrupt):
        dovecot = start_dovecot(directory / "dovecot")
        running.callback(dovecot.stop)
        sink = start_smtp_sink(directory / "smtp-sink")
        running.callback(sink.stop)
        account = dovecot.add_account()
        print(f"IMAP   {dovecot.imap_url(account)}")
        print(f"IMAPS  {dovecot.imap_url(account, tls=True)}  (CA: {dovecot.cafile})")
        print(f"LMTP   {dovecot.host}:{dovecot.lmtp_port}  (recipient {account.address})")
        print(f"SMTP   {sink.url}  (captured mail: {sink.maildir}/new)")
        print("Ctrl-C stops both servers.", flush=True)
        signal.pause()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tests.servers.mailservers", description=__doc__
    )
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="run Dovecot and the SMTP sink until Ctrl-C")
    up.add_argument("directory", type=Path, help="where both servers keep their files")
    args = parser.parse_args(argv)
    try:
        run_stack(args.directory)
    except RuntimeError as error:
        parser.exit(1, f"{error}\n")


if __name__ == "__main__":
    main()
