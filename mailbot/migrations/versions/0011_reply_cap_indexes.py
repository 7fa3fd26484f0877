"""reply caps: a reply's domain as a column, and indexes for the daily counts

The per-address and per-domain daily caps counted the last day's replies at every
draft by scanning every reply ever sent (the domain through lower(to_address) LIKE).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbound_message") as batch:
        batch.add_column(
            sa.Column("to_domain", sa.String(length=320), nullable=False, server_default="")
        )
    connection = op.get_bind()
    replies = connection.execute(sa.text("SELECT id, to_address FROM outbound_message")).all()
    if replies:
        connection.execute(
            sa.text("UPDATE outbound_message SET to_domain = :domain WHERE id = :id"),
            [
                {"id": id_, "domain": address.rpartition("@")[2].casefold()}
                for id_, address in replies
            ],
        )
    op.create_index(
        "ix_outbound_message_to_address_created", "outbound_message", ["to_address", "created_at"]
    )
    op.create_index(
        "ix_outbound_message_to_domain_created", "outbound_message", ["to_domain", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_outbound_message_to_domain_created", table_name="outbound_message")
    op.drop_index("ix_outbound_message_to_address_created", table_name="outbound_message")
    with op.batch_alter_table("outbound_message") as batch:
        batch.drop_column("to_domain")
