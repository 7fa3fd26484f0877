"""Run one piece of work with a time limit, so that one mail never holds up the others.

The work runs in a thread of its own; the caller waits at most the given seconds and
then raises OutOfTime. The thread is told to stop too: OutOfTime is raised inside it at
its next Python instruction, which ends the pure-Python parts (the email parser, the
screening), whereas a call into C (a regular expression, tesseract) ends first. Only
work without database writes runs this way: a thread that outlives its deadline can
then waste time, but never record anything about a mail already quarantined.

A memory budget would need a process per mail (resource limits apply to a whole
process) and a second copy of the classifier; the bounds checked before parsing
(`mailbot.mail.bounds`) are the defence against memory instead.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class OutOfTime(Exception):
    """The work took longer than its time limit."""


def within(seconds: float, work: Callable[[], T]) -> T:
    """`work()`'s result, or its exception; OutOfTime after `seconds`."""
    outcome: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(work())
        except BaseException as exc:  # handed to the caller, SystemExit included
            failure.append(exc)

    thread = threading.Thread(target=run, name="mailbot-deadline", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        _interrupt(thread)
        raise OutOfTime(f"took longer than {seconds:g} s")
    if failure:
        raise failure[0]
    return outcome[0]


def _interrupt(thread: threading.Thread) -> None:
    """Raise OutOfTime inside `thread` at its next Python instruction."""
    if thread.ident is not None:
        ctypes.pythonapi.PyThreadState_SetAsyncExc(
            ctypes.c_ulong(thread.ident), ctypes.py_object(OutOfTime)
        )
