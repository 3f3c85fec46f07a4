"""The few places where SQLite and PostgreSQL need different SQL: upserts, local days, transaction ids."""

from typing import Any

from sqlalchemy import ColumnElement, Date, bindparam, cast, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.localtime import LOCAL_TZ_NAME
from app.core.localtime import SQLITE_OFFSET as SQLITE_LOCAL_OFFSET


def dialect_name(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def insert_on(dialect: str) -> Any:
    """The `insert` construct that supports ON CONFLICT on this dialect (both spell it the same)."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def insert_for(session: AsyncSession, table: Any) -> Any:
    """An INSERT that supports ON CONFLICT on the session's database."""
    return insert_on(dialect_name(session))(table)


def bound(column: Any, name: str) -> Any:
    """A named parameter typed like `column`, for statements built once and executed with values (the hot
    paths' *_sql modules): the name is explicit because SQLAlchemy reserves bare column names in UPDATE … SET."""
    return bindparam(name, type_=column.type)


def local_day(session: AsyncSession, column: Any) -> ColumnElement:
    """The calendar day in Asia/Ho_Chi_Minh of a UTC timestamp column, computed by the database."""
    if dialect_name(session) == "postgresql":
        return cast(func.timezone(LOCAL_TZ_NAME, column), Date)
    return func.date(column, SQLITE_LOCAL_OFFSET)


def local_year(session: AsyncSession, column: Any) -> ColumnElement:
    """The calendar year in Asia/Ho_Chi_Minh of a UTC timestamp column, as an integer."""
    if dialect_name(session) == "postgresql":
        return cast(func.extract("year", func.timezone(LOCAL_TZ_NAME, column)), postgresql.INTEGER)
    return cast(func.strftime("%Y", column, SQLITE_LOCAL_OFFSET), sqlite.INTEGER)
