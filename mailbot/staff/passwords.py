"""Password hashing with argon2id (argon2-cffi's defaults follow RFC 9106's second
recommendation); verification in constant time, with a rehash when the parameters age."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from mailbot.cases.refused import Refused

_HASHER = PasswordHasher()
MIN_LENGTH = 12

# Verifying against this when the name is unknown costs the same time as a real check,
# so response times do not tell which names exist.
_DECOY = _HASHER.hash("not a password of anyone's")


class WeakPassword(Refused):
    """The password is too short to protect personal data."""


def hash_password(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"a password needs at least {MIN_LENGTH} characters")
    return _HASHER.hash(password)


def password_matches(stored_hash: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(stored_hash or _DECOY, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _HASHER.check_needs_rehash(stored_hash)
