"""Shared column types and the metadata naming convention (stable constraint names for migrations)."""

import os
import time
import uuid
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime
from pydantic_core import PydanticCustomError
from sqlalchemy import JSON, DateTime, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

metadata = SQLModel.metadata
metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC on both databases (SQLite would otherwise hand back naive datetimes)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:  # noqa: ANN001
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:  # noqa: ANN001
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def to_utc(value: datetime) -> datetime:
    """A client's time in UTC; one that UTC cannot hold (year 0001 at +14:00) is a 422 on its field, not a 500."""
    try:
        return value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)
    except (OverflowError, ValueError):
        raise PydanticCustomError("time_out_of_range", "time out of range") from None


# A time given by a client, with its offset, held in UTC from validation on.
UtcMoment = Annotated[AwareDatetime, AfterValidator(to_utc)]


# JSONB on PostgreSQL (indexable, compact), JSON text on SQLite.
JSONType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


def time_ordered_id() -> uuid.UUID:
    """A UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then 74 random bits.

    For rows inserted at a high rate into large tables (completions, progress events): random (v4) ids land
    on a random leaf of the primary-key index — at ten million rows a page read and a full-page WAL image per
    insert — while time-ordered ids append to the rightmost leaf, which stays in memory, and a range of them
    is a range of time (progress events are pruned by id). The id reveals when it was made.
    """
    random = int.from_bytes(os.urandom(10), "big")  # 80 bits, of which 74 are used
    return uuid.UUID(int=(time.time_ns() // 1_000_000 & (1 << 48) - 1) << 80 | 0x7 << 76
                     | (random >> 62 & 0xFFF) << 64 | 0b10 << 62 | random & (1 << 62) - 1)


def first_id_at(at: datetime) -> uuid.UUID:
    """The smallest time-ordered id made at or after `at`: ids below it were all made before."""
    return uuid.UUID(int=(int(at.timestamp() * 1000) & (1 << 48) - 1) << 80 | 0x7 << 76 | 0b10 << 62)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


def id_field() -> uuid.UUID:
    return Field(default_factory=new_id, primary_key=True)


def created_at_field() -> datetime:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


def time_field(*, nullable: bool = True, index: bool = False) -> datetime | None:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)
