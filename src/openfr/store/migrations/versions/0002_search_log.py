"""Search log: who searched, why, when, and the candidates returned (no probe image or vector).

Created 2026-11-22.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table(
        "searches",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("mode", sa.String(10), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("crime_ref", sa.String(100)),
        sa.Column("gallery", sa.String(200), nullable=False),
        sa.Column("space", sa.String(100), nullable=False),
        sa.Column("probe_quality", sa.JSON),
        sa.Column("candidates", sa.JSON, nullable=False),
    )
    op.create_index("ix_searches_at", "searches", ["at"])


def downgrade() -> None:
    op.drop_table("searches")
