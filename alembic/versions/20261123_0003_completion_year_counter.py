"""completion year counter: completions per (local year, audience, province), backfilled from the day buckets

The national summary summed a whole year of day buckets (days × provinces × courses × audiences, about 1.2
million rows at ten million completions) on every request; this roll-up answers it from ~130 rows. The
backfill sums the existing day buckets, which `hocso counters verify` keeps equal to the completions.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# `day` is already the local (Asia/Ho_Chi_Minh) day, so its calendar year is the local year.
YEAR_OF_DAY = {
    "postgresql": "CAST(EXTRACT(YEAR FROM day) AS INTEGER)",
    "sqlite": "CAST(strftime('%Y', day) AS INTEGER)",
}


def upgrade() -> None:
    op.create_table('completion_year_counter',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('audience', sa.String(length=10), nullable=False),
    sa.Column('province_code', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_completion_year_counter')),
    sa.UniqueConstraint('year', 'audience', 'province_code',
                        name=op.f('uq_completion_year_counter_year_audience_province_code'))
    )
    year = YEAR_OF_DAY[op.get_bind().dialect.name]
    op.execute(
        "INSERT INTO completion_year_counter (year, audience, province_code, count) "
        f"SELECT {year}, audience, province_code, SUM(count) FROM completion_counter "
        f"GROUP BY {year}, audience, province_code"
    )


def downgrade() -> None:
    op.drop_table('completion_year_counter')
