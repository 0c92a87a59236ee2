"""Identity store: galleries, subjects, source images, templates (+ pgvector HNSW on PostgreSQL).

Created 2026-11-22.
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None

# Embedding sizes of the packs openfr ships; each gets its own partial HNSW index on PostgreSQL, because an
# HNSW index needs a fixed dimension while one templates table serves every pack.
PG_INDEXED_DIMS = (512, 128)


def upgrade() -> None:
    op.create_table(
        "galleries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column("space", sa.String(100), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "subjects",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("gallery_id", sa.Integer, sa.ForeignKey("galleries.id", ondelete="CASCADE"), nullable=False),
        sa.Column("external_id", sa.String(200), nullable=False),
        sa.Column("display_name", sa.String(300)),
        sa.Column("category", sa.String(100)),
        sa.Column("legal_basis", sa.Text),
        sa.Column("source", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("gallery_id", "external_id"),
    )
    op.create_index("ix_subjects_gallery_id", "subjects", ["gallery_id"])
    op.create_table(
        "source_images",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("subject_id", sa.Integer, sa.ForeignKey("subjects.id", ondelete="CASCADE"), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("stored_path", sa.String(300)),
        sa.Column("original_name", sa.Text, nullable=False),
        sa.Column("provenance", sa.Text, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reject_reason", sa.Text),
        sa.Column("quality", sa.JSON),
        sa.Column("width", sa.Integer),
        sa.Column("height", sa.Integer),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("subject_id", "sha256"),
    )
    op.create_index("ix_source_images_subject_id", "source_images", ["subject_id"])
    op.create_index("ix_source_images_sha256", "source_images", ["sha256"])
    op.create_table(
        "templates",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("image_id", sa.Integer, sa.ForeignKey("source_images.id", ondelete="CASCADE"), nullable=False),
        sa.Column("subject_id", sa.Integer, sa.ForeignKey("subjects.id", ondelete="CASCADE"), nullable=False),
        sa.Column("gallery_id", sa.Integer, sa.ForeignKey("galleries.id", ondelete="CASCADE"), nullable=False),
        sa.Column("space", sa.String(100), nullable=False),
        sa.Column("dim", sa.Integer, nullable=False),
        sa.Column("vector", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("image_id", "space"),
    )
    for column in ("image_id", "subject_id", "gallery_id"):
        op.create_index(f"ix_templates_{column}", "templates", [column])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS vector")
        op.execute("ALTER TABLE templates ADD COLUMN embedding halfvec")
        for dim in PG_INDEXED_DIMS:
            op.execute(
                f"CREATE INDEX ix_templates_hnsw_{dim} ON templates "
                f"USING hnsw ((embedding::halfvec({dim})) halfvec_cosine_ops) WHERE dim = {dim}"
            )


def downgrade() -> None:
    for table in ("templates", "source_images", "subjects", "galleries"):
        op.drop_table(table)
