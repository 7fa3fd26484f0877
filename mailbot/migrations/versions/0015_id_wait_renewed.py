"""when the DPO chose to wait longer for an ID copy instead of closing the case

A case whose "not identified" closure the DPO rejected went on with its clock paused
and nothing left to count: no closure was ever drafted again. The clock now counts a
new wait from this moment.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import mailbot.store.models

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UTC = mailbot.store.models.UTCDateTime


# Cases the DPO already let wait longer (a rejected closure, still no copy, no check):
# their new wait starts at the upgrade, so the first round after it does not draft the
# closure again hours after the DPO declined it.
RENEWED_BEFORE = sa.and_(
    sa.column("status").in_(["in_progress", "awaiting_approval"]),
    sa.column("id_requested_at").is_not(None),
    sa.column("id_received_at").is_(None),
    sa.column("identity_verified").is_(None),
    sa.text(
        "EXISTS (SELECT 1 FROM outbound_message WHERE outbound_message.case_id ="
        " privacy_case.id AND outbound_message.kind = 'not_identified'"
        " AND outbound_message.status = 'rejected')"
    ),
)


def renew_the_waits_before(now: datetime) -> sa.Update:
    cases = sa.table("privacy_case", sa.column("id_wait_renewed_at", _UTC()))
    return cases.update().where(RENEWED_BEFORE).values(id_wait_renewed_at=now)


def upgrade() -> None:
    with op.batch_alter_table("privacy_case") as batch:
        batch.add_column(sa.Column("id_wait_renewed_at", _UTC(), nullable=True))
    op.execute(renew_the_waits_before(datetime.now(UTC)))


def downgrade() -> None:
    with op.batch_alter_table("privacy_case") as batch:
        batch.drop_column("id_wait_renewed_at")
