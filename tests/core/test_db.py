import asyncio

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from app.core.db import Database
from app.models.identity import Audience, User


async def test_a_unit_of_work_that_never_touched_the_database_commits_nothing(committed_db: Database) -> None:
    commits = []

    def count(session: Session) -> None:
        commits.append(session)

    event.listen(Session, "after_commit", count)
    try:
        async with committed_db.session():
            pass
        assert commits == []
        async with committed_db.session() as session:
            await session.scalar(select(1))
        assert len(commits) == 1  # the listener does see the commits that happen
    finally:
        event.remove(Session, "after_commit", count)


async def test_an_added_object_is_committed_without_an_explicit_flush(committed_db: Database) -> None:
    async with committed_db.session() as session:
        session.add(User(email="unit-of-work@example.vn", full_name="Nguyễn Văn A",
                         audience=Audience.citizen))
    async with committed_db.session() as session:
        found = await session.scalar(select(User).where(User.email == "unit-of-work@example.vn"))
    assert found is not None


async def test_a_connection_the_server_closed_is_replaced_at_checkout_without_an_error(settings) -> None:
    if not settings.effective_database_url.startswith("postgresql"):
        pytest.skip("SQLite has no server to close a connection")
    db = Database(settings.model_copy(update={"db_pre_ping": False}))
    admin = Database(settings)
    try:
        async with db.session() as session:
            first = await session.scalar(text("SELECT pg_backend_pid()"))
        async with admin.session() as session:  # as a restart or an idle timeout would
            assert await session.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        await asyncio.sleep(0.3)  # the event loop reads the end of the pooled connection's stream
        async with db.session() as session:
            second = await session.scalar(text("SELECT pg_backend_pid()"))
        assert second != first
    finally:
        await db.dispose()
        await admin.dispose()
