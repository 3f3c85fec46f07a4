"""drop completion user index: the unique (user_id, course_id) already serves every lookup by learner

Every completion inserted a key into ix_completion_user_id, a random leaf of a 240 MB index at ten million
completions (a page read and a full-page WAL image per insert on a server whose cache does not hold it), for
lookups that uq_completion_user_id_course_id answers as well: user_id is its leading column. Dropped
CONCURRENTLY on PostgreSQL so completions are not locked out meanwhile.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_completion_user_id"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            op.drop_index(NAME, table_name="completion", postgresql_concurrently=True, if_exists=True)
    else:
        op.drop_index(NAME, table_name="completion")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {NAME}")  # an invalid one left by a failed build
            op.create_index(NAME, "completion", ["user_id"], postgresql_concurrently=True)
    else:
        op.create_index(NAME, "completion", ["user_id"])
