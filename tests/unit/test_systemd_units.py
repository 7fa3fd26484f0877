"""deploy/systemd: `systemd-analyze verify` (Debian's systemd) accepts every unit without
a warning, each service is hardened, secrets come as credentials, and the worker is
watched (Type=notify, WatchdogSec=) with a watchdog longer than its quietest stretch."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mailbot.config import Settings

UNITS = Path(__file__).resolve().parents[2] / "deploy" / "systemd"
INSTALLED = "/opt/privacy-mailbot/.venv"
HARDENING = {
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "UMask": "0077",
    "StateDirectory": "privacy-mailbot",
    "StateDirectoryMode": "0700",
    "CapabilityBoundingSet": "",
    "LimitCORE": "0",
    "ProtectProc": "invisible",
}


def _unit(name: str) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(UNITS / name)
    return parser


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs Debian's systemd")
def test_systemd_analyze_verifies_every_unit_without_a_warning(tmp_path: Path) -> None:
    # The units name the installed virtual environment; here it is this one.
    for unit in UNITS.iterdir():
        text = unit.read_text("utf-8").replace(INSTALLED, str(Path(sys.prefix)))
        (tmp_path / unit.name).write_text(text, "utf-8")
    files = sorted(str(path) for path in tmp_path.iterdir())
    assert len(files) == 5
    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *files],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "", done.stderr  # an unknown key is only a warning


@pytest.mark.parametrize(
    "name",
    [
        "privacy-mailbot-migrate.service",
        "privacy-mailbot-worker.service",
        "privacy-mailbot-web.service",
        "privacy-mailbot-backup.service",
    ],
)
def test_every_service_is_hardened_and_gets_secrets_as_credentials(name: str) -> None:
    text = (UNITS / name).read_text("utf-8")
    service = dict(_unit(name)["Service"])
    for key, value in HARDENING.items():
        assert service.get(key) == value, (name, key)
    assert service["User"] == "mailbot"
    # Never a key or token in an environment value: files, loaded as credentials.
    assert not re.search(r"MAILBOT_(DATA_KEY|METRICS_TOKEN)=", text)
    if "MAILBOT_DATA_KEY_FILE" in text:
        assert "LoadCredential=data.key:" in text


def test_the_worker_is_watched_longer_than_its_quietest_stretch() -> None:
    service = dict(_unit("privacy-mailbot-worker.service")["Service"])
    assert (service["Type"], service["Restart"]) == ("notify", "always")
    minutes = re.fullmatch(r"(\d+)min", service["WatchdogSec"])
    assert minutes is not None
    settings = Settings()
    assert int(minutes.group(1)) * 60 >= settings.idle_seconds + settings.mail_seconds + 120


def test_the_timer_starts_the_backup_nightly() -> None:
    timer = dict(_unit("privacy-mailbot-backup.timer")["Timer"])
    assert timer["OnCalendar"].endswith("02:30:00") and timer["Persistent"] == "true"
