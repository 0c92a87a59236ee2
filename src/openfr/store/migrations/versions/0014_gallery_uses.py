"""Purpose limitation and operator-initiated searches: a gallery's approved uses, and what an OIFR search
records beyond a retrospective one.

`galleries.uses` is the JSON list of what a gallery's images may be used for (governance/uses.py). Galleries
that exist before this revision could be searched retrospectively and drawn on for live watchlists, so they
get exactly that, `["rfr", "live"]`: never `oifr`, which someone must approve for a gallery on purpose.

`searches` gains the approved grounds of an operator-initiated search, its location, and the officer's
recorded result (what, when, by whom): all nullable, empty for the searches made before.

Plain SQL that SQLite and PostgreSQL both accept (a JSON literal is a string on both).

Created 2026-12-01.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"

FORMER_USES = '["rfr", "live"]'  # governance.uses.FORMER_USES, frozen here as a migration must be


def upgrade() -> None:
    with op.batch_alter_table("galleries") as batch:
        batch.add_column(sa.Column("uses", sa.JSON, nullable=False, server_default="[]"))
    op.execute(f"UPDATE galleries SET uses = '{FORMER_USES}'")
    with op.batch_alter_table("searches") as batch:
        batch.add_column(sa.Column("grounds", sa.String(40)))
        batch.add_column(sa.Column("location", sa.Text))
        batch.add_column(sa.Column("result", sa.String(40)))
        batch.add_column(sa.Column("result_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("result_by", sa.String(200)))


def downgrade() -> None:
    with op.batch_alter_table("searches") as batch:
        for column in ("result_by", "result_at", "result", "location", "grounds"):
            batch.drop_column(column)
    with op.batch_alter_table("galleries") as batch:
        batch.drop_column("uses")
