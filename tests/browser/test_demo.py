"""`make demo`'s end: `mailbot demo` serves the web app on the demo data and prints a
login per role; the printed DPO login opens the queue in a browser; Ctrl-C stops it."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Page

ROOT = Path(__file__).parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _read_until_logins(process: subprocess.Popen[str], timeout: float) -> str:
    """The demo's output up to its last login line (the model load takes seconds); a
    thread reads it, so a line already buffered is never waited for."""
    assert process.stdout is not None
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout or ()), daemon=True)
    reader.start()
    deadline = time.monotonic() + timeout
    while not any(line.lstrip().startswith("admin ") for line in lines):
        if time.monotonic() > deadline or process.poll() is not None:
            raise AssertionError("the demo printed no logins:\n" + "".join(lines))
        time.sleep(0.1)
    return "".join(lines)


def test_the_demo_serves_the_web_app_with_a_login_per_role(page: Page, tmp_path: Path) -> None:
    command = [sys.executable, "-m", "mailbot", "demo", "--directory", str(tmp_path / "demo")]
    process = subprocess.Popen(
        [*command, "--port", str(_free_port())],
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output = _read_until_logins(process, timeout=120)
        address = re.search(r"serves the demo data on (http://127\.0\.0\.1:\d+/)", output)
        login = re.search(r"dpo +name (demo-dpo) +password (\S+)", output)
        assert address and login, output
        for role in ("compliance", "admin"):
            assert re.search(rf"{role} +name demo-{role} +password \S+", output)
        page.goto(address.group(1) + "signin")
        page.get_by_label("Name").fill(login.group(1))
        page.get_by_label("Password").fill(login.group(2))
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in").click()
        assert page.url == address.group(1) + "cases"
        queue = page.locator("table.queue tbody").inner_text()
        assert "triage" in queue and "awaiting approval" in queue
    finally:
        process.send_signal(signal.SIGINT)  # Ctrl-C
        try:
            process.wait(20)
        finally:
            process.kill()
    # 130: the shell's code for a program stopped by Ctrl-C; and no traceback.
    assert process.returncode in (0, 130)
