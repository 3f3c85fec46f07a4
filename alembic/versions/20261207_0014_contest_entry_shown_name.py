"""contest entry shown name: the name the public leaderboards show, kept at entry and at each submission

The board frozen at a contest's close is computed at the first read after the close; reading the learner's
name then showed a name changed after the close. Entries made before this revision keep NULL and the boards
fall back to the learner's current name for them.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contest_entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shown_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contest_entry", schema=None) as batch_op:
        batch_op.drop_column("shown_name")
