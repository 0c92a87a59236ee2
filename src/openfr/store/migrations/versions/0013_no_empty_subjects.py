"""No empty subjects: a subject exists only while at least one of its images is enrolled.

Before this revision a failed enrolment (no face, below the quality gate) still created the subject, with its
name and watchlist category but no image, so people were listed who could never be matched. Those rows, and
the rejected-image records that hang off them, are deleted here. Rejected images were never stored
(`stored_path` is NULL), so no file is left behind. Plain SQL that SQLite and PostgreSQL both accept; the
explicit deletes do not rely on ON DELETE CASCADE, which SQLite enforces only with foreign keys switched on.
Watchlist history (`watchlist_members`) names subjects by reference and is kept.

Created 2026-11-30.
"""

from alembic import op

revision = "0013"
down_revision = "0012"

EMPTY_SUBJECTS = """
    SELECT s.id FROM subjects s
    WHERE NOT EXISTS (SELECT 1 FROM source_images i WHERE i.subject_id = s.id AND i.status = 'enrolled')
"""


def upgrade() -> None:
    op.execute(f"DELETE FROM templates WHERE subject_id IN ({EMPTY_SUBJECTS})")
    op.execute(f"DELETE FROM source_images WHERE subject_id IN ({EMPTY_SUBJECTS})")
    op.execute(f"DELETE FROM subjects WHERE id IN ({EMPTY_SUBJECTS})")


def downgrade() -> None:
    """Nothing to restore: the deleted subjects held no enrolled image and the schema is unchanged."""
