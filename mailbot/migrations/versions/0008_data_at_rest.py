"""data at rest: the data key's check value, and the keyed word index the queue finds
sealed requester names by

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-12

Values already stored in plaintext are sealed by the first start with the data key
(mailbot.store.sealed), which a migration does not hold.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mailbot.store.models

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UTC = mailbot.store.models.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "data_key_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("check_value", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", _UTC(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("privacy_case") as table:
        table.add_column(sa.Column("name_search", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("privacy_case") as table:
        table.drop_column("name_search")
    op.drop_table("data_key_check")
