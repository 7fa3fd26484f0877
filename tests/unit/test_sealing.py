"""Mails at rest: sealed, bound to their row, and unreadable without the right key."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from mailbot.config import ConfigError, load_settings
from mailbot.sealing import Sealer, SealingError, load_sealer, new_key_text, write_key_file

MAIL = b"From: someone@example.org\r\nSubject: ID copy\r\n\r\nmy card is attached\r\n"


def sealer() -> Sealer:
    return load_sealer(new_key_text(), None)


def test_sealed_bytes_open_to_the_original_and_hide_it() -> None:
    one = sealer()
    sealed = one.seal(MAIL, "inbound:1")
    assert b"card" not in sealed and one.open(sealed, "inbound:1") == MAIL
    assert one.seal(MAIL, "inbound:1") != sealed  # a fresh nonce every time


def test_another_key_is_refused_by_name() -> None:
    with pytest.raises(SealingError, match="another data key"):
        sealer().open(sealer().seal(MAIL, "inbound:1"), "inbound:1")


def test_bytes_moved_to_another_row_or_changed_do_not_open() -> None:
    one = sealer()
    sealed = one.seal(MAIL, "inbound:1")
    with pytest.raises(SealingError, match="damaged or belong elsewhere"):
        one.open(sealed, "inbound:2")
    with pytest.raises(SealingError):
        one.open(sealed[:-1] + bytes([sealed[-1] ^ 1]), "inbound:1")
    with pytest.raises(SealingError, match="not sealed"):
        one.open(MAIL, "inbound:1")


def test_without_a_key_the_error_says_how_to_make_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MAILBOT_DATA_KEY")
    with pytest.raises(ConfigError, match="mailbot keygen"):
        load_settings().sealer()


@pytest.mark.parametrize("text", ["not base64 at all!", "c2hvcnQ="])
def test_a_malformed_key_is_a_clear_error(text: str) -> None:
    with pytest.raises(SealingError, match="MAILBOT_DATA_KEY"):
        load_sealer(text, None)


def test_key_file_is_private_and_never_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "data.key"
    write_key_file(key_file)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    with pytest.raises(FileExistsError):
        write_key_file(key_file)
    monkeypatch.delenv("MAILBOT_DATA_KEY")
    from_file = load_settings(data_key_file=key_file).sealer()
    assert from_file.open(from_file.seal(MAIL, "x"), "x") == MAIL
