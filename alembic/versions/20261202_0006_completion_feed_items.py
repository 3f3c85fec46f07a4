"""completion feed items: each completion's feed line stored with it, and its current province indexed

A feed page rendered at read time looked up 1,000 learners' names one by one and built 1,000 JSON objects:
30–40 ms of PostgreSQL CPU a page at ten million completions, too much for the ministry's and the provinces'
systems reading different stretches at once (docs/benchmarks.md). `feed_item` holds the rendered line
(services/feed_items.py), so a page is a range scan and a concatenation. `current_province_code` is the unit a
completion counts for today; indexed with the feed order and the items, one province's feed is an index-only
range scan too, where the former codes it absorbed made it a filter over every province's rows (and reading
its rows from the heap cost a page read for each: 43 ms a page against 6 ms, docs/benchmarks.md).

Existing rows are rendered here with the application's own renderer (PostgreSQL set-based, SQLite in
batches), so they match what the write paths store from now on. On a large database the UPDATE rewrites the
table: run it in a maintenance window and VACUUM afterwards.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.models.base import UTCDateTime
from app.services.completion import feed_items

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_completion_province_feed"
BATCH = 1000

# As Geography.current_code: a code in force is its own unit (some codes were kept through the reform), a
# former one belongs to its successor, an unknown one to none.
CURRENT_CODE = """
UPDATE completion SET current_province_code = coalesce(
    (SELECT code FROM admin_unit WHERE code = completion.province_code AND valid_to IS NULL),
    (SELECT successor_code FROM admin_unit WHERE code = completion.province_code AND valid_to IS NOT NULL))
"""


# Completions had no assurance before 0009: items rendered here say "none", and 0012 writes the real level.
def _render_postgresql() -> None:
    columns = {name: f"c.{name}" for name in feed_items.FIELDS} | {"full_name": "u.full_name",
                                                                   "course_slug": "course.slug",
                                                                   "assurance": "'none'"}
    op.execute(f"UPDATE completion AS c SET feed_item = {feed_items.item_sql(**columns)} "
               "FROM user_account AS u, course WHERE u.id = c.user_id AND course.id = c.course_id")


def _render_sqlite() -> None:
    conn = op.get_bind()
    rows = sa.table("completion", sa.column("id", sa.Uuid), sa.column("user_id", sa.Uuid),
                    sa.column("course_id", sa.Uuid), sa.column("completed_at", UTCDateTime),
                    *(sa.column(name) for name in ("seq", "course_version", "audience", "province_code",
                                                   "current_province_code", "source", "client_id",
                                                   "external_ref", "feed_item")))
    users = sa.table("user_account", sa.column("id", sa.Uuid), sa.column("full_name"))
    courses = sa.table("course", sa.column("id", sa.Uuid), sa.column("slug"))
    query = (sa.select(rows.c.seq, rows.c.id, rows.c.user_id, users.c.full_name, rows.c.course_id, courses.c.slug,
                       rows.c.course_version, rows.c.audience, rows.c.province_code, rows.c.current_province_code,
                       rows.c.source, rows.c.client_id, rows.c.external_ref, rows.c.completed_at)
             .join(users, users.c.id == rows.c.user_id).join(courses, courses.c.id == rows.c.course_id)
             .where(rows.c.feed_item.is_(None)).order_by(rows.c.seq).limit(BATCH))
    while batch := conn.execute(query).all():
        conn.execute(sa.update(rows).where(rows.c.seq == sa.bindparam("b_seq")).values(
            feed_item=sa.bindparam("b_item")), [
            {"b_seq": r.seq, "b_item": feed_items.render(
                id=r.id, user_id=r.user_id, full_name=r.full_name, course_id=r.course_id, course_slug=r.slug,
                course_version=r.course_version, audience=r.audience, assurance="none",
                province_code=r.province_code,
                current_province_code=r.current_province_code, source=r.source, client_id=r.client_id,
                external_ref=r.external_ref, completed_at=r.completed_at)} for r in batch])


def upgrade() -> None:
    op.add_column("completion", sa.Column("current_province_code", sa.String(length=2), nullable=True))
    op.add_column("completion", sa.Column("feed_item", sa.Text(), nullable=True))
    op.execute(CURRENT_CODE)
    if op.get_bind().dialect.name == "postgresql":
        _render_postgresql()
    else:
        _render_sqlite()
    with op.batch_alter_table("completion") as batch:
        batch.alter_column("feed_item", existing_type=sa.Text(), nullable=False)
    op.create_index(INDEX, "completion", ["current_province_code", "txid", "seq"], postgresql_include=["feed_item"])


def downgrade() -> None:
    op.drop_index(INDEX, table_name="completion")
    with op.batch_alter_table("completion") as batch:
        batch.drop_column("feed_item")
        batch.drop_column("current_province_code")
