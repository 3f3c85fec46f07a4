"""job.outage: which dependency (database or storage) was down when a job last failed

A job that failed only because a dependency stayed down past its day of outage retries is not broken: the
housekeeping sweep re-queues such failures once they have cooled off (HOCSO_JOB_OUTAGE_REQUEUE_AFTER_S), and
`hocso jobs retry` re-queues any. The column tells those failures from real ones without parsing `error`.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("job") as batch:
        batch.add_column(sa.Column("outage", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("job") as batch:
        batch.drop_column("outage")
