"""`mailbot web` behind a reverse proxy (real uvicorn on the loopback): the sign-in
throttle counts the address the trusted proxy reports, and nobody else can choose the
address it counts by sending X-Forwarded-For."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import httpx
import uvicorn

from mailbot.web.app import server_config
from mailbot.web.context import WebContext
from tests.unit.web.conftest import PASSWORD, PEOPLE


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # the test runner keeps its own
        pass


@contextmanager
def serving(context: WebContext) -> Iterator[str]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    server = _Server(server_config(context, "127.0.0.1", 0))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]})
    thread.start()
    try:
        while not server.started and thread.is_alive():
            threading.Event().wait(0.02)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        listener.close()


def _sign_in(base: str, password: str, forwarded_for: str) -> int:
    with httpx.Client(base_url=base) as client:
        page = client.get("/signin")
        token = re.search(r'name="token" value="([^"]+)"', page.text)
        assert token is not None
        answer = client.post(
            "/signin",
            data={"name": PEOPLE["dpo"], "password": password, "token": token.group(1)},
            headers={
                "X-Forwarded-For": forwarded_for,
                "Cookie": f"mailbot_sign_in={page.cookies.get('mailbot_sign_in')}",
            },
        )
        return answer.status_code


def _failures_by_address(context: WebContext) -> set[str]:
    from sqlmodel import Session, select

    from mailbot.staff.models import FailedSignIn

    with Session(context.engine) as session:
        return set(session.exec(select(FailedSignIn.address)).all())


def test_the_throttle_counts_the_address_the_trusted_proxy_reports(
    context: WebContext,
) -> None:
    behind_proxy = replace(
        context, settings=context.settings.model_copy(update={"web_trusted_proxies": "127.0.0.1"})
    )
    with serving(behind_proxy) as base:
        assert _sign_in(base, "wrong password here", "203.0.113.9") == 401
        assert _sign_in(base, PASSWORD, "198.51.100.4") == 303
    assert _failures_by_address(context) == {"203.0.113.9"}


def test_without_a_trusted_proxy_the_header_is_ignored(context: WebContext) -> None:
    with serving(context) as base:
        assert _sign_in(base, "wrong password here", "203.0.113.9") == 401
    assert _failures_by_address(context) == {"127.0.0.1"}
