"""a case's ID copy waiting for the DPO's eye, as a fact of its own

It was read from the status (awaiting identity, a copy received, no check), which a
case leaves without the check: the DPO rejecting the "not identified" closure while a
late card waited, or a reading that needs no check after all.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A document received, not yet checked, in a case not yet answered, that still holds a
# document the DPO can look at (a reading may have settled the copies since).
FILL_FROM_THE_OLD_RULE = (
    "UPDATE privacy_case SET id_copy_in_review = TRUE"
    " WHERE status NOT IN ('answered', 'closed')"
    " AND identity_verified IS NULL AND id_received_at IS NOT NULL"
    " AND EXISTS (SELECT 1 FROM attachment JOIN inbound_message"
    " ON attachment.inbound_id = inbound_message.id"
    " WHERE inbound_message.case_id = privacy_case.id AND attachment.purged_at IS NULL"
    " AND attachment.kind IN ('eid_front', 'passport', 'driving_licence', 'other_document'))"
)


def upgrade() -> None:
    with op.batch_alter_table("privacy_case") as batch:
        batch.add_column(
            sa.Column("id_copy_in_review", sa.Boolean(), nullable=False, server_default="0")
        )
    op.execute(FILL_FROM_THE_OLD_RULE)


def downgrade() -> None:
    with op.batch_alter_table("privacy_case") as batch:
        batch.drop_column("id_copy_in_review")
