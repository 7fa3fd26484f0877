"""Assembling the bot from its settings: database, mail source, classifier, worker."""

from __future__ import annotations

import logging
import stat

from sqlalchemy import Engine

from classifiers import Classifier, load_classifier
from classifiers.trained import HEAD_FILE
from mailbot.cases.at_rest import seal_plaintext_columns
from mailbot.config import ConfigError, Settings
from mailbot.database import migrate, open_engine
from mailbot.mail.imap import ImapSource
from mailbot.mail.maildir import MaildirSource
from mailbot.mail.source import MailSource
from mailbot.model_files import ModelFiles
from mailbot.pipeline import Bot
from mailbot.sealing import Sealer, SealingError
from mailbot.store.keycheck import check_data_key
from mailbot.store.models import bind_sealer
from mailbot.worker import Worker

log = logging.getLogger(__name__)


def open_database(settings: Settings) -> Engine:
    """The migrated database; with a data key configured, checked against it and used for
    its sealed columns (ConfigError naming the fix when it is another key's database)."""
    engine = open_engine(settings.effective_database_url)
    migrate(engine)
    if settings.data_key or settings.data_key_file:
        open_sealer(settings, engine)
    return engine


def open_sealer(settings: Settings, engine: Engine) -> Sealer:
    """The data key's sealer, once the database's key check says it is the right key;
    ConfigError naming the key in use and what to do otherwise."""
    sealer = settings.sealer()
    if (warning := key_file_warning(settings)) is not None:
        log.warning("%s", warning)
    try:
        check_data_key(engine, sealer)
    except SealingError as exc:
        raise ConfigError(str(exc)) from exc
    bind_sealer(engine, sealer)
    return sealer


def key_file_warning(settings: Settings) -> str | None:
    """What to say when the data key file can be read by others than its owner."""
    if settings.data_key or settings.data_key_file is None:
        return None
    path = settings.data_key_file.expanduser()
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None  # settings.sealer() says what is wrong with it
    if not mode & 0o077:
        return None
    return (
        f"the data key file {path} can be read by others than its owner (mode {mode:04o}): "
        f"whoever reads it opens every stored mail and ID copy; chmod 600 {path}"
    )


def open_source(settings: Settings) -> MailSource:
    if settings.imap is not None:
        return ImapSource(
            settings.imap, settings.tls_ca_file, settings.poll_seconds, settings.imap_history
        )
    if settings.maildir is not None:
        return MaildirSource(settings.maildir, settings.poll_seconds)
    raise ValueError("no mail source configured: set MAILBOT_IMAP_URL or MAILBOT_MAILDIR")


def load_classifier_for(settings: Settings) -> Classifier:
    """The configured classifier; the trained one with the head this installation put in
    use (mailbot.model_files), the packaged head otherwise."""
    head = model_files(settings).head_in_use()
    if settings.classifier == "e5" and head != HEAD_FILE:
        from classifiers.trained import load_trained_classifier

        return load_trained_classifier(settings.model, head)
    return load_classifier(settings.classifier, settings.model)


def model_files(settings: Settings) -> ModelFiles:
    return ModelFiles(settings.data_path / "model")


def open_worker(settings: Settings) -> Worker:
    engine = open_database(settings)
    sealer = open_sealer(settings, engine)  # before the model load: a wrong key fails fast
    seal_plaintext_columns(engine)
    bot = Bot(settings=settings, classifier=load_classifier_for(settings), sealer=sealer)
    return Worker(engine, open_source(settings), bot)
