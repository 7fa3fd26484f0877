"""Staff accounts: add, list, disable, reset a password (`mailbot users ...`).

Disabling a member or resetting a password ends every session of theirs at once: a
laptop left signed in elsewhere stops working with the change.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select, update

from mailbot.cases.refused import Refused
from mailbot.staff.models import Role, StaffEvent, StaffMember, StaffSession
from mailbot.staff.passwords import hash_password


def add_member(
    session: Session, name: str, role: str, password: str, now: datetime, actor: str
) -> StaffMember:
    name = _checked_name(name)
    if role not in {r.value for r in Role}:
        raise Refused(f"no role {role!r}: use dpo, compliance or admin")
    if find_member(session, name) is not None:
        raise Refused(f"{name} exists already (reset-password changes a password)")
    member = StaffMember(
        name=name,
        role=role,
        password_hash=hash_password(password),
        created_at=now,
        password_changed_at=now,
    )
    session.add(member)
    session.flush()
    record(session, "member_added", actor, f"{name} ({role})", now)
    return member


def find_member(session: Session, name: str) -> StaffMember | None:
    return session.exec(select(StaffMember).where(StaffMember.name == name.strip())).first()


def members(session: Session) -> list[StaffMember]:
    return list(session.exec(select(StaffMember).order_by(col(StaffMember.name))).all())


def disable_member(session: Session, name: str, now: datetime, actor: str) -> StaffMember:
    member = _existing(session, name)
    if member.disabled_at is None:
        member.disabled_at = now
        session.add(member)
    end_sessions(session, member, now)
    record(session, "member_disabled", actor, member.name, now)
    return member


def reset_password(
    session: Session, name: str, password: str, now: datetime, actor: str
) -> StaffMember:
    member = _existing(session, name)
    member.password_hash = hash_password(password)
    member.password_changed_at = now
    member.disabled_at = None  # a reset is how a disabled member is let back in
    session.add(member)
    end_sessions(session, member, now)
    record(session, "password_reset", actor, member.name, now)
    return member


def record(session: Session, kind: str, actor: str, member: str, now: datetime) -> None:
    """A staff event; the CLI acts as "cli" unless told a name. The name is one line of
    printable characters: a newline in it would forge lines of the staff log."""
    if not actor.strip() or not actor.isprintable():
        raise Refused("a name (--as NAME) is one line of printable characters")
    session.add(StaffEvent(at=now, kind=kind, actor=actor[:200], member=member[:200]))


def recent_events(session: Session, limit: int = 100) -> list[StaffEvent]:
    query = select(StaffEvent).order_by(col(StaffEvent.id).desc()).limit(limit)
    return list(session.exec(query).all())


def end_sessions(session: Session, member: StaffMember, now: datetime) -> None:
    session.exec(
        update(StaffSession)
        .where(col(StaffSession.member_id) == member.id)
        .where(col(StaffSession.ended_at).is_(None))
        .values(ended_at=now)
    )


def _existing(session: Session, name: str) -> StaffMember:
    member = find_member(session, name)
    if member is None:
        raise Refused(f"no user {name.strip()!r}")
    return member


def _checked_name(name: str) -> str:
    """Names appear in the audit trail: printable, one line, not empty."""
    name = name.strip()
    if not name or len(name) > 200 or not name.isprintable():
        raise Refused("a user name is 1 to 200 printable characters on one line")
    return name
