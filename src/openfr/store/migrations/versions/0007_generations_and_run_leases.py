"""A generation counter per gallery (keys the in-memory and saved indexes) and a run lease per deployment
(one process runs a deployment's cameras; a stop or close from any process reaches it).

Created 2026-11-29.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    with op.batch_alter_table("galleries") as batch:
        batch.add_column(sa.Column("generation", sa.Integer, nullable=False, server_default="0"))
    with op.batch_alter_table("deployments") as batch:
        batch.add_column(sa.Column("run_owner", sa.String(64)))
        batch.add_column(sa.Column("run_heartbeat_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("stop_requested", sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("deployments") as batch:
        batch.drop_column("stop_requested")
        batch.drop_column("run_heartbeat_at")
        batch.drop_column("run_owner")
    with op.batch_alter_table("galleries") as batch:
        batch.drop_column("generation")
