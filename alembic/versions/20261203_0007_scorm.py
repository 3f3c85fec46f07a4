"""scorm: SCO of each `scorm` lesson, attempts, sessions, interactions, objectives; import notices

SCORM packages import as courses whose lessons launch SCOs (docs/scorm.md). `scorm_sco` holds what the
manifest said about each SCO; `scorm_attempt` the learner's CMI state per lesson key (so it carries over to
new versions, like lesson progress), `scorm_session` each launch (its commit sequence makes commits
idempotent), and the interactions and objectives a SCO reports. `import_job.notices` lists what an import
ignored or assumed (SCORM sequencing rules, a guessed version), each with its file and line; `options` holds
what a SCORM package does not say (slug, audiences, language, certificate, estimated minutes).

Revision ID: 0007
Revises: 0008
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

import app.models.base

revision: str = '0007'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('scorm_attempt',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('course_id', sa.Uuid(), nullable=False),
    sa.Column('lesson_key', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('completion_status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('success_status', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('lesson_status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('score_raw', sa.Float(), nullable=True),
    sa.Column('score_scaled', sa.Float(), nullable=True),
    sa.Column('progress_measure', sa.Float(), nullable=True),
    sa.Column('exit', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
    sa.Column('cmi', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('total_time_s', sa.Float(), nullable=False),
    sa.Column('completed_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_scorm_attempt_course_id_course'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_scorm_attempt_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scorm_attempt')),
    sa.UniqueConstraint('user_id', 'course_id', 'lesson_key', 'number', name=op.f('uq_scorm_attempt_user_id_course_id_lesson_key_number'))
    )
    with op.batch_alter_table('scorm_attempt', schema=None) as batch_op:
        batch_op.create_index('ix_scorm_attempt_course_lesson', ['course_id', 'lesson_key'], unique=False)

    op.create_table('scorm_interaction',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('attempt_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('identifier', sa.Text(), nullable=False),
    sa.Column('type', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('result', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('learner_response', sa.Text(), nullable=True),
    sa.Column('weighting', sa.Float(), nullable=True),
    sa.Column('latency_s', sa.Float(), nullable=True),
    sa.Column('timestamp', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=250), nullable=True),
    sa.ForeignKeyConstraint(['attempt_id'], ['scorm_attempt.id'], name=op.f('fk_scorm_interaction_attempt_id_scorm_attempt'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scorm_interaction')),
    sa.UniqueConstraint('attempt_id', 'position', name=op.f('uq_scorm_interaction_attempt_id_position'))
    )
    op.create_table('scorm_objective',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('attempt_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('identifier', sa.Text(), nullable=False),
    sa.Column('success_status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('completion_status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('score_raw', sa.Float(), nullable=True),
    sa.Column('score_scaled', sa.Float(), nullable=True),
    sa.Column('progress_measure', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['attempt_id'], ['scorm_attempt.id'], name=op.f('fk_scorm_objective_attempt_id_scorm_attempt'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scorm_objective')),
    sa.UniqueConstraint('attempt_id', 'position', name=op.f('uq_scorm_objective_attempt_id_position'))
    )
    op.create_table('scorm_sco',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('lesson_id', sa.Uuid(), nullable=False),
    sa.Column('version_id', sa.Uuid(), nullable=False),
    sa.Column('identifier', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('scorm_version', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('scorm_type', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
    sa.Column('content_prefix', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('launch_path', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('launch_query', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('mastery_score', sa.Float(), nullable=True),
    sa.Column('launch_data', sa.Text(), nullable=True),
    sa.Column('max_time_allowed', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
    sa.Column('time_limit_action', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('completion_threshold', sa.Float(), nullable=True),
    sa.Column('scaled_passing_score', sa.Float(), nullable=True),
    sa.Column('completion_rule', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.ForeignKeyConstraint(['lesson_id'], ['lesson.id'], name=op.f('fk_scorm_sco_lesson_id_lesson'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['version_id'], ['course_version.id'], name=op.f('fk_scorm_sco_version_id_course_version'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scorm_sco')),
    sa.UniqueConstraint('lesson_id', name=op.f('uq_scorm_sco_lesson_id'))
    )
    with op.batch_alter_table('scorm_sco', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scorm_sco_version_id'), ['version_id'], unique=False)

    op.create_table('scorm_session',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('attempt_id', sa.Uuid(), nullable=False),
    sa.Column('lesson_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('started_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('committed_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('terminated_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.Column('commits', sa.Integer(), nullable=False),
    sa.Column('session_time_s', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['attempt_id'], ['scorm_attempt.id'], name=op.f('fk_scorm_session_attempt_id_scorm_attempt'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['lesson_id'], ['lesson.id'], name=op.f('fk_scorm_session_lesson_id_lesson'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_scorm_session_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scorm_session'))
    )
    with op.batch_alter_table('scorm_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scorm_session_attempt_id'), ['attempt_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_scorm_session_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('import_job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notices', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('options', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False, server_default='{}'))



def downgrade() -> None:
    with op.batch_alter_table('import_job', schema=None) as batch_op:
        batch_op.drop_column('options')
        batch_op.drop_column('notices')

    with op.batch_alter_table('scorm_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scorm_session_user_id'))
        batch_op.drop_index(batch_op.f('ix_scorm_session_attempt_id'))

    op.drop_table('scorm_session')
    with op.batch_alter_table('scorm_sco', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scorm_sco_version_id'))

    op.drop_table('scorm_sco')
    op.drop_table('scorm_objective')
    op.drop_table('scorm_interaction')
    with op.batch_alter_table('scorm_attempt', schema=None) as batch_op:
        batch_op.drop_index('ix_scorm_attempt_course_lesson')

    op.drop_table('scorm_attempt')
