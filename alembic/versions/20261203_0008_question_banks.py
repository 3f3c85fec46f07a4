"""question banks from Moodle: category, text format and points of a question; matching pairs and numerical
answers on choices

GIFT and Moodle XML banks bring numerical, matching, essay and description questions (new `question.kind`
values; the column is a string, so no type change), a category per question, the format its texts are
written in (plain, markdown, html; rendered and sanitised before learners see them) and Moodle's default mark.
Existing questions become plain-text questions worth one point each, which is how they were graded.

Revision ID: 0008
Revises: 0011
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0008"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("question") as batch:
        batch.add_column(sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True))
        batch.add_column(sa.Column("format", sqlmodel.sql.sqltypes.AutoString(length=10),
                                   nullable=False, server_default="plain"))
        batch.add_column(sa.Column("points", sa.Float(), nullable=False, server_default="1"))
    with op.batch_alter_table("choice") as batch:
        batch.add_column(sa.Column("match_text", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch.add_column(sa.Column("value", sa.Float(), nullable=True))
        batch.add_column(sa.Column("tolerance", sa.Float(), nullable=True))
    # The defaults only filled existing rows; the application always writes these columns.
    with op.batch_alter_table("question") as batch:
        batch.alter_column("format", server_default=None)
        batch.alter_column("points", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("choice") as batch:
        batch.drop_column("tolerance")
        batch.drop_column("value")
        batch.drop_column("match_text")
    with op.batch_alter_table("question") as batch:
        batch.drop_column("points")
        batch.drop_column("format")
        batch.drop_column("category")
