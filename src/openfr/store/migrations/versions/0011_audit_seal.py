"""Audit seal: each event carries an HMAC of its hash under a key kept outside the database, so a rewrite
of the chain by someone without the key is detected. Events written before the key existed stay unsealed
(the checkpoints record where sealing began).

Created 2026-11-29.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"


def upgrade() -> None:
    op.add_column("audit_events", sa.Column("seal", sa.String(64)))  # plain ADD COLUMN: the triggers stay


def downgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("seal")
