"""A province-scoped partner client's refusals of other provinces' learners are bounded and logged (issue 18).

Each refusal answers "this phone or ID is taken outside your province": at most HOCSO_PARTNER_ELSEWHERE_PER_HOUR
of them per client an hour, shared by every worker through Redis; past that, a report that would be refused or
create a learner is 429 alike, and reports of the client's own learners go on.
"""

import json
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from sqlalchemy import func, select

from app.core.logging import JsonFormatter
from app.core.security import keyed_hash
from app.models.completion import Completion
from app.models.identity import User
from tests.api.test_partner_completions import NATIONAL_ID, URL, report, writer
from tests.conftest import make_app
from tests.factories import make_course, make_user

ELSEWHERE = "+84919000555"  # a learner of province 19
MINE = "+84919000666"  # a learner of province 01
UNKNOWN = "0919000777"  # nobody's


@pytest.fixture
async def course(session):
    return (await make_course(session, lessons=[])).course


@pytest.fixture
async def learners(session, settings) -> tuple[User, User]:
    elsewhere = await make_user(session, phone=ELSEWHERE, province_code="19", full_name="Lê Văn Riêng")
    elsewhere.national_id_hash = keyed_hash(settings.secret_key, "national_id", NATIONAL_ID)
    mine = await make_user(session, phone=MINE, province_code="01")
    await session.flush()
    return elsewhere, mine


@pytest.fixture
def scoped(keyring, settings) -> dict[str, str]:
    """A province-01 client of its own, so no other test (or run, through Redis) has spent its budget."""
    return writer(keyring, settings, client_id=f"so-gd-{uuid.uuid4().hex[:8]}", province="01")


@asynccontextmanager
async def client_of(settings, db, keyring, *, per_hour: int, redis_url: str | None = None
                    ) -> AsyncIterator[httpx.AsyncClient]:
    app = make_app(settings.model_copy(update={"partner_elsewhere_per_hour": per_hour, "redis_url": redis_url}),
                   db, keyring)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        yield c
    await app.state.per_worker.rate_limits.close()


def by_phone(course, phone: str, ref: str) -> dict:
    return report(course.slug, province_code="01", national_id=None, phone=phone, external_ref=ref)


async def _completions(session, user: User) -> int:
    return (await session.execute(select(func.count()).select_from(Completion)
                                  .where(Completion.user_id == user.id))).scalar_one()


async def test_refusals_past_the_budget_are_429_and_so_are_new_learners_but_known_learners_still_report(
        session, db, keyring, settings, course, learners, scoped):
    elsewhere, mine = learners
    async with client_of(settings, db, keyring, per_hour=2) as client:
        for ref in ("a", "b"):
            r = await client.post(URL, json=by_phone(course, ELSEWHERE, ref), headers=scoped)
            assert r.status_code == 422 and r.json()["errors"][0]["field"] == "phone"

        refused = await client.post(URL, json=by_phone(course, ELSEWHERE, "c"), headers=scoped)
        new = await client.post(URL, json=by_phone(course, UNKNOWN, "d"), headers=scoped)
        for r in (refused, new):
            assert r.status_code == 429 and r.headers["content-type"] == "application/problem+json"
            assert 0 < int(r.headers["Retry-After"]) <= 3600
            assert "errors" not in r.json() or r.json()["errors"] == []  # no field: nothing says which matched
        # The two answers are the same: past the budget, "taken elsewhere" and "nobody's" cannot be told apart.
        assert {k: refused.json()[k] for k in ("type", "title", "status")} == \
            {k: new.json()[k] for k in ("type", "title", "status")}
        assert (await session.execute(select(User).where(User.phone == "+84919000777"))).first() is None

        own = await client.post(URL, json=by_phone(course, "0919 000 666", "e"), headers=scoped)
        assert own.status_code == 201 and own.json()["learner_id"] == str(mine.id)
        again = await client.post(URL, json=by_phone(course, MINE, "e"), headers=scoped)
        assert again.status_code == 200 and again.json()["status"] == "duplicate"

        # The budget is the client's: another client of the same province, and an unscoped one, are unaffected.
        other = writer(keyring, settings, client_id=f"so-yt-{uuid.uuid4().hex[:8]}", province="01")
        assert (await client.post(URL, json=by_phone(course, ELSEWHERE, "f"), headers=other)).status_code == 422
        national = writer(keyring, settings, client_id=f"bo-{uuid.uuid4().hex[:8]}")
        assert (await client.post(URL, json=by_phone(course, UNKNOWN, "g"), headers=national)).status_code == 201
    assert await _completions(session, elsewhere) == 0


async def test_a_batch_past_the_budget_holds_back_its_lookups_and_records_its_known_learners(
        session, db, keyring, settings, course, learners, scoped):
    elsewhere, mine = learners
    items = [by_phone(course, ELSEWHERE, "r0"), by_phone(course, ELSEWHERE, "r1"),
             by_phone(course, UNKNOWN, "r2"), by_phone(course, MINE, "r3")]
    async with client_of(settings, db, keyring, per_hour=1) as client:
        r = await client.post(f"{URL}/batch", json={"items": items}, headers=scoped)
        assert r.status_code == 200, r.text
        results = r.json()["results"]
        assert [x["status"] for x in results] == ["rejected", "rejected", "rejected", "created"]
        assert results[0]["errors"][0]["field"] == "phone" and "retry_after" not in results[0]["errors"][0]
        for held in results[1:3]:
            (error,) = held["errors"]
            assert "field" not in error and 0 < error["retry_after"] <= 3600
        assert results[1]["errors"][0]["message"] == results[2]["errors"][0]["message"]

        second = (await make_course(session, lessons=[])).course
        strict = await client.post(f"{URL}/batch", params={"strict": "true"}, json={"items": [
            report(second.slug, province_code="01", national_id=None, phone=MINE, external_ref="s0"),
            report(second.slug, province_code="01", national_id=None, phone=UNKNOWN, external_ref="s1")]},
            headers=scoped)
        assert strict.status_code == 429 and int(strict.headers["Retry-After"]) > 0
    assert await _completions(session, mine) == 1  # r3 only: the strict batch recorded nothing
    assert await _completions(session, elsewhere) == 0


async def test_each_refusal_is_logged_with_the_client_and_field_never_the_phone_or_id(
        db, keyring, settings, course, learners, caplog):
    client_id = f"so-gd-{uuid.uuid4().hex[:8]}"
    headers = writer(keyring, settings, client_id=client_id, province="01")
    caplog.set_level(logging.INFO, logger="hocso.partner")
    async with client_of(settings, db, keyring, per_hour=2) as client:
        await client.post(URL, json=by_phone(course, "0919 000 555", "a"), headers=headers)
        await client.post(URL, json=report(course.slug, province_code="01", phone=None, external_ref="b"),
                          headers=headers)
        await client.post(URL, json=by_phone(course, ELSEWHERE, "c"), headers=headers)  # past the budget
    records = [r for r in caplog.records if r.name == "hocso.partner"]
    assert [r.field for r in records] == ["phone", "national_id", "phone"]
    assert "budget spent" in records[2].getMessage() and "budget spent" not in records[0].getMessage()
    for record in records:
        line = JsonFormatter().format(record)
        assert client_id in record.getMessage() and json.loads(line)["client"] == client_id
        assert record.field in json.loads(line)["message"]
        text = f"{line} {record.__dict__}"
        for secret in (NATIONAL_ID, "919000555", "0919 000 555", "Lê Văn Riêng"):
            assert secret not in text


async def test_the_refusal_reads_the_same_as_a_learner_without_a_province_and_names_no_province(
        client, session, course, learners, scoped):
    await make_user(session, phone="+84919000888", province_code=None)
    elsewhere = await client.post(URL, json=by_phone(course, ELSEWHERE, "a"), headers=scoped)
    nowhere = await client.post(URL, json=by_phone(course, "0919000888", "b"), headers=scoped)
    assert elsewhere.status_code == nowhere.status_code == 422
    assert elsewhere.json()["errors"] == nowhere.json()["errors"]
    (error,) = elsewhere.json()["errors"]
    assert error["field"] == "phone" and "01" not in error["message"] and "19" not in error["message"]
    assert "tỉnh" not in error["message"]  # Vietnamese by default: says nothing of provinces at all


async def test_two_workers_spend_one_budget_through_redis(db, keyring, settings, course, learners, scoped,
                                                          redis_url):
    statuses = []
    async with client_of(settings, db, keyring, per_hour=2, redis_url=redis_url) as one, \
            client_of(settings, db, keyring, per_hour=2, redis_url=redis_url) as two:
        for worker, ref in ((one, "a"), (two, "b"), (one, "c"), (two, "d")):
            statuses.append((await worker.post(URL, json=by_phone(course, ELSEWHERE, ref), headers=scoped))
                            .status_code)
    assert statuses == [422, 422, 429, 429]
