"""user name covering index: learners' names read by id from the index alone

The completion feed joins every completion to its learner for `full_name`: 1,000 random lookups per page into
user_account, which at ten million learners is gigabytes of heap that no page cache of a reporting server
holds. With (id) INCLUDE (full_name) PostgreSQL answers the join with an index-only scan of an index a fraction
of the table's size (see docs/reporting.md). Built CONCURRENTLY on PostgreSQL so sign-ups are not locked out
while it builds. SQLite has no INCLUDE: it gets a plain index on id, which it never needs but which keeps the
schema equal to the models.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_user_account_id_full_name"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {NAME}")  # an invalid one left by a failed build
            op.create_index(NAME, "user_account", ["id"], postgresql_include=["full_name"],
                            postgresql_concurrently=True)
    else:
        op.create_index(NAME, "user_account", ["id"])


def downgrade() -> None:
    op.drop_index(NAME, table_name="user_account")
