"""Accountability: two-person verification of alerts (deployment option; the second operator recorded), an
alert that replaces an earlier one of the same track (a clearly better shot of someone else), and a record of
who was on each deployment's watchlist that outlives the snapshot's biometrics (for subject access requests).

Created 2026-11-29.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"


def upgrade() -> None:
    with op.batch_alter_table("deployments") as batch:
        batch.add_column(sa.Column("two_person", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("watchlist_size", sa.Integer))
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("replaces_id", sa.Integer))
        batch.add_column(sa.Column("verified_by", sa.String(200)))
        batch.add_column(sa.Column("verified_at", sa.DateTime(timezone=True)))
    op.create_table(
        "watchlist_members",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("deployment_id", sa.Integer, sa.ForeignKey("deployments.id", ondelete="CASCADE"), index=True),
        sa.Column("subject_ref", sa.String(200), nullable=False, index=True),
        sa.Column("display_name", sa.String(300)),
        sa.Column("category", sa.String(100), nullable=False),
        sa.Column("gallery", sa.String(200), nullable=False),
        sa.Column("images", sa.Integer, nullable=False),
        sa.Column("listed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True)),
    )
    # Deployments authorised before this revision: their snapshot still names who was on it.
    op.execute(
        """
        INSERT INTO watchlist_members (deployment_id, subject_ref, display_name, category, gallery, images, listed_at)
        SELECT e.deployment_id, e.subject_ref, MAX(e.display_name), MAX(e.category), MAX(d.source_gallery),
               COUNT(*), MAX(d.authorised_at)
        FROM watchlist_entries e JOIN deployments d ON d.id = e.deployment_id
        WHERE d.authorised_at IS NOT NULL
        GROUP BY e.deployment_id, e.subject_ref
        """
    )


def downgrade() -> None:
    op.drop_table("watchlist_members")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("verified_at")
        batch.drop_column("verified_by")
        batch.drop_column("replaces_id")
    with op.batch_alter_table("deployments") as batch:
        batch.drop_column("watchlist_size")
        batch.drop_column("two_person")
