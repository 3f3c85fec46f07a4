"""video renditions and captions: the HLS ladder of each source video (by content hash), caption tracks

`video_encoding` is keyed by the source's SHA-256 and the ladder's version, so a re-imported or shared video
is transcoded once; `lesson_caption` links a video lesson to its WebVTT file (an asset) per language.
New tables only: nothing existing is rewritten.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.models.base import JSONType, UTCDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "video_encoding",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("ladder", sa.String(length=20), nullable=False),
        sa.Column("source_key", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("percent", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(), nullable=True),
        sa.Column("locked_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("renditions", JSONType, nullable=False),
        sa.Column("download_key", sa.String(length=500), nullable=True),
        sa.Column("download_size", sa.BigInteger(), nullable=True),
        sa.Column("cpu_s", sa.Float(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_video_encoding")),
        sa.UniqueConstraint("source_sha256", "ladder", name=op.f("uq_video_encoding_source_sha256_ladder")),
    )
    op.create_index(op.f("ix_video_encoding_status"), "video_encoding", ["status"])
    op.create_table(
        "lesson_caption",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("lesson_id", sa.Uuid(), nullable=False),
        sa.Column("language", sa.String(length=10), nullable=False),
        sa.Column("asset_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["asset_id"], ["asset.id"], name=op.f("fk_lesson_caption_asset_id_asset"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["lesson_id"], ["lesson.id"], name=op.f("fk_lesson_caption_lesson_id_lesson"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lesson_caption")),
        sa.UniqueConstraint("lesson_id", "language", name=op.f("uq_lesson_caption_lesson_id_language")),
    )
    op.create_index(op.f("ix_lesson_caption_asset_id"), "lesson_caption", ["asset_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_lesson_caption_asset_id"), table_name="lesson_caption")
    op.drop_table("lesson_caption")
    op.drop_index(op.f("ix_video_encoding_status"), table_name="video_encoding")
    op.drop_table("video_encoding")
