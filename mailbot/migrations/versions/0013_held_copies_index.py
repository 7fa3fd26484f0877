"""held ID copies: an index to find them

The worker's round and each /metrics scrape look for the ID copies still held among
every attachment ever stored (kind, purged_at).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_attachment_kind_purged", "attachment", ["kind", "purged_at"])


def downgrade() -> None:
    op.drop_index("ix_attachment_kind_purged", table_name="attachment")
