"""Talking to systemd: READY/STOPPING reach $NOTIFY_SOCKET, and the watchdog pings only
while the worker's loop makes progress (a stuck worker stops them, so systemd restarts
it). A real datagram socket stands in for systemd's."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailbot.service_manager import Watchdog, notify


@pytest.fixture
def systemd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[socket.socket]:
    path = tmp_path / "notify"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(path))
    listener.settimeout(0.05)
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    yield listener
    listener.close()


def _received(listener: socket.socket, seconds: float) -> list[str]:
    states, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            states.append(listener.recv(256).decode())
        except TimeoutError:
            continue
    return states


def test_states_reach_systemd_and_nothing_happens_outside_it(
    systemd: socket.socket, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert notify("READY=1")
    assert _received(systemd, 0.2) == ["READY=1"]
    monkeypatch.delenv("NOTIFY_SOCKET")
    assert not notify("READY=1")
    assert not Watchdog(10).start()  # no WATCHDOG_USEC: no thread


def test_the_watchdog_pings_only_while_there_is_progress(
    systemd: socket.socket, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", "100000")  # pings every 0.05 s
    watchdog = Watchdog(limit=0.5)
    assert watchdog.start()
    try:
        assert "WATCHDOG=1" in _received(systemd, 0.3)  # just started: progress
        _received(systemd, 0.5)  # no progress for longer than the limit...
        assert _received(systemd, 0.4) == []  # ...so no pings: systemd will restart us
        watchdog.progress()
        assert "WATCHDOG=1" in _received(systemd, 0.3)
    finally:
        watchdog.stop()


def test_the_worker_says_ready_and_stopping(systemd: socket.socket, tmp_path: Path) -> None:
    import asyncio

    from tests.maildir_worker import maildir_worker

    worker = maildir_worker(tmp_path / "bot")
    asyncio.run(worker.run(once=True))
    assert _received(systemd, 0.2) == ["READY=1", "STATUS=leading", "STOPPING=1"]
