"""Live facial recognition: deployments, watchlist snapshots and alerts.

Created 2026-11-22.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "deployments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("grounds", sa.Text, nullable=False),
        sa.Column("categories", sa.JSON, nullable=False),
        sa.Column("source_gallery", sa.String(200), nullable=False),
        sa.Column("location", sa.Text, nullable=False),
        sa.Column("location_rationale", sa.Text, nullable=False),
        sa.Column("starts_at", _TS, nullable=False),
        sa.Column("ends_at", _TS, nullable=False),
        sa.Column("cameras", sa.JSON, nullable=False),
        sa.Column("threshold", sa.Float, nullable=False),
        sa.Column("consistent_shots", sa.Integer, nullable=False),
        sa.Column("public_notice", sa.JSON, nullable=False),
        sa.Column("space", sa.String(100)),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("authorised_by", sa.String(200)),
        sa.Column("authorised_at", _TS),
        sa.Column("authorisation_note", sa.Text),
        sa.Column("live_at", _TS),
        sa.Column("closed_at", _TS),
        sa.Column("close_reason", sa.Text),
        sa.Column("snapshot_erased_at", _TS),
        sa.Column("counters", sa.JSON, nullable=False),
    )
    op.create_table(
        "watchlist_entries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("deployment_id", sa.Integer, sa.ForeignKey("deployments.id", ondelete="CASCADE"), nullable=False),
        sa.Column("subject_ref", sa.String(200), nullable=False),
        sa.Column("display_name", sa.String(300)),
        sa.Column("category", sa.String(100), nullable=False),
        sa.Column("legal_basis", sa.Text),
        sa.Column("source", sa.Text),
        sa.Column("image_sha256", sa.String(64), nullable=False),
        sa.Column("image_provenance", sa.Text, nullable=False),
        sa.Column("image_path", sa.String(300), nullable=False),
        sa.Column("space", sa.String(100), nullable=False),
        sa.Column("vector", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_watchlist_entries_deployment_id", "watchlist_entries", ["deployment_id"])
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("deployment_id", sa.Integer, sa.ForeignKey("deployments.id", ondelete="CASCADE"), nullable=False),
        sa.Column("entry_id", sa.Integer, sa.ForeignKey("watchlist_entries.id", ondelete="SET NULL")),
        sa.Column("subject_ref", sa.String(200), nullable=False),
        sa.Column("display_name", sa.String(300)),
        sa.Column("category", sa.String(100), nullable=False),
        sa.Column("camera", sa.String(200), nullable=False),
        sa.Column("track", sa.Integer, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("threshold", sa.Float, nullable=False),
        sa.Column("quality", sa.JSON, nullable=False),
        sa.Column("frame", sa.Integer, nullable=False),
        sa.Column("stream_time", sa.Float, nullable=False),
        sa.Column("first_usable_frame", sa.Integer, nullable=False),
        sa.Column("time_to_alert_ms", sa.Float, nullable=False),
        sa.Column("crop_path", sa.String(300)),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("adjudicated_by", sa.String(200)),
        sa.Column("adjudicated_at", _TS),
        sa.Column("outcome", sa.String(50)),
        sa.Column("outcome_note", sa.Text),
        sa.Column("outcome_by", sa.String(200)),
        sa.Column("outcome_at", _TS),
    )
    op.create_index("ix_alerts_deployment_id", "alerts", ["deployment_id"])
    op.create_index("ix_alerts_created_at", "alerts", ["created_at"])


def downgrade() -> None:
    op.drop_table("alerts")
    op.drop_table("watchlist_entries")
    op.drop_table("deployments")
