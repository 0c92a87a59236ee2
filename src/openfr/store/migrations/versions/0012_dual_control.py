"""Dual control of privileged accounts and first-sign-in password changes; room for encrypted TOTP secrets.

Accounts that exist already keep their passwords (nobody is forced to change one they chose); plain-text
TOTP secrets are encrypted by the application at its next start, since the key lives outside the database.

Created 2026-11-29.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("must_change_password", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("approval_requested_by", sa.String(100)))
        batch.add_column(sa.Column("approval_for", sa.String(40)))
        batch.alter_column("totp_secret", type_=sa.String(255), existing_type=sa.String(64))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.alter_column("totp_secret", type_=sa.String(64), existing_type=sa.String(255))
        batch.drop_column("approval_for")
        batch.drop_column("approval_requested_by")
        batch.drop_column("must_change_password")
