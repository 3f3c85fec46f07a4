"""End to end: a scripted learner completes a course; races between the last requirement and completion calls;
and 200 concurrent completion requests (committed data, real connections, real concurrency on PostgreSQL)."""

import asyncio
import random

import httpx
import pytest
from sqlalchemy import func, select

from app.models.base import utcnow
from app.models.completion import Completion, CompletionCounter, LearnerCounter
from app.models.learning import Enrollment, LessonProgress
from app.services import jobs
from app.services.counters import buckets as counters
from tests.conftest import make_app
from tests.factories import auth, document, make_course, make_user, quiz, token_for, video

PASSWORD = "hoc-so-moi-ngay-2026"


@pytest.fixture
async def live_client(settings, committed_db, keyring):
    """A client on an app whose requests commit for real, each on its own connection."""
    app = make_app(settings, committed_db, keyring)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        yield c


async def national_citizens(client) -> int:
    return (await client.get("/api/v1/stats/national")).json()["audiences"]["citizen"]["completions"]


async def test_a_scripted_learner_completes_and_the_national_figure_moves_by_one(client, session, clock):
    rows = await make_course(session, lessons=[video("intro", 120), quiz("final-quiz")])
    before = await national_citizens(client)

    r = await client.post("/api/v1/auth/register", json={
        "phone": "0912 345 678", "password": PASSWORD, "full_name": "Nguyễn Thị Hồng Nhung",
        "province_code": "19", "audience": "citizen"})
    assert r.status_code == 201, r.text
    token = (await client.post("/api/v1/auth/token", data={
        "grant_type": "password", "username": "0912345678", "password": PASSWORD})).json()["access_token"]
    headers = auth(token)
    r = await client.post(f"/api/v1/courses/{rows.course.slug}/enrollments", headers=headers)
    assert r.status_code == 201

    heartbeat = f"/api/v1/lessons/{rows.lessons['intro'].id}/progress"
    await client.post(heartbeat, headers=headers, json={"event_id": "hb-0", "position_s": 0, "intervals": []})
    for n in range(1, 5):  # 4 heartbeats, 30 s of watching each
        clock.advance(30)
        r = await client.post(heartbeat, headers=headers, json={
            "event_id": f"hb-{n}", "position_s": 30 * n, "intervals": [[30 * (n - 1), 30 * n]],
            "playback_rate": 1.0, "client_time": clock.now.isoformat()})
    assert r.json()["completed"] and r.json()["coverage"] == 1.0 and not r.json()["course_completed"]

    attempt = (await client.post(f"/api/v1/quizzes/{rows.quizzes['final-quiz'].id}/attempts",
                                 headers=headers)).json()
    answers = [{"question_id": str(q.id),
                "choice_ids": [str(c.id) for c in rows.choices[q.id] if c.weight == 100]}
               for q in rows.questions["final-quiz"]]
    graded = (await client.post(f"/api/v1/attempts/{attempt['id']}/submit", headers=headers,
                                json={"answers": answers})).json()
    assert graded["passed"]

    # Completed automatically when the quiz was passed: the endpoint answers 200 with that record, every time.
    url = f"/api/v1/courses/{rows.course.slug}/completion"
    first, again = await client.post(url, headers=headers), await client.post(url, headers=headers)
    assert (first.status_code, again.status_code) == (200, 200) and first.json() == again.json()
    assert (first.json()["audience"], first.json()["province_code"]) == ("citizen", "19")
    assert await national_citizens(client) == before + 1


async def test_the_last_requirement_and_completion_calls_race_to_one_completion(live_client, committed_db,
                                                                                 settings, keyring):
    async with committed_db.session() as session:
        rows = await make_course(session, lessons=[video("intro", 60), document("handbook")])
        user = await make_user(session)
        session.add(Enrollment(user_id=user.id, course_id=rows.course.id, version_id=rows.version.id))
        session.add(LessonProgress(user_id=user.id, course_id=rows.course.id, lesson_key="intro",
                                   completed_at=utcnow()))
    headers = auth(token_for(keyring, settings, user))
    view = live_client.post(f"/api/v1/lessons/{rows.lessons['handbook'].id}/progress", headers=headers,
                            json={"event_id": "read", "viewed": True})
    calls = [live_client.post(f"/api/v1/courses/{rows.course.slug}/completion", headers=headers)
             for _ in range(8)]
    viewed, *answers = await asyncio.gather(view, *calls)
    assert viewed.status_code == 200
    assert {a.status_code for a in answers} <= {200, 201, 409}
    assert len({a.json()["id"] for a in answers if a.status_code < 300}) <= 1
    async with committed_db.session() as session:
        stored = (await session.execute(
            select(Completion).where(Completion.user_id == user.id))).scalars().all()
        assert len(stored) == 1
        assert all(a.json()["id"] == str(stored[0].id) for a in answers if a.status_code < 300)
        assert (await counters.verify(session)).ok


async def test_two_last_lessons_completing_at_once_still_complete_the_course(live_client, committed_db,
                                                                            settings, keyring):
    async with committed_db.session() as session:
        rows = await make_course(session, lessons=[document("a"), document("b"), document("c")])
        user = await make_user(session)
        session.add(Enrollment(user_id=user.id, course_id=rows.course.id, version_id=rows.version.id))
    headers = auth(token_for(keyring, settings, user))
    views = [live_client.post(f"/api/v1/lessons/{rows.lessons[key].id}/progress", headers=headers,
                              json={"event_id": f"read-{key}", "viewed": True}) for key in "abc"]
    answers = await asyncio.gather(*views)
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert sum(a.json()["course_completed"] for a in answers) == 1
    async with committed_db.session() as session:
        count = (await session.execute(select(func.count()).select_from(Completion)
                                       .where(Completion.user_id == user.id))).scalar_one()
        assert count == 1


async def test_200_concurrent_completion_requests_from_50_learners_give_50_completions(
        live_client, committed_db, settings, keyring):
    """On PostgreSQL the requests truly overlap (pool of 30 connections); on SQLite writers queue behind one
    lock, which still exercises the conflict path for the repeats."""
    async with committed_db.session() as session:
        rows = await make_course(session, lessons=[document("handbook")])
        learners = [await make_user(session, province_code=random.choice(["01", "19", "79"]))
                    for _ in range(50)]
        for user in learners:
            session.add(Enrollment(user_id=user.id, course_id=rows.course.id, version_id=rows.version.id))
            session.add(LessonProgress(user_id=user.id, course_id=rows.course.id, lesson_key="handbook",
                                       viewed_at=utcnow(), completed_at=utcnow()))
    before = (await live_client.get("/api/v1/stats/national")).json()["audiences"]["citizen"]["completions"]
    tokens = {user.id: auth(token_for(keyring, settings, user)) for user in learners}
    requests = [learner for learner in learners for _ in range(4)]
    random.shuffle(requests)
    url = f"/api/v1/courses/{rows.course.slug}/completion"
    answers = await asyncio.gather(*(live_client.post(url, headers=tokens[user.id]) for user in requests))

    assert sorted({a.status_code for a in answers}) == [200, 201]
    assert sum(a.status_code == 201 for a in answers) == 50
    ids_per_learner: dict = {}
    for user, answer in zip(requests, answers, strict=True):
        ids_per_learner.setdefault(user.id, set()).add(answer.json()["id"])
    assert all(len(ids) == 1 for ids in ids_per_learner.values()) and len(ids_per_learner) == 50

    async with committed_db.session() as session:
        completions = (await session.execute(select(func.count()).select_from(Completion)
                                             .where(Completion.course_id == rows.course.id))).scalar_one()
        bucket_total = (await session.execute(
            select(func.sum(CompletionCounter.count))
            .where(CompletionCounter.course_id == rows.course.id))).scalar_one()
        learner_total = (await session.execute(select(func.sum(LearnerCounter.count)))).scalar_one()
        report = await counters.verify(session)
    assert completions == bucket_total == learner_total == 50
    assert report.ok, [str(d) for d in report.differences]
    after = (await live_client.get("/api/v1/stats/national")).json()["audiences"]["citizen"]["completions"]
    assert after == before + 50


async def test_the_certificate_is_linked_once_the_queued_job_has_issued_it(client, session, db, settings, keyring):
    rows = await make_course(session, lessons=[document("handbook")], certificate=True)
    user = await make_user(session, province_code="79")
    session.add(Enrollment(user_id=user.id, course_id=rows.course.id, version_id=rows.version.id))
    session.add(LessonProgress(user_id=user.id, course_id=rows.course.id, lesson_key="handbook",
                               viewed_at=utcnow(), completed_at=utcnow()))
    await session.flush()
    headers = auth(token_for(keyring, settings, user))
    url = f"/api/v1/courses/{rows.course.slug}/completion"

    first = await client.post(url, headers=headers)
    assert first.status_code == 201 and first.json()["certificate"] is None
    assert await jobs.run_pending(db) == 1  # the issue_certificate job recorded with the completion
    again = await client.post(url, headers=headers)
    status = (await client.get(f"/api/v1/courses/{rows.course.slug}/completion-status", headers=headers)).json()
    link = again.json()["certificate"]
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert link["verify_url"] == f"http://test/verify/{link['serial']}"
    assert status["completed"] and status["completion"]["certificate"] == link
    assert [(r["lesson_key"], r["met"]) for r in status["requirements"]] == [("handbook", True)]
