"""identity assurance: e-ID sign-ins, phone codes, and the assurance of accounts, completions and counters

Accounts and completions gain `assurance` (none | phone | partner | eid). Existing accounts that a partner
named by national ID (the only way a national ID reached HocSo before) become `partner`; existing
completions take `partner` when a partner reported them for such an account, `none` otherwise. The counter
buckets gain assurance in their keys: existing ones become `none`, and the partner completions' counts move
to `partner` buckets (set-based; only partner completions are read).

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.models.base import JSONType, UTCDateTime

revision: str = "0009"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEVEL = dict(type_=sa.String(10), nullable=False, server_default="none")
BUCKETS = {  # table: (old unique key, new unique key)
    "completion_counter": (("day", "audience", "province_code", "course_id"),
                           ("day", "audience", "province_code", "course_id", "assurance")),
    "completion_year_counter": (("year", "audience", "province_code"),
                                ("year", "audience", "province_code", "assurance")),
    "learner_counter": (("year", "audience", "province_code"), ("year", "audience", "province_code", "assurance")),
}


def _uq(table: str, columns: Sequence[str]) -> str:
    """The old keys' names (from the naming convention); the new keys are named shorter, as PostgreSQL cuts
    names at 63 characters."""
    return f"uq_{table}_bucket" if "assurance" in columns else f"uq_{table}_{'_'.join(columns)}"


def _local(dialect: str, column: str) -> tuple[str, str]:
    """(local day, local year) of a UTC timestamp column in Asia/Ho_Chi_Minh, as services/dialect.py has them."""
    if dialect == "postgresql":
        return (f"CAST(timezone('Asia/Ho_Chi_Minh', {column}) AS DATE)",
                f"CAST(EXTRACT(YEAR FROM timezone('Asia/Ho_Chi_Minh', {column})) AS INTEGER)")
    return f"date({column}, '+7 hours')", f"CAST(strftime('%Y', {column}, '+7 hours') AS INTEGER)"


def _shift_to_partner(table: str, keys: Sequence[str], partner_counts: str) -> None:
    """Existing buckets all became `none`; move the counts of `partner` completions into `partner` buckets
    (stored counts are kept as they are otherwise, so a bucket that disagreed still shows in `verify`)."""
    columns = ", ".join(keys)
    match = " AND ".join(f"p.{k} = {table}.{k}" for k in keys)
    op.execute(f"INSERT INTO {table} ({columns}, assurance, count) "
               f"SELECT {columns}, 'partner', n FROM ({partner_counts}) AS p")
    op.execute(f"UPDATE {table} SET count = count - (SELECT p.n FROM ({partner_counts}) AS p WHERE {match}) "
               f"WHERE assurance = 'none' AND EXISTS (SELECT 1 FROM ({partner_counts}) AS p WHERE {match})")
    op.execute(f"DELETE FROM {table} WHERE assurance = 'none' AND count = 0")


def _split_buckets(dialect: str) -> None:
    day, year = _local(dialect, "completed_at")
    province = "coalesce(province_code, '')"
    partner = "FROM completion WHERE assurance = 'partner'"
    _shift_to_partner("completion_counter", BUCKETS["completion_counter"][0],
                      f"SELECT {day} AS day, audience, {province} AS province_code, course_id, count(*) AS n "
                      f"{partner} GROUP BY {day}, audience, {province}, course_id")
    _shift_to_partner("completion_year_counter", BUCKETS["completion_year_counter"][0],
                      f"SELECT {year} AS year, audience, {province} AS province_code, count(*) AS n "
                      f"{partner} GROUP BY {year}, audience, {province}")
    # A learner is counted under the assurance of their first completion of the year (by seq).
    op.execute(f"UPDATE learner_year SET assurance = coalesce((SELECT c.assurance FROM completion AS c "
               f"WHERE c.user_id = learner_year.user_id AND c.audience = learner_year.audience "
               f"AND {_local(dialect, 'c.completed_at')[1]} = learner_year.year ORDER BY c.seq LIMIT 1), 'none') "
               f"WHERE user_id IN (SELECT id FROM user_account WHERE national_id_hash IS NOT NULL)")
    _shift_to_partner("learner_counter", BUCKETS["learner_counter"][0],
                      "SELECT year, audience, province_code, count(*) AS n FROM learner_year "
                      "WHERE assurance = 'partner' GROUP BY year, audience, province_code")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("assurance", **LEVEL))
        batch.add_column(sa.Column("birth_date", sa.Date(), nullable=True))
    op.execute("UPDATE user_account SET assurance = 'partner' WHERE national_id_hash IS NOT NULL")
    with op.batch_alter_table("completion") as batch:
        batch.add_column(sa.Column("assurance", **LEVEL))
    op.execute("UPDATE completion SET assurance = 'partner' WHERE source = 'partner' AND user_id IN "
               "(SELECT id FROM user_account WHERE national_id_hash IS NOT NULL)")
    for table, (old, new) in BUCKETS.items():
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("assurance", **LEVEL))
            batch.drop_constraint(_uq(table, old), type_="unique")
            batch.create_unique_constraint(_uq(table, new), list(new))
    with op.batch_alter_table("learner_year") as batch:
        batch.add_column(sa.Column("assurance", **LEVEL))
    with op.batch_alter_table("programme") as batch:
        batch.add_column(sa.Column("counted_assurance", JSONType, nullable=True))
    _split_buckets(dialect)

    op.create_table(
        "phone_code",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("purpose", sa.String(20), nullable=False),
        sa.Column("phone_key", sa.String(64), nullable=False),
        sa.Column("client_key", sa.String(64), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phone_code")),
    )
    op.create_index("ix_phone_code_phone_key_created_at", "phone_code", ["phone_key", "created_at"])
    op.create_index("ix_phone_code_client_key_created_at", "phone_code", ["client_key", "created_at"])
    op.create_table(
        "oidc_sign_in",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("state_hash", sa.String(64), nullable=False),
        sa.Column("provider", sa.String(40), nullable=False),
        sa.Column("return_to", sa.String(500), nullable=False),
        sa.Column("handoff_challenge", sa.String(128), nullable=False),
        sa.Column("link_user_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("callback_at", UTCDateTime(), nullable=True),
        sa.Column("handoff_hash", sa.String(64), nullable=True),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("exchanged_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["link_user_id"], ["user_account.id"], ondelete="CASCADE",
                                name=op.f("fk_oidc_sign_in_link_user_id_user_account")),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], ondelete="CASCADE",
                                name=op.f("fk_oidc_sign_in_user_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_sign_in")),
        sa.UniqueConstraint("state_hash", name=op.f("uq_oidc_sign_in_state_hash")),
        sa.UniqueConstraint("handoff_hash", name=op.f("uq_oidc_sign_in_handoff_hash")),
    )
    op.create_table(
        "linked_identity",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(40), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_sign_in_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], ondelete="CASCADE",
                                name=op.f("fk_linked_identity_user_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_linked_identity")),
        sa.UniqueConstraint("provider", "subject", name=op.f("uq_linked_identity_provider_subject")),
    )
    op.create_index("ix_linked_identity_user_id", "linked_identity", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_linked_identity_user_id", table_name="linked_identity")
    op.drop_table("linked_identity")
    op.drop_table("oidc_sign_in")
    op.drop_index("ix_phone_code_client_key_created_at", table_name="phone_code")
    op.drop_index("ix_phone_code_phone_key_created_at", table_name="phone_code")
    op.drop_table("phone_code")
    with op.batch_alter_table("programme") as batch:
        batch.drop_column("counted_assurance")
    with op.batch_alter_table("learner_year") as batch:
        batch.drop_column("assurance")
    # Buckets summed over assurance first, so the old keys are unique again.
    for table, (_old, new) in BUCKETS.items():
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(_uq(table, new), type_="unique")
    for table, (old, _new) in BUCKETS.items():
        keys = ", ".join(old)
        op.execute(f"CREATE TEMPORARY TABLE {table}_old AS SELECT {keys}, sum(count) AS count FROM {table} "
                   f"GROUP BY {keys}")
        op.execute(f"DELETE FROM {table}")
        op.execute(f"INSERT INTO {table} ({keys}, count) SELECT {keys}, count FROM {table}_old")
        op.execute(f"DROP TABLE {table}_old")
        with op.batch_alter_table(table) as batch:
            batch.drop_column("assurance")
            batch.create_unique_constraint(_uq(table, old), list(old))
    with op.batch_alter_table("completion") as batch:
        batch.drop_column("assurance")
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("birth_date")
        batch.drop_column("assurance")
