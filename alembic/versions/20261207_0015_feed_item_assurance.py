"""feed item assurance: each completion's feed line carries the assurance level snapshotted on it

The completion feed and its CSV/XLSX exports serve the stored item (0006), so the level, recorded on the
completion since 0009, reaches them only once it is in the item. It goes right after `audience`, where the
application's renderer (services/completion/feed_items.py) puts it, so rewritten items are byte for byte what
the write paths store from now on. The edit is textual and the same on both databases: any level already there
(0006 writes "none" on a database migrated from scratch) is taken out, then the completion's own is put in.
On a large database the UPDATE rewrites the table: run it in a maintenance window and VACUUM afterwards.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEVELS = ("none", "phone", "partner", "eid")


def _without_assurance(item: str) -> str:
    """SQL taking `,"assurance":"<level>"` out of `item` (names are JSON-escaped, so only the key matches)."""
    for level in LEVELS:
        item = f"""replace({item}, ',"assurance":"{level}"', '')"""
    return item


def upgrade() -> None:
    bare = _without_assurance("feed_item")
    op.execute(f"""UPDATE completion SET feed_item = replace({bare}, '"audience":"' || audience || '",',
                   '"audience":"' || audience || '","assurance":"' || assurance || '",')""")


def downgrade() -> None:
    op.execute(f"UPDATE completion SET feed_item = {_without_assurance('feed_item')}")
