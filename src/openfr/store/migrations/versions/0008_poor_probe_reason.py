"""Searches record why a probe that failed the quality gate was searched anyway.

Created 2026-11-29.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    with op.batch_alter_table("searches") as batch:
        batch.add_column(sa.Column("poor_probe_reason", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("searches") as batch:
        batch.drop_column("poor_probe_reason")
