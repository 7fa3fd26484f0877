"""`mailbot users`: the people who sign in to the web app, and `mailbot web` itself.

A password is asked for on a terminal (twice, hidden); otherwise one line is read from
standard input, so a script can create users: `printf '%s\\n' "$PW" | mailbot users add
...`. A password never appears on the command line, where `ps` would show it.
"""

from __future__ import annotations

import errno
import getpass
import logging
import socket
import sys
from typing import TYPE_CHECKING, Annotated

import typer
from sqlalchemy import Engine
from sqlmodel import Session

from mailbot.actions import Done
from mailbot.commands.common import ConfigOption, JsonFlag, act, database, emit, fail
from mailbot.config import ConfigError, Settings
from mailbot.staff.members import add_member, disable_member, members, reset_password
from mailbot.store.models import utcnow

if TYPE_CHECKING:
    from mailbot.staff.models import Role
    from mailbot.web.context import WebContext

DEMO_HOST = "127.0.0.1"  # the demo's logins are printed: never reachable from elsewhere

app = typer.Typer(no_args_is_help=True, help="People who sign in to the web app.")
Name = Annotated[str, typer.Argument(help="The name they sign in with (and the audit shows).")]


# Who makes the change, for the staff events; the account running the command by default.
AdminActor = Annotated[
    str,
    typer.Option("--as", envvar="MAILBOT_ACTOR", help="Your name, for the audit trail."),
]


def _operator() -> str:
    return f"cli:{getpass.getuser()}"


@app.command("add")
def add(
    name: Name,
    role: Annotated[str, typer.Option(help="dpo, compliance or admin.")],
    actor: AdminActor = "",
    config: ConfigOption = None,
) -> None:
    """Create a user with a role; the password comes from the terminal or standard input."""
    password = _password()
    act(config, lambda s, _: _added(s, name, role, password, actor or _operator()))


@app.command("list")
def list_users(config: ConfigOption = None, json_output: JsonFlag = False) -> None:
    """Every user with role and state (never a password hash)."""
    _, engine = database(config)
    with Session(engine) as session:
        for member in members(session):
            state = "disabled" if member.disabled_at else "active"
            row = {
                "name": member.name,
                "role": member.role,
                "state": state,
                "created_at": member.created_at.isoformat(),
            }
            emit(row, json_output, f"{member.name:<24} {member.role:<11} {state}")


@app.command("disable")
def disable(name: Name, actor: AdminActor = "", config: ConfigOption = None) -> None:
    """Stop a user from signing in; their open sessions end now."""
    by = actor or _operator()
    act(config, lambda s, _: _summary(f"{disable_member(s, name, utcnow(), by).name} disabled"))


@app.command("reset-password")
def reset(name: Name, actor: AdminActor = "", config: ConfigOption = None) -> None:
    """Set a new password (and enable a disabled user); their open sessions end now."""
    password, by = _password(), actor or _operator()
    act(
        config,
        lambda s, _: _summary(
            f"password of {reset_password(s, name, password, utcnow(), by).name} set"
        ),
    )


def _added(session: Session, name: str, role: str, password: str, actor: str) -> Done:
    member = add_member(session, name, role, password, utcnow(), actor)
    return Done(f"{member.name} added as {member.role}")


def _summary(text: str) -> Done:
    return Done(text)


def _password() -> str:
    if sys.stdin.isatty():
        password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        return password
    line = sys.stdin.readline()
    if not line:
        fail("no password on standard input (one line expected)")
    return line.rstrip("\r\n")


def web(
    config: ConfigOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve the web app for the DPO, compliance and admins (behind TLS in production)."""
    from mailbot.log_format import configure_logging
    from mailbot.web.app import serve

    settings, engine = database(config)
    configure_logging(False, settings.log_format)
    logging.getLogger("uvicorn").setLevel(logging.WARNING)  # no access log: addresses
    try:
        context = web_context(settings, engine)
    except ConfigError as exc:
        fail(str(exc))
    typer.echo(f"privacy-mailbot web app on http://{host}:{port}/ (Ctrl-C stops it)")
    serve(context, host, port)


def web_context(settings: Settings, engine: Engine) -> WebContext:
    """The web app's share of the bot: the same settings, database and data key."""
    from mailbot.handling.record import Handling
    from mailbot.runtime import open_sealer
    from mailbot.web.context import WebContext

    return WebContext(settings, engine, Handling.of(settings, open_sealer(settings, engine)))


def serve_demo(
    settings: Settings, engine: Engine, logins: dict[Role, tuple[str, str]], port: int
) -> None:
    """`mailbot demo`'s web app: the first free port from `port` on 127.0.0.1."""
    from mailbot.web.app import serve

    listener = listen(DEMO_HOST, port)
    address = f"http://{DEMO_HOST}:{listener.getsockname()[1]}/"
    typer.echo("")
    typer.echo(f"The web app serves the demo data on {address}  (Ctrl-C stops it)")
    typer.echo("Demo logins (this demo's database only; new passwords at every run):")
    for role, (name, password) in logins.items():
        typer.echo(f"  {role.value:<11} name {name:<16} password {password}")
    serve(web_context(settings, engine), DEMO_HOST, listener.getsockname()[1], listener)


def listen(host: str, first_port: int, tries: int = 20) -> socket.socket:
    """A listening socket on the first free port from `first_port` on."""
    for port in range(first_port, first_port + tries):
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((host, port))
        except OSError as exc:
            listener.close()
            if exc.errno != errno.EADDRINUSE:
                raise
            continue
        listener.listen(128)  # a browser opened at once waits in the backlog, not refused
        return listener
    fail(f"no free port on {host} from {first_port} to {first_port + tries - 1}")
