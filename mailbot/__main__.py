"""`python -m mailbot` is the `mailbot` command."""

from mailbot.cli import app

app()
