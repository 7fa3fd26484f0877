"""Settings: URLs as operators write them, and errors that say what to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailbot.config import ConfigError, load_settings, parse_imap_url, parse_smtp_url


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("MAILBOT_"):
            monkeypatch.delenv(name)


def test_imap_url_with_percent_encoded_credentials_and_folder() -> None:
    endpoint = parse_imap_url(
        "imaps://privacy%40jaimy.be:p%2Fw%40rd%25@mail.example.test/Privacy%20In"
    )
    assert endpoint.user == "privacy@jaimy.be"
    assert endpoint.password == "p/w@rd%"
    assert endpoint.folder == "Privacy In"
    assert endpoint.port == 993 and endpoint.tls
    assert "p/w" not in endpoint.label  # the label is stored and logged: no password


def test_imap_defaults() -> None:
    endpoint = parse_imap_url("imap://u:p@localhost")
    assert (endpoint.port, endpoint.folder, endpoint.tls) == (143, "INBOX", False)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://u:p@host/INBOX", "scheme must be imap or imaps"),
        ("imap://host/INBOX", "a user is required"),
        ("imap://u:p@/INBOX", "no host"),
    ],
)
def test_bad_imap_urls(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_imap_url(url)


def test_smtp_urls() -> None:
    plain = parse_smtp_url("smtp://relay.example.test:2525")
    assert (plain.host, plain.port, plain.implicit_tls, plain.user) == (
        "relay.example.test",
        2525,
        False,
        None,
    )
    tls = parse_smtp_url("smtps://bot%40jaimy.be:s3cret@relay.example.test")
    assert (tls.port, tls.implicit_tls, tls.user, tls.password) == (
        465,
        True,
        "bot@jaimy.be",
        "s3cret",
    )


def test_environment_errors_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILBOT_IMAP_URL", "pop3://u:p@host")
    monkeypatch.setenv("MAILBOT_TARGET_DAYS", "0")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert "MAILBOT_IMAP_URL" in message and "imap or imaps" in message
    assert "MAILBOT_TARGET_DAYS" in message


def test_toml_file_and_environment_override(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    file = tmp_path / "mailbot.toml"
    file.write_text(
        '[mailbot]\nsender = "dpo@example.test"\nreference_prefix = "ex-priv"\ntarget_days = 20\n'
    )
    monkeypatch.setenv("MAILBOT_TARGET_DAYS", "25")
    settings = load_settings(file)
    assert settings.sender == "dpo@example.test"
    assert settings.reference_prefix == "EX-PRIV"
    assert settings.target_days == 25


def test_unknown_setting_in_file_is_an_error(tmp_path: Path) -> None:
    file = tmp_path / "mailbot.toml"
    file.write_text('imap_ulr = "imap://u:p@h"\n')
    with pytest.raises(ConfigError, match="MAILBOT_IMAP_ULR"):
        load_settings(file)


def test_invalid_toml_is_reported(tmp_path: Path) -> None:
    file = tmp_path / "mailbot.toml"
    file.write_text("sender = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(file)


def test_worker_needs_exactly_one_source_and_smtp() -> None:
    settings = load_settings()
    with pytest.raises(ConfigError, match="exactly one mail source") as caught:
        settings.require_worker_settings()
    assert "MAILBOT_SMTP_URL" in str(caught.value)
    both = load_settings(imap_url="imap://u:p@h", maildir=Path("/tmp"), smtp_url="smtp://h")
    with pytest.raises(ConfigError, match="exactly one"):
        both.require_worker_settings()


def test_default_database_is_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    assert settings.effective_database_url == f"sqlite:///{tmp_path}/mailbot.sqlite3"


def test_unknown_setting_in_the_environment_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILBOT_DPO_ADRESS", "dpo@example.org")  # one d: a typo
    monkeypatch.setenv("MAILBOT_MODEL_DIR", "/tmp/model")  # read by the classifier: known
    with pytest.raises(ConfigError, match=r"MAILBOT_DPO_ADRESS: no such setting") as raised:
        load_settings()
    assert "MAILBOT_MODEL_DIR" not in str(raised.value)


def test_the_variables_read_outside_the_settings_are_the_ones_their_readers_use() -> None:
    """A variable the classifier or the command line reads must not be refused as a typo."""
    from typer.main import get_command

    from classifiers.encoder import BF16_ENV, MODEL_DIR_ENV
    from mailbot.cli import app
    from mailbot.config import OTHER_VARIABLES

    def envvars(command: object) -> set[str]:
        found = {
            name
            for parameter in getattr(command, "params", [])
            for name in ([parameter.envvar] if isinstance(parameter.envvar, str) else [])
        }
        for sub in getattr(command, "commands", {}).values():
            found |= envvars(sub)
        return found

    assert {MODEL_DIR_ENV, BF16_ENV} | envvars(get_command(app)) == OTHER_VARIABLES
