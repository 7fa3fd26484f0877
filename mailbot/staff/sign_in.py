"""Signing in and out, and finding the member behind a session cookie.

`throttled` and `session_ended` are pure decisions on what the database holds; the
functions around them read and write it. A cookie carries a random token; the session
row keeps its SHA-256 and the CSRF token that every form of that session must return.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

from mailbot.cases.refused import Refused
from mailbot.staff.members import find_member, record
from mailbot.staff.models import FailedSignIn, StaffMember, StaffSession
from mailbot.staff.passwords import hash_password, needs_rehash, password_matches


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    idle: timedelta = timedelta(minutes=30)
    lifetime: timedelta = timedelta(hours=12)
    window: timedelta = timedelta(minutes=15)  # failed sign-ins are counted over this
    failures_per_name: int = 5
    failures_per_address: int = 20


class SignInRefused(Refused):
    """Wrong name or password, a disabled account, or too many failures."""


@dataclass(frozen=True, slots=True)
class SignedIn:
    member: StaffMember
    session: StaffSession


def throttled(by_name: int, by_address: int, policy: SessionPolicy) -> bool:
    """Too many recent failures for this name or from this address."""
    return by_name >= policy.failures_per_name or by_address >= policy.failures_per_address


def session_ended(
    row: StaffSession, member: StaffMember, now: datetime, policy: SessionPolicy
) -> bool:
    return (
        row.ended_at is not None
        or member.disabled_at is not None
        or now - row.last_seen_at > policy.idle
        or now - row.started_at > policy.lifetime
        or member.password_changed_at > row.started_at
    )


def sign_in(
    session: Session, name: str, password: str, address: str, now: datetime, policy: SessionPolicy
) -> tuple[str, SignedIn]:
    """The new session's cookie token and the session; SignInRefused with one message for
    every wrong name or password, so the answer does not tell which names exist."""
    name = name.strip()[:200]
    since = now - policy.window
    by_name = _count(session, col(FailedSignIn.name) == name, since)
    by_address = _count(session, col(FailedSignIn.address) == address, since)
    if throttled(by_name, by_address, policy):
        minutes = int(policy.window.total_seconds() // 60)
        raise SignInRefused(f"too many failed sign-ins; try again in {minutes} minutes")
    member = find_member(session, name) if name else None
    matches = password_matches(member.password_hash if member else None, password)
    if member is None or not matches or member.disabled_at is not None:
        session.add(FailedSignIn(name=name, address=address[:64], at=now))
        raise SignInRefused("wrong name or password")
    if needs_rehash(member.password_hash):
        member.password_hash = hash_password(password)
        session.add(member)
    token = secrets.token_urlsafe(32)
    row = StaffSession(
        token_hash=token_digest(token),
        member_id=member.id or 0,
        csrf_token=secrets.token_urlsafe(32),
        started_at=now,
        last_seen_at=now,
    )
    session.add(row)
    session.flush()
    record(session, "signed_in", member.name, member.name, now)
    return token, SignedIn(member, row)


def resume(session: Session, token: str, now: datetime, policy: SessionPolicy) -> SignedIn | None:
    """The member behind a cookie's token, or None when the session is over; a live
    session's idle timer restarts (written at most once a minute)."""
    row = session.exec(
        select(StaffSession).where(StaffSession.token_hash == token_digest(token))
    ).first()
    if row is None:
        return None
    member = session.get(StaffMember, row.member_id)
    if member is None or session_ended(row, member, now, policy):
        return None
    if now - row.last_seen_at > timedelta(minutes=1):
        row.last_seen_at = now
        session.add(row)
    return SignedIn(member, row)


def sign_out(session: Session, token: str, now: datetime) -> None:
    row = session.exec(
        select(StaffSession).where(StaffSession.token_hash == token_digest(token))
    ).first()
    if row is not None and row.ended_at is None:
        row.ended_at = now
        session.add(row)
        member = session.get(StaffMember, row.member_id)
        if member is not None:
            record(session, "signed_out", member.name, member.name, now)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _count(session: Session, matches: object, since: datetime) -> int:
    query = (
        select(func.count())
        .select_from(FailedSignIn)
        .where(matches)  # type: ignore[arg-type]
        .where(col(FailedSignIn.at) >= since)
    )
    return int(session.exec(query).one())
