"""Settings every test shares: a data key, since mails are only ever stored sealed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mailbot.sealing import new_key_text

# One key per test session: a throwaway, like the synthetic mails it seals.
TEST_DATA_KEY = new_key_text()


@pytest.fixture(autouse=True)
def data_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("MAILBOT_DATA_KEY", TEST_DATA_KEY)
    yield TEST_DATA_KEY
