"""scorm attempt end: an attempt the SCO ended, and review sessions

SCORM 2004 ends a learner attempt when the SCO terminates with `cmi.exit` other than `suspend` (and either
version when its time limit with `exit,*` is reached): `scorm_attempt.ended_at` records it, and the next launch
starts a new attempt. When the attempt limit leaves none, the launch reopens the ended attempt for review
(`scorm_session.mode` = `review`, no credit), whose commits change nothing.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.models.base

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("scorm_attempt") as batch:
        batch.add_column(sa.Column("ended_at", app.models.base.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("scorm_session") as batch:
        batch.add_column(sa.Column("mode", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False,
                                   server_default="normal"))
    with op.batch_alter_table("scorm_session") as batch:
        batch.alter_column("mode", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("scorm_session") as batch:
        batch.drop_column("mode")
    with op.batch_alter_table("scorm_attempt") as batch:
        batch.drop_column("ended_at")
