"""Every act has one true actor: tokens owned by who uses them, approvals that stay with their requesters,
and the authorising officer's rank.

- `api_tokens` gains `scope` (what an owner-made token may do; NULL for sign-ins, which carry the whole role)
  and `role` (the owner's role when it was issued: a token dies when the role changes). Existing rows get
  their owner's current role. Long-lived API tokens made before this revision are revoked: an administrator
  could issue them for any account, so nobody can say who really holds them. Sign-ins (console, command
  line, `POST /api/login`, named as below) are kept.
- `users` gains `approval_requesters` (every administrator who asked for a pending privileged change; none
  may approve it), filled from `approval_requested_by`, and `rank`.
- `deployments` gains `authorised_rank`.

Created 2026-12-07.
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"

SIGN_INS = ("console session", "command-line session", "api login")  # token names of sign-ins, frozen here


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("scope", sa.String(20)))
        batch.add_column(sa.Column("role", sa.String(40)))
    op.execute("UPDATE api_tokens SET role = (SELECT users.role FROM users WHERE users.id = api_tokens.user_id)")
    names = ", ".join(f"'{n}'" for n in SIGN_INS)
    op.execute(f"UPDATE api_tokens SET revoked = true WHERE name NOT IN ({names})")
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("approval_requesters", sa.JSON, nullable=False, server_default="[]"))
        batch.add_column(sa.Column("rank", sa.String(40)))
    users = sa.table(
        "users",
        sa.column("id", sa.Integer),
        sa.column("approval_requested_by", sa.String),
        sa.column("approval_requesters", sa.JSON),
    )
    bind = op.get_bind()
    pending = bind.execute(sa.select(users.c.id, users.c.approval_requested_by).where(
        users.c.approval_requested_by.is_not(None))).all()  # fmt: skip
    for user_id, requester in pending:
        bind.execute(users.update().where(users.c.id == user_id).values(approval_requesters=[requester]))
    with op.batch_alter_table("deployments") as batch:
        batch.add_column(sa.Column("authorised_rank", sa.String(40)))


def downgrade() -> None:
    with op.batch_alter_table("deployments") as batch:
        batch.drop_column("authorised_rank")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("rank")
        batch.drop_column("approval_requesters")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("role")
        batch.drop_column("scope")
