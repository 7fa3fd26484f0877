"""Child processes of the local mail-server rig: start in their own session, await, stop."""

from __future__ import annotations

import atexit
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
START_TIMEOUT = 10.0


def spawn(command: list[str], log: Path) -> subprocess.Popen[bytes]:
    """A child in its own session with stdio in a log: Ctrl-C in the terminal reaches only us,
    and no caller's pipe is held open by a daemon."""
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, stdin=subprocess.DEVNULL, stdout=output,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    atexit.register(terminate, process)
    return process


def await_start(
    what: str, process: subprocess.Popen[bytes], ready: Callable[[], bool], *logs: Path
) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while process.poll() is None and time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.05)
    terminate(process)
    text = "".join(log.read_text(errors="replace") for log in logs if log.exists())
    tail = "\n".join(text.splitlines()[-20:]) or "(the log is empty)"
    raise RuntimeError(f"{what} did not start within {START_TIMEOUT:.0f} s:\n{tail}")


def accepts_connections(port: int) -> bool:
    try:
        socket.create_connection((HOST, port), timeout=0.5).close()
    except OSError:
        return False
    return True


def terminate(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM and reap, so no zombie outlives the rig."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
