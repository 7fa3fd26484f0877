"""deploy/RUNBOOK.md stays true to the code: every command it tells an operator to run
exists, every setting it names is one, and every alert has its entry."""

from __future__ import annotations

import re
from pathlib import Path

import typer.main
import yaml

from mailbot.cli import app
from mailbot.config import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
RUNBOOK = (DEPLOY / "RUNBOOK.md").read_text("utf-8")
# Read from the environment by the parts outside Settings (README, "Configuration").
OUTSIDE_SETTINGS = {"MAILBOT_MODEL_DIR", "MAILBOT_ENCODER_BF16", "MAILBOT_ACTOR", "MAILBOT_CONFIG"}
# How the runbook calls the bot: the wrapper, the installed command, or in a container.
CALLS = re.compile(
    r"(?:mailbot-admin|/bin/mailbot|exec web mailbot|run --rm migrate\s+mailbot|`mailbot)"
    r"\s+([a-z][a-z-]*)(?:\s+([a-z][a-z-]*))?"
)


def test_every_command_the_runbook_gives_exists() -> None:
    commands = getattr(typer.main.get_command(app), "commands", {})  # typer's own click
    calls = CALLS.findall(RUNBOOK)
    assert len(calls) >= 15
    for first, second in calls:
        command = commands.get(first)
        assert command is not None, f"`mailbot {first}` in the runbook is no command"
        group = getattr(command, "commands", None)
        if group is not None and second:
            assert second in group, f"`mailbot {first} {second}` is no command"


def test_every_setting_the_runbook_names_is_one() -> None:
    named = set(re.findall(r"\bMAILBOT_[A-Z_]*[A-Z]\b", RUNBOOK))
    assert len(named) >= 8
    fields = {f"MAILBOT_{name.upper()}" for name in Settings.model_fields}
    assert named <= fields | OUTSIDE_SETTINGS, named - fields - OUTSIDE_SETTINGS


def test_every_alert_has_an_entry_saying_what_to_do() -> None:
    document = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text("utf-8"))
    alerts = [rule["alert"] for group in document["groups"] for rule in group["rules"]]
    for alert in alerts:
        assert re.search(rf"^\| {alert} \|[^|]+\|[^|]+\|$", RUNBOOK, re.MULTILINE), alert
