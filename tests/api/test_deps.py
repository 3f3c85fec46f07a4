"""The request's unit of work: one session per request at most, and none for an answer served from memory."""

from contextlib import asynccontextmanager

import pytest
from sqlalchemy import select

from app.api.deps import UnitOfWork
from app.models.identity import Audience, Role, User
from tests.factories import auth, make_user, service_token, token_for


@pytest.fixture
def sessions_opened(app, monkeypatch) -> list[object]:
    """Every session the app's database hands out, recorded as it is opened."""
    db = app.state.db
    opened: list[object] = []
    real = db.session

    @asynccontextmanager
    async def recorded():
        async with real() as session:
            opened.append(session)
            yield session

    monkeypatch.setattr(db, "session", recorded)
    return opened


async def test_a_cached_stats_answer_for_a_service_client_opens_no_session(client, keyring, settings,
                                                                           sessions_opened):
    headers = auth(service_token(keyring, settings, scopes=["stats:read"]))
    first = await client.get("/api/v1/stats/summary?year=2025", headers=headers)
    assert first.status_code == 200 and len(sessions_opened) == 1  # a miss reads the counters
    again = await client.get("/api/v1/stats/summary?year=2025", headers=headers)
    assert again.status_code == 200 and again.content == first.content
    assert len(sessions_opened) == 1


async def test_a_signed_in_admin_and_the_endpoint_share_one_session(client, session, keyring, settings,
                                                                    sessions_opened):
    admin = await make_user(session, role=Role.ministry_admin)
    headers = auth(token_for(keyring, settings, admin))
    assert (await client.get("/api/v1/stats/summary?year=2025", headers=headers)).status_code == 200
    assert (await client.get("/api/v1/stats/summary?year=2025", headers=headers)).status_code == 200
    assert len(sessions_opened) == 2  # the account is read on every request, in the request's only session


async def test_a_unit_of_work_commits_when_the_endpoint_returns_and_rolls_back_when_it_fails(committed_db):
    async with UnitOfWork(committed_db) as work:
        (await work.session()).add(User(email="kept@example.vn", full_name="Trần Văn Giữ",
                                        audience=Audience.citizen))
    with pytest.raises(RuntimeError):
        async with UnitOfWork(committed_db) as work:
            (await work.session()).add(User(email="dropped@example.vn", full_name="Lê Thị Bỏ",
                                            audience=Audience.citizen))
            await (await work.session()).flush()
            raise RuntimeError("the endpoint failed after writing")
    async with committed_db.session() as session:
        emails = set(await session.scalars(select(User.email).where(
            User.email.in_(["kept@example.vn", "dropped@example.vn"]))))
    assert emails == {"kept@example.vn"}


async def test_a_unit_of_work_asked_twice_gives_the_same_session(committed_db):
    async with UnitOfWork(committed_db) as work:
        assert await work.session() is await work.session()
