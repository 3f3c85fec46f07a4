"""scorm session superseded: a later launch of the same lesson closes the learner's other open sessions

An older tab or device could otherwise commit after a newer launch and overwrite its state; its commits are
refused (409, "launch again") once `superseded_at` is set.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("scorm_session", schema=None) as batch_op:
        batch_op.add_column(sa.Column("superseded_at", app.models.base.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("scorm_session", schema=None) as batch_op:
        batch_op.drop_column("superseded_at")
