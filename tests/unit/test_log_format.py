"""The JSON log lines: one object per record; an exception by its type only, unless the
operator asked for DEBUG (its text can quote a mail)."""

from __future__ import annotations

import json
import logging
import sys

from mailbot.log_format import JsonLines


def _record(level: int) -> logging.LogRecord:
    try:
        raise ValueError("Subject: delete anna@example.org")
    except ValueError:
        info = sys.exc_info()
    return logging.LogRecord("mailbot.pending", level, __file__, 1, "mail %s failed", (7,), info)


def test_an_exception_is_named_by_its_type_at_warning() -> None:
    line = JsonLines().format(_record(logging.WARNING))
    assert "\n" not in line
    event = json.loads(line)
    assert event["message"] == "mail 7 failed" and event["level"] == "WARNING"
    assert event["exception"] == "ValueError" and "traceback" not in event
    assert "anna@example.org" not in line


def test_debug_carries_the_traceback() -> None:
    event = json.loads(JsonLines().format(_record(logging.DEBUG)))
    assert "ValueError: Subject: delete anna@example.org" in event["traceback"]
