"""Enrollment, progress, completion-status and the completion endpoint, over HTTP."""

import uuid
from datetime import timedelta

from sqlalchemy import func, select

from app.models.base import utcnow
from app.models.certificate import Certificate
from app.models.completion import Completion
from app.models.course import Course
from app.models.identity import Audience
from app.models.learning import Enrollment, LessonProgress
from app.services.learning import progress as progress_service
from tests.factories import (
    auth,
    document,
    make_course,
    make_user,
    quiz,
    service_token,
    text_lesson,
    token_for,
    video,
)


async def learner(session, keyring, settings, **user):
    user = await make_user(session, **user)
    return user, auth(token_for(keyring, settings, user))


async def enroll(client, headers, course) -> None:
    r = await client.post(f"/api/v1/courses/{course.slug}/enrollments", headers=headers)
    assert r.status_code in (200, 201), r.text


async def mark_done(session, user, rows, *keys) -> None:
    """Progress rows as if the learner had met these lessons' rules."""
    for key in keys:
        session.add(LessonProgress(user_id=user.id, course_id=rows.course.id, lesson_key=key,
                                   completed_at=utcnow(), best_score=100, viewed_at=utcnow()))
    await session.flush()


# --- enrollment ----------------------------------------------------------------------------------------------


async def test_enrolment_needs_a_signed_in_learner(client, session):
    rows = await make_course(session)
    r = await client.post(f"/api/v1/courses/{rows.course.slug}/enrollments")
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"


async def test_enrolment_in_unknown_or_unpublished_courses_is_404(client, session, keyring, settings):
    _, headers = await learner(session, keyring, settings)
    draft = await make_course(session, status="draft")
    assert (await client.post("/api/v1/courses/khong-co/enrollments", headers=headers)).status_code == 404
    r = await client.post(f"/api/v1/courses/{draft.course.id}/enrollments", headers=headers)
    assert r.status_code == 404


async def test_official_only_courses_open_to_verified_officials_only(client, session, keyring, settings):
    rows = await make_course(session, audiences=["official"])
    url = f"/api/v1/courses/{rows.course.slug}/enrollments"
    for audience, verified in ((Audience.citizen, False), (Audience.official, False)):
        _, headers = await learner(session, keyring, settings, audience=audience, verified=verified)
        r = await client.post(url, headers=headers)
        assert r.status_code == 403 and r.json()["type"] == "/problems/course-closed-to-audience"
    _, headers = await learner(session, keyring, settings, audience=Audience.official, verified=True)
    assert (await client.post(url, headers=headers)).status_code == 201


async def test_enrolling_twice_answers_200_and_counts_once(client, session, keyring, settings):
    rows = await make_course(session)
    _, headers = await learner(session, keyring, settings)
    url = f"/api/v1/courses/{rows.course.slug}/enrollments"
    first, again = await client.post(url, headers=headers), await client.post(url, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json() and first.json()["course"] == rows.course.slug
    await session.refresh(rows.course)
    assert rows.course.enrollment_count == 1


async def test_leaving_keeps_progress_for_a_return(client, session, keyring, settings, clock):
    rows = await make_course(session, lessons=[video("intro", 120), document("handbook")])
    _, headers = await learner(session, keyring, settings)
    await enroll(client, headers, rows.course)
    lesson = f"/api/v1/lessons/{rows.lessons['intro'].id}/progress"
    await client.post(lesson, headers=headers, json={"event_id": "s", "intervals": []})
    clock.advance(30)
    await client.post(lesson, headers=headers, json={"event_id": "a", "intervals": [[0, 30]]})

    leave = f"/api/v1/courses/{rows.course.slug}/enrollments/me"
    assert (await client.delete(leave, headers=headers)).status_code == 204
    assert (await client.delete(leave, headers=headers)).status_code == 404
    assert (await client.get(lesson, headers=headers)).status_code == 403
    assert (await client.get("/api/v1/me/enrollments", headers=headers)).json()["items"] == []

    await enroll(client, headers, rows.course)
    assert (await client.get(lesson, headers=headers)).json()["covered_s"] == 30


async def test_my_enrollments_show_progress_and_the_next_lesson(client, session, keyring, settings):
    user, headers = await learner(session, keyring, settings)
    first = await make_course(session, lessons=[video("intro"), document("handbook"),
                                                text_lesson("extra", required=False)])
    second = await make_course(session, title="An toàn thông tin")
    await enroll(client, headers, first.course)
    await enroll(client, headers, second.course)
    await mark_done(session, user, first, "intro")

    page = (await client.get("/api/v1/me/enrollments?limit=1", headers=headers)).json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    rest = (await client.get(f"/api/v1/me/enrollments?limit=1&cursor={page['next_cursor']}",
                             headers=headers)).json()
    assert rest["next_cursor"] is None
    items = {i["course"]["slug"]: i for i in page["items"] + rest["items"]}
    mine = items[first.course.slug]
    assert mine["progress_percent"] == 50 and mine["next_lesson"]["key"] == "handbook"
    assert items[second.course.slug]["progress_percent"] == 0
    bad = await client.get("/api/v1/me/enrollments?cursor=%%%", headers=headers)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "cursor"


# --- progress -----------------------------------------------------------------------------------------------


async def test_progress_needs_enrolment_and_a_real_lesson(client, session, keyring, settings):
    rows = await make_course(session)
    _, headers = await learner(session, keyring, settings)
    body = {"event_id": "x", "intervals": []}
    r = await client.post(f"/api/v1/lessons/{rows.lessons['intro'].id}/progress", headers=headers, json=body)
    assert r.status_code == 403 and r.json()["type"] == "/problems/not-enrolled"
    r = await client.post(f"/api/v1/lessons/{uuid.uuid4()}/progress", headers=headers, json=body)
    assert r.status_code == 404


async def test_malformed_intervals_are_422_by_field(client, session, keyring, settings):
    rows = await make_course(session)
    _, headers = await learner(session, keyring, settings)
    await enroll(client, headers, rows.course)
    r = await client.post(f"/api/v1/lessons/{rows.lessons['intro'].id}/progress", headers=headers,
                          json={"event_id": "x", "intervals": [[30, 10]]})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "intervals"


async def test_a_heartbeat_replay_answers_as_the_first_time(client, session, keyring, settings, clock):
    rows = await make_course(session)
    _, headers = await learner(session, keyring, settings)
    await enroll(client, headers, rows.course)
    url = f"/api/v1/lessons/{rows.lessons['intro'].id}/progress"
    await client.post(url, headers=headers, json={"event_id": "start", "intervals": []})
    clock.advance(20)
    first = await client.post(url, headers=headers, json={"event_id": "hb", "intervals": [[0, 20]]})
    clock.advance(100)
    replay = await client.post(url, headers=headers, json={"event_id": "hb", "intervals": [[0, 120]]})
    assert replay.status_code == 200 and replay.json() == first.json()
    assert first.json()["covered_s"] == 20


async def test_a_heartbeat_claiming_more_than_twice_the_server_time_is_capped_by_the_batch(
        client, session, keyring, settings, clock, monkeypatch):
    rows = await make_course(session, lessons=[video("intro", 600)])
    _, headers = await learner(session, keyring, settings)
    await enroll(client, headers, rows.course)
    url = f"/api/v1/lessons/{rows.lessons['intro'].id}/progress"
    assert (await client.post(url, headers=headers, json={"event_id": "start", "intervals": []})).status_code == 200
    full_path = []
    record_heartbeat = progress_service.record_heartbeat

    async def counted(*args, **kwargs):
        full_path.append(args)
        return await record_heartbeat(*args, **kwargs)

    monkeypatch.setattr(progress_service, "record_heartbeat", counted)
    clock.advance(25)
    far_ahead = (clock.now + timedelta(days=3)).isoformat()  # the client's clock is not the server's
    r = await client.post(url, headers=headers, json={"event_id": "greedy", "intervals": [[0, 300]],
                                                       "position_s": 300, "playback_rate": 16,
                                                       "client_time": far_ahead})
    assert r.status_code == 200 and full_path == []  # answered by the group-committed batch
    assert (r.json()["credited_s"], r.json()["covered_s"], r.json()["intervals"]) == (50, 50, [[0, 50]])
    stored = (await client.get(url, headers=headers)).json()
    assert (stored["covered_s"], stored["intervals"]) == (50, [[0, 50]])


async def test_an_event_id_used_on_one_lesson_is_409_on_another_naming_it(client, session, keyring, settings,
                                                                          clock):
    rows = await make_course(session)
    _, headers = await learner(session, keyring, settings)
    await enroll(client, headers, rows.course)
    intro, handbook = rows.lessons["intro"].id, rows.lessons["handbook"].id
    first = await client.post(f"/api/v1/lessons/{intro}/progress", headers=headers,
                              json={"event_id": "e-1", "intervals": []})
    assert first.status_code == 200
    r = await client.post(f"/api/v1/lessons/{handbook}/progress", headers=headers,
                          json={"event_id": "e-1", "viewed": True})
    assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["lesson_id"] == str(intro) and str(intro) in r.json()["detail"]
    # Nothing was recorded on the second lesson; a fresh id records it.
    state = await client.get(f"/api/v1/lessons/{handbook}/progress", headers=headers)
    assert state.json()["viewed"] is False
    r = await client.post(f"/api/v1/lessons/{handbook}/progress", headers=headers,
                          json={"event_id": "e-2", "viewed": True})
    assert r.status_code == 200 and r.json()["viewed"] is True


async def test_a_batch_refuses_an_event_id_of_another_lesson(client, session, keyring, settings, clock):
    rows = await make_course(session)
    _, headers = await learner(session, keyring, settings)
    await enroll(client, headers, rows.course)
    intro, handbook = str(rows.lessons["intro"].id), str(rows.lessons["handbook"].id)
    await client.post(f"/api/v1/lessons/{intro}/progress", headers=headers, json={"event_id": "o-1", "intervals": []})
    at = utcnow().isoformat()
    r = await client.post("/api/v1/me/progress/batch", headers=headers, json={"events": [
        {"event_id": "o-1", "lesson_id": handbook, "client_time": at, "viewed": True},
        {"event_id": "o-2", "lesson_id": handbook, "client_time": at, "viewed": True},
        {"event_id": "o-2", "lesson_id": intro, "client_time": at, "intervals": []},
    ]})
    results = r.json()["results"]
    assert [x["status"] for x in results] == ["rejected", "accepted", "rejected"]
    assert results[0]["reason"] == results[2]["reason"] == "event_id_other_lesson"
    assert intro in results[0]["detail"] and handbook in results[2]["detail"]


async def test_batch_is_limited_to_500_events(client, session, keyring, settings):
    _, headers = await learner(session, keyring, settings)
    events = [{"event_id": f"e{i}"} for i in range(501)]
    r = await client.post("/api/v1/me/progress/batch", headers=headers, json={"events": events})
    assert r.status_code == 422


async def test_batch_answers_per_event(client, session, keyring, settings):
    rows = await make_course(session)
    _, headers = await learner(session, keyring, settings)
    await enroll(client, headers, rows.course)
    handbook = str(rows.lessons["handbook"].id)
    at = utcnow().isoformat()
    r = await client.post("/api/v1/me/progress/batch", headers=headers, json={"events": [
        {"event_id": "v1", "lesson_id": handbook, "client_time": at, "viewed": True},
        {"event_id": "v1", "lesson_id": handbook, "client_time": at, "viewed": True},
        {"event_id": "v2", "lesson_id": handbook},
        ["not", "an", "event"],
    ]})
    assert r.status_code == 200
    assert [x["status"] for x in r.json()["results"]] == ["accepted", "duplicate", "rejected", "rejected"]


# --- completion ---------------------------------------------------------------------------------------------


async def test_completion_needs_enrolment(client, session, keyring, settings):
    rows = await make_course(session)
    _, headers = await learner(session, keyring, settings)
    r = await client.post(f"/api/v1/courses/{rows.course.slug}/completion", headers=headers)
    assert r.status_code == 403


async def test_409_lists_exactly_the_unmet_requirements(client, session, keyring, settings):
    rows = await make_course(session, lessons=[video("intro"), document("handbook"), quiz("final-quiz"),
                                               text_lesson("bonus", required=False)])
    user, headers = await learner(session, keyring, settings)
    await enroll(client, headers, rows.course)
    await mark_done(session, user, rows, "handbook")
    r = await client.post(f"/api/v1/courses/{rows.course.slug}/completion", headers=headers)
    assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert [u["lesson_key"] for u in body["unmet_requirements"]] == ["intro", "final-quiz"]
    assert [e["field"] for e in body["errors"]] == ["lessons.intro", "lessons.final-quiz"]
    status = (await client.get(f"/api/v1/courses/{rows.course.slug}/completion-status",
                               headers=headers)).json()
    assert [(q["lesson_key"], q["met"]) for q in status["requirements"]] == [
        ("intro", False), ("handbook", True), ("final-quiz", False)]
    assert status["enrolled"] and not status["completed"] and status["completion"] is None


async def test_first_completion_is_201_then_200_with_the_same_record(client, session, keyring, settings):
    rows = await make_course(session, lessons=[document("handbook")])
    user, headers = await learner(session, keyring, settings, province_code="79")
    await enroll(client, headers, rows.course)
    await mark_done(session, user, rows, "handbook")
    url = f"/api/v1/courses/{rows.course.slug}/completion"
    first, again = await client.post(url, headers=headers), await client.post(url, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200) and first.json() == again.json()
    body = first.json()
    assert body["course"] == rows.course.slug and body["course_version"] == 1
    assert (body["audience"], body["province_code"], body["certificate"]) == ("citizen", "79", None)


async def test_the_completion_links_the_certificate_once_issued(client, session, keyring, settings):
    rows = await make_course(session, lessons=[document("handbook")], certificate=True)
    user, headers = await learner(session, keyring, settings)
    await enroll(client, headers, rows.course)
    await mark_done(session, user, rows, "handbook")
    url = f"/api/v1/courses/{rows.course.slug}/completion"
    completion_id = (await client.post(url, headers=headers)).json()["id"]
    certificate = Certificate(serial="HS-2026-TEST-0001", completion_id=uuid.UUID(completion_id),
                              user_id=user.id)
    session.add(certificate)
    await session.flush()
    link = (await client.post(url, headers=headers)).json()["certificate"]
    assert link == {"id": str(certificate.id), "serial": "HS-2026-TEST-0001",
                    "verify_url": "http://test/verify/HS-2026-TEST-0001"}


async def test_verified_officials_complete_as_officials(client, session, keyring, settings):
    rows = await make_course(session, lessons=[document("handbook")])
    for verified, expected in ((True, "official"), (False, "citizen")):
        user, headers = await learner(session, keyring, settings, audience=Audience.official,
                                      verified=verified)
        await enroll(client, headers, rows.course)
        await mark_done(session, user, rows, "handbook")
        r = await client.post(f"/api/v1/courses/{rows.course.slug}/completion", headers=headers)
        assert r.json()["audience"] == expected


async def test_a_single_whole_video_claim_after_starting_gives_no_credit(client, session, keyring, settings):
    rows = await make_course(session, lessons=[video("intro", 120)])
    user, headers = await learner(session, keyring, settings)
    await enroll(client, headers, rows.course)
    r = await client.post(f"/api/v1/lessons/{rows.lessons['intro'].id}/progress", headers=headers,
                          json={"event_id": "cheat", "position_s": 120, "intervals": [[0, 120]],
                                "playback_rate": 1, "client_time": utcnow().isoformat()})
    assert r.json()["coverage"] == 0 and not r.json()["completed"]
    r = await client.post(f"/api/v1/courses/{rows.course.slug}/completion", headers=headers)
    assert r.status_code == 409
    count = (await session.execute(select(func.count()).select_from(Completion)
                                   .where(Completion.user_id == user.id))).scalar_one()
    assert count == 0


async def test_enrolment_counter_follows_leaving_and_returning(client, session, keyring, settings):
    rows = await make_course(session)
    _, headers = await learner(session, keyring, settings)
    await enroll(client, headers, rows.course)
    await client.delete(f"/api/v1/courses/{rows.course.slug}/enrollments/me", headers=headers)
    await enroll(client, headers, rows.course)
    count = (await session.execute(
        select(Course.enrollment_count).where(Course.id == rows.course.id))).scalar_one()
    enrollments = (await session.execute(select(func.count()).select_from(Enrollment)
                                        .where(Enrollment.course_id == rows.course.id))).scalar_one()
    assert (count, enrollments) == (1, 1)


async def test_a_deactivated_learner_heartbeats_no_more(client, session, keyring, settings, clock):
    # The heartbeat reads no user row up front: its locked read of the progress row checks the account.
    rows = await make_course(session, lessons=[video("intro", 120)])
    user, headers = await learner(session, keyring, settings)
    await enroll(client, headers, rows.course)
    lesson = f"/api/v1/lessons/{rows.lessons['intro'].id}/progress"
    assert (await client.post(lesson, headers=headers, json={"event_id": "s", "intervals": []})).status_code == 200
    user.is_active = False
    session.add(user)
    await session.commit()
    clock.advance(30)
    for event in ({"event_id": "a", "intervals": [[0, 30]]}, {"event_id": "b", "intervals": []}):
        refused = await client.post(lesson, headers=headers, json=event)
        assert refused.status_code == 401 and refused.headers["content-type"] == "application/problem+json"
    synced = await client.post("/api/v1/me/progress/batch", headers=headers, json={"events": [
        {"event_id": "c", "lesson_id": str(rows.lessons["intro"].id), "intervals": [[0, 30]],
         "client_time": "2026-03-14T09:30:00+07:00"}]})
    assert synced.status_code == 401


async def test_a_service_client_cannot_report_progress(client, session, keyring, settings):
    rows = await make_course(session, lessons=[video("intro", 120)])
    token = service_token(keyring, settings, scopes=["completions:read"])
    r = await client.post(f"/api/v1/lessons/{rows.lessons['intro'].id}/progress", headers=auth(token),
                          json={"event_id": "s", "intervals": []})
    assert r.status_code == 403 and r.json()["type"] == "/problems/user-token-required"


async def test_a_deactivated_learner_can_neither_complete_nor_see_completion_status(client, session, keyring,
                                                                                    settings):
    rows = await make_course(session, lessons=[document("handbook")])
    user, headers = await learner(session, keyring, settings)
    await enroll(client, headers, rows.course)
    await mark_done(session, user, rows, "handbook")
    user.is_active = False
    session.add(user)
    await session.commit()
    for method, path in (("POST", "completion"), ("GET", "completion-status")):
        r = await client.request(method, f"/api/v1/courses/{rows.course.slug}/{path}", headers=headers)
        assert r.status_code == 401, (path, r.text)
    assert (await session.execute(select(func.count()).select_from(Completion)
                                  .where(Completion.user_id == user.id))).scalar_one() == 0
