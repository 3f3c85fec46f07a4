"""progress board: units below the provinces with yearly headcounts in versions and the unit each official is
counted under; contests with their entries and attempts

Completion rates (officials of a unit who completed ÷ its headcount) need the units, the headcounts and the
officials' units. The official's unit is a table of its own (`unit_official`), not a column of user_account:
adding a referencing column there would copy the table on SQLite (which refuses while completions point at it)
and index every account on PostgreSQL. Contests keep their own attempts (not quiz_attempt), so taking a
contest neither uses up a course quiz's attempts nor completes a lesson.

Revision ID: 0011
Revises: 0006
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

import app.models.base

revision: str = '0011'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('org_unit',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('province_code', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('name_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org_unit')),
    sa.UniqueConstraint('province_code', 'code', name=op.f('uq_org_unit_province_code_code'))
    )
    with op.batch_alter_table('org_unit', schema=None) as batch_op:
        batch_op.create_index('ix_org_unit_province_code_name_key', ['province_code', 'name_key'], unique=False)

    op.create_table('headcount_version',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('province_code', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('source_date', sa.Date(), nullable=False),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.Column('officials', sa.Integer(), nullable=False),
    sa.Column('uploaded_by', sa.Uuid(), nullable=True),
    sa.Column('uploaded_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['uploaded_by'], ['user_account.id'], name=op.f('fk_headcount_version_uploaded_by_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_headcount_version'))
    )
    with op.batch_alter_table('headcount_version', schema=None) as batch_op:
        batch_op.create_index('ix_headcount_version_province_code_year', ['province_code', 'year', 'uploaded_at'], unique=False)

    op.create_table('unit_official',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('unit_id', sa.Uuid(), nullable=False),
    sa.Column('attached_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('attached_by', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['attached_by'], ['user_account.id'], name=op.f('fk_unit_official_attached_by_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], name=op.f('fk_unit_official_unit_id_org_unit'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_unit_official_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_unit_official'))
    )
    with op.batch_alter_table('unit_official', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unit_official_unit_id'), ['unit_id'], unique=False)

    op.create_table('unit_headcount',
    sa.Column('version_id', sa.Uuid(), nullable=False),
    sa.Column('unit_id', sa.Uuid(), nullable=False),
    sa.Column('officials', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], name=op.f('fk_unit_headcount_unit_id_org_unit'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['version_id'], ['headcount_version.id'], name=op.f('fk_unit_headcount_version_id_headcount_version'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('version_id', 'unit_id', name=op.f('pk_unit_headcount'))
    )
    with op.batch_alter_table('unit_headcount', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unit_headcount_unit_id'), ['unit_id'], unique=False)

    op.create_table('contest',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('province_code', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
    sa.Column('quiz_id', sa.Uuid(), nullable=False),
    sa.Column('audience', sa.String(length=10), nullable=False),
    sa.Column('opens_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closes_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('max_attempts', sa.Integer(), nullable=False),
    sa.Column('time_limit_s', sa.Integer(), nullable=True),
    sa.Column('questions', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('frozen_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('frozen', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['user_account.id'], name=op.f('fk_contest_created_by_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['quiz_id'], ['quiz.id'], name=op.f('fk_contest_quiz_id_quiz'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contest'))
    )
    with op.batch_alter_table('contest', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contest_province_code'), ['province_code'], unique=False)

    op.create_table('contest_attempt',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('contest_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('layout', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('answers', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('started_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('deadline', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['contest_id'], ['contest.id'], name=op.f('fk_contest_attempt_contest_id_contest'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_contest_attempt_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contest_attempt')),
    sa.UniqueConstraint('contest_id', 'user_id', 'number', name=op.f('uq_contest_attempt_contest_id_user_id_number'))
    )
    with op.batch_alter_table('contest_attempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contest_attempt_contest_id'), ['contest_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contest_attempt_user_id'), ['user_id'], unique=False)
        batch_op.create_index('uq_contest_attempt_open', ['contest_id', 'user_id'], unique=True, sqlite_where=sa.text('submitted_at IS NULL'), postgresql_where=sa.text('submitted_at IS NULL'))

    op.create_table('contest_entry',
    sa.Column('contest_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('entered_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('province_code', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
    sa.Column('unit_id', sa.Uuid(), nullable=True),
    sa.Column('show_full_name', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['contest_id'], ['contest.id'], name=op.f('fk_contest_entry_contest_id_contest'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], name=op.f('fk_contest_entry_unit_id_org_unit'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_contest_entry_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('contest_id', 'user_id', name=op.f('pk_contest_entry'))
    )
    with op.batch_alter_table('contest_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contest_entry_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('contest_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contest_entry_user_id'))

    op.drop_table('contest_entry')
    with op.batch_alter_table('contest_attempt', schema=None) as batch_op:
        batch_op.drop_index('uq_contest_attempt_open', sqlite_where=sa.text('submitted_at IS NULL'), postgresql_where=sa.text('submitted_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_contest_attempt_user_id'))
        batch_op.drop_index(batch_op.f('ix_contest_attempt_contest_id'))

    op.drop_table('contest_attempt')
    with op.batch_alter_table('contest', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contest_province_code'))

    op.drop_table('contest')
    with op.batch_alter_table('unit_headcount', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unit_headcount_unit_id'))

    op.drop_table('unit_headcount')
    with op.batch_alter_table('unit_official', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unit_official_unit_id'))

    op.drop_table('unit_official')
    with op.batch_alter_table('headcount_version', schema=None) as batch_op:
        batch_op.drop_index('ix_headcount_version_province_code_year')

    op.drop_table('headcount_version')
    with op.batch_alter_table('org_unit', schema=None) as batch_op:
        batch_op.drop_index('ix_org_unit_province_code_name_key')

    op.drop_table('org_unit')
