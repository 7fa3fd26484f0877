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
    for unit in [*UNITS.glob("*.service"), *UNITS.glob("*.timer")]:
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


def test_the_example_settings_file_names_real_settings_and_leaves_the_credentials_alone() -> None:
    """mailbot.env.example is what an operator copies: each name must be a setting, and
    the key or token file set there would override the units' credentials."""
    lines = (UNITS / "mailbot.env.example").read_text("utf-8").splitlines()
    names = [line.split("=", 1)[0] for line in lines if line and not line.startswith("#")]
    assert names and all(name.startswith("MAILBOT_") for name in names)
    fields = set(Settings.model_fields)
    assert all(name.removeprefix("MAILBOT_").lower() in fields for name in names), names
    assert not {"MAILBOT_DATA_KEY_FILE", "MAILBOT_METRICS_TOKEN_FILE"} & set(names)
    for unit in UNITS.glob("*.service"):  # and every unit reads it
        assert "EnvironmentFile=/etc/privacy-mailbot/mailbot.env" in unit.read_text("utf-8")


def test_mailbot_admin_loads_the_units_settings_and_lets_the_caller_override_them(
    tmp_path: Path,
) -> None:
    """The runbook's commands go through deploy/mailbot-admin: it must give the bot the
    settings file and key the units use, and a setting on its command line must win (a
    restore with the key of before a rotation, a dry run against another database)."""
    import os

    etc, data = tmp_path / "etc", tmp_path / "data"
    etc.mkdir()
    script = (UNITS.parent / "mailbot-admin").read_text("utf-8")
    script = script.replace("/etc/privacy-mailbot", str(etc))
    script = script.replace("/var/lib/privacy-mailbot", str(data))
    script = script.replace(INSTALLED, str(Path(sys.prefix)))
    (tmp_path / "mailbot-admin").write_text(script, "utf-8")
    (etc / "mailbot.env").write_text(
        f"MAILBOT_DATABASE_URL=sqlite:///{tmp_path / 'from-file.sqlite3'}\n"
        'MAILBOT_SENDER_NAME="Jaimy Privacy"\n',
        "utf-8",
    )
    base = {k: v for k, v in os.environ.items() if not k.startswith("MAILBOT_")}

    def admin(*arguments: str, **given: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["sh", str(tmp_path / "mailbot-admin"), *arguments],
            env={**base, **given}, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    assert admin("keygen", str(etc / "data.key")).returncode == 0
    done = admin("migrate")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "from-file.sqlite3").exists()
    given = f"sqlite:///{tmp_path / 'given.sqlite3'}"
    done = admin("migrate", MAILBOT_DATABASE_URL=given)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "given.sqlite3").exists()
    refused = admin("status", MAILBOT_DATA_KEY_FILE=str(tmp_path / "no-such.key"))
    assert refused.returncode != 0 and "no-such.key" in refused.stderr + refused.stdout
