"""Talking to systemd when it runs the worker (`Type=notify`, `WatchdogSec=`).

`notify` sends one state line to $NOTIFY_SOCKET (READY=1 once the worker is up,
STOPPING=1 when it stops); nothing happens outside systemd. `Watchdog` pings systemd
from a thread, but only while the worker's loop has shown progress within `limit`
seconds: a worker stuck in a round stops the pings, and systemd restarts it. The limit
covers the longest quiet stretch a healthy worker has (waiting for mail, then reading
one slow mail), so the unit's WatchdogSec must be at least that (deploy/systemd).
"""

from __future__ import annotations

import os
import socket
import threading
import time

WATCHDOG_FACTOR = 0.5  # ping twice per WatchdogSec, as sd_watchdog_enabled(3) advises


def notify(state: str) -> bool:
    """Send `state` ("READY=1", "WATCHDOG=1", ...) to systemd; False when not under it."""
    address = os.environ.get("NOTIFY_SOCKET", "")
    if not address:
        return False
    if address.startswith("@"):  # an abstract socket
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as channel:
            channel.connect(address)
            channel.sendall(state.encode("ascii"))
    except OSError:
        return False
    return True


def watchdog_interval() -> float | None:
    """Seconds between pings systemd asked for, or None when it watches nothing."""
    usec = os.environ.get("WATCHDOG_USEC", "")
    owner = os.environ.get("WATCHDOG_PID", "")
    if not usec.isdigit() or (owner and owner != str(os.getpid())):
        return None
    return int(usec) / 1_000_000 * WATCHDOG_FACTOR


class Watchdog:
    """Pings systemd while `progress()` was called within the last `limit` seconds."""

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self._last = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def progress(self) -> None:
        self._last = time.monotonic()

    def start(self) -> bool:
        """Start pinging; False (and no thread) when systemd watches nothing."""
        interval = watchdog_interval()
        if interval is None:
            return False
        self._thread = threading.Thread(
            target=self._ping, args=(interval,), name="mailbot-watchdog", daemon=True
        )
        self._thread.start()
        return True

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _ping(self, interval: float) -> None:
        while not self._stop.wait(interval):
            if time.monotonic() - self._last <= self.limit:
                notify("WATCHDOG=1")
