"""Recovery of running deployments: whether the cameras are wanted running (a restarted server resumes them),
the current run's counters checkpointed while it runs, and a version of the watchlist snapshot (a subject
deleted from the gallery leaves every snapshot at once; running cameras reload it).

Created 2026-11-29.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"


def upgrade() -> None:
    with op.batch_alter_table("deployments") as batch:
        batch.add_column(sa.Column("run_wanted", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("run_counters", sa.JSON))
        batch.add_column(sa.Column("watchlist_version", sa.Integer, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("deployments") as batch:
        batch.drop_column("watchlist_version")
        batch.drop_column("run_counters")
        batch.drop_column("run_wanted")
