"""scorm attempt limit: a SCORM 2004 item's imsss:limitConditions attemptLimit

A new attempt after a completed one is allowed only while the package's attempt limit is not reached; a
package without one allows as many as the learner asks for (the column stays empty).

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("scorm_sco", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempt_limit", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("scorm_sco", schema=None) as batch_op:
        batch_op.drop_column("attempt_limit")
