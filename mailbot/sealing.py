"""Mails and attachments at rest: sealed with AES-256-GCM under the deployment's data key.

Every stored raw mail and every kept attachment is personal data (an ID copy is the worst
of it), so the database only ever holds sealed bytes. A sealed value is
``MBS1 | key id (8 bytes) | nonce (12 bytes) | ciphertext+tag``; the associated data
binds it to its row (a mail's sealed bytes cannot be swapped into another row unnoticed).
The key id names the key that sealed a value, so a wrong key is a clear error, not
garbage. The key comes from MAILBOT_DATA_KEY (base64) or MAILBOT_DATA_KEY_FILE.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC: Final = b"MBS1"
KEY_BYTES: Final = 32
_NONCE_BYTES: Final = 12
_KEY_ID_BYTES: Final = 8
_HEADER: Final = len(MAGIC) + _KEY_ID_BYTES + _NONCE_BYTES
KEYGEN_HINT: Final = "create one with `mailbot keygen FILE` and set MAILBOT_DATA_KEY_FILE=FILE"


class SealingError(ValueError):
    """A key that cannot be used, or sealed bytes this key cannot open."""


class Sealer:
    """Seals and opens bytes with one AES-256-GCM key."""

    def __init__(self, key: bytes, source: str = "the data key") -> None:
        if len(key) != KEY_BYTES:
            raise SealingError(f"the data key must be {KEY_BYTES} bytes, got {len(key)}")
        self._aead = AESGCM(key)
        self.source = source  # where the key came from, for messages: a variable, a file
        self.key_id = hashlib.sha256(b"mailbot key id\0" + key).digest()[:_KEY_ID_BYTES]
        self._search_key = hashlib.sha256(b"mailbot search key\0" + key).digest()

    def search_token(self, word: str) -> str:
        """A keyed hash of one word (a requester's name), so a sealed value can be found
        by its words without storing them; without the key it tells nothing."""
        digest = hmac.new(self._search_key, word.encode("utf-8"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:12]).decode("ascii")

    def seal(self, plain: bytes, context: str) -> bytes:
        """`plain` sealed for the row named by `context` (e.g. "inbound:sha256:...")."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plain, context.encode("utf-8"))
        return MAGIC + self.key_id + nonce + sealed

    def open(self, sealed: bytes, context: str) -> bytes:
        """The plain bytes; SealingError when they are not ours, damaged or moved."""
        if not is_sealed(sealed):
            raise SealingError("not sealed data (stored before encryption, or damaged)")
        key_id = sealed[len(MAGIC) : len(MAGIC) + _KEY_ID_BYTES]
        if key_id != self.key_id:
            raise SealingError("sealed with another data key than the configured one")
        nonce = sealed[len(MAGIC) + _KEY_ID_BYTES : _HEADER]
        try:
            return self._aead.decrypt(nonce, sealed[_HEADER:], context.encode("utf-8"))
        except InvalidTag:
            message = f"sealed bytes of {context} are damaged or belong elsewhere"
            raise SealingError(message) from None


def is_sealed(data: bytes) -> bool:
    return data.startswith(MAGIC) and len(data) >= _HEADER + 16


def new_key_text() -> str:
    """A fresh random key as the text MAILBOT_DATA_KEY and key files hold."""
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def parse_key(text: str, where: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.strip().encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise SealingError(f"{where} is not a base64 key; {KEYGEN_HINT}") from None
    if len(key) != KEY_BYTES:
        raise SealingError(f"{where} holds {len(key)} bytes, not {KEY_BYTES}; {KEYGEN_HINT}")
    return key


def load_sealer(key_text: str | None, key_file: Path | None) -> Sealer:
    """The sealer for the configured key; SealingError naming the fix when there is none."""
    if key_text:
        return Sealer(parse_key(key_text, "MAILBOT_DATA_KEY"), "MAILBOT_DATA_KEY")
    if key_file is not None:
        try:
            text = key_file.expanduser().read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise SealingError(f"cannot read the data key file {key_file}: {exc}") from exc
        where = f"the data key file {key_file}"
        return Sealer(parse_key(text, where), where)
    raise SealingError(
        "no data key: mails and ID copies are stored encrypted; "
        f"{KEYGEN_HINT} (or MAILBOT_DATA_KEY=<base64 key>)"
    )


def write_key_file(path: Path) -> None:
    """A new key file readable by its owner only; never overwrites (that would lose data)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(new_key_text() + "\n")


class RotatingSealer(Sealer):
    """During a key rotation (`mailbot rekey`): seals and searches with the new key,
    opens what either key sealed, so the old key still opens what is not re-sealed yet."""

    def __init__(self, new: Sealer, old: Sealer) -> None:
        # Takes over the new key's ready state instead of deriving it again.
        self.__dict__.update(new.__dict__)
        self.old = old

    def open(self, sealed: bytes, context: str) -> bytes:
        if sealed[len(MAGIC) : len(MAGIC) + _KEY_ID_BYTES] == self.old.key_id:
            return self.old.open(sealed, context)
        return super().open(sealed, context)


def sealed_under(sealed: bytes, key_id: bytes) -> bool:
    """Whether `sealed` was sealed with the key of `key_id`."""
    return is_sealed(sealed) and sealed[len(MAGIC) : len(MAGIC) + _KEY_ID_BYTES] == key_id
