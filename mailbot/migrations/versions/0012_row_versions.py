"""row versions: every update of a case or a reply names the version it read

Two writers (the DPO in the web app, the worker, a standby) could each decide on a case
or a reply from a read the other had just made stale, and the later write won. A
version column that SQLAlchemy checks and counts (version_id_col) turns that into a
refused write.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("privacy_case", "outbound_message")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("version")
