"""Staff tables: members with a role, their sessions, and failed sign-ins.

A session row holds the SHA-256 of the cookie's token, never the token itself: a copy
of the database does not let anyone sign in. Failed sign-ins are rows, not counters in
memory, so the throttle holds across web processes and restarts.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from mailbot.store.models import UTCDateTime, utcnow


class Role(StrEnum):
    """DESIGN.md's roles: what each person sees and may do."""

    DPO = "dpo"  # handles cases, reads mail text and (while pending) ID copies
    COMPLIANCE = "compliance"  # figures, references, dates; never personal data
    ADMIN = "admin"  # manages staff accounts; no case content


class StaffMember(SQLModel, table=True):
    __tablename__ = "staff_member"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=200)
    role: str = Field(max_length=20)
    password_hash: str = Field(max_length=200)
    disabled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    password_changed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class StaffSession(SQLModel, table=True):
    """One signed-in browser; ended by sign-out, idleness, age or the member's disabling."""

    __tablename__ = "staff_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, max_length=64)
    member_id: int = Field(foreign_key="staff_member.id", index=True)
    csrf_token: str = Field(max_length=64)
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # What the last action did, shown once on the next page (post, redirect, get).
    notice: str | None = Field(default=None, sa_type=Text)


class FailedSignIn(SQLModel, table=True):
    """A wrong name or password, by the name tried and the address it came from."""

    __tablename__ = "failed_sign_in"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, index=True)
    address: str = Field(max_length=64, index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class StaffEvent(SQLModel, table=True):
    """Who signed in or out and who changed which account: the staff side of the audit
    trail (case decisions are `CaseEvent`s under the same names)."""

    __tablename__ = "staff_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    kind: str = Field(max_length=40)  # signed_in, signed_out, member_added, ...
    actor: str = Field(max_length=200)
    member: str = Field(max_length=200)  # whose account
