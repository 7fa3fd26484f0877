"""Settings every test shares: a data key, since mails are only ever stored sealed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mailbot.sealing import new_key_text


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--screenshots",
        metavar="DIR",
        default=None,
        help="write screenshots of the web app's main pages into DIR (tests/browser; "
        "`make screenshots` writes docs/screenshots)",
    )


# One key per test session: a throwaway, like the synthetic mails it seals.
TEST_DATA_KEY = new_key_text()


@pytest.fixture(autouse=True)
def data_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("MAILBOT_DATA_KEY", TEST_DATA_KEY)
    yield TEST_DATA_KEY
