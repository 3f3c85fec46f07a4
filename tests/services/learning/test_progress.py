"""Earned progress: interval union, clamping, the 2x wall-clock cap, idempotent events and offline batches."""

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.core.errors import Conflict, Forbidden, ValidationFailed
from app.models.base import utcnow
from app.models.completion import Completion
from app.models.learning import Enrollment, HeartbeatIn, LessonProgress, ProgressEvent
from app.services.learning.intervals import clamp, credit, merge, uncovered
from app.services.learning.offline_sync import sync_batch
from app.services.learning.progress import record_heartbeat
from tests.factories import document, make_course, make_user, quiz, video

T0 = utcnow().replace(microsecond=0)


def at(seconds: float):
    return T0 + timedelta(seconds=seconds)


def beat(intervals, event_id=None, **extra) -> HeartbeatIn:
    return HeartbeatIn(event_id=event_id or uuid.uuid4().hex, intervals=intervals, **extra)


async def enrolled(session, lessons=None, **course):
    user = await make_user(session)
    rows = await make_course(session, lessons=lessons or [video("intro", 120)], **course)
    session.add(Enrollment(user_id=user.id, course_id=rows.course.id, version_id=rows.version.id))
    await session.flush()
    return user, rows


# --- interval arithmetic ------------------------------------------------------------------------------------


def test_overlapping_intervals_merge_into_one():
    assert merge([[0, 10], [5, 20], [20, 25]]) == [[0, 25]]


def test_out_of_order_intervals_are_sorted_before_merging():
    assert merge([[50, 60], [0, 10], [8, 12], [40, 45]]) == [[0, 12], [40, 45], [50, 60]]


def test_intervals_beyond_the_duration_are_clamped_or_dropped():
    assert clamp([[-5, 10], [100, 500], [130, 200]], 120) == [[0, 10], [100, 120]]


def test_only_uncovered_parts_are_new():
    assert uncovered([[0, 100]], [[10, 20], [50, 60]]) == [[0, 10], [20, 50], [60, 100]]


def test_credit_is_capped_by_the_budget_earliest_first():
    union, credited = credit([[0, 30]], [[0, 120]], 120, budget_s=60)
    assert union == [[0, 90]] and credited == 60


def test_a_forward_seek_earns_nothing_for_the_skipped_part():
    union, credited = credit([[0, 30]], [[300, 330]], 600, budget_s=60)
    assert union == [[0, 30], [300, 330]] and credited == 30


# --- heartbeats ---------------------------------------------------------------------------------------------


async def test_a_single_heartbeat_claiming_the_whole_video_earns_nothing(session):
    user, rows = await enrolled(session)
    result = await record_heartbeat(session, user.id, rows.lessons["intro"].id, beat([[0, 120]]), now=at(0))
    assert result["coverage"] == 0 and result["credited_s"] == 0 and not result["completed"]


async def test_credit_is_at_most_twice_the_wall_clock_since_the_previous_heartbeat(session):
    user, rows = await enrolled(session)
    lesson = rows.lessons["intro"].id
    await record_heartbeat(session, user.id, lesson, beat([]), now=at(0))
    first = await record_heartbeat(session, user.id, lesson, beat([[0, 30]]), now=at(30))
    assert first["credited_s"] == 30 and first["intervals"] == [[0, 30]]
    # 20 s later a claim of the whole video earns 40 s: the earliest uncovered part.
    capped = await record_heartbeat(session, user.id, lesson, beat([[0, 120]]), now=at(50))
    assert capped["credited_s"] == 40 and capped["intervals"] == [[0, 70]]


async def test_overlapping_and_out_of_order_heartbeats_build_one_union(session):
    user, rows = await enrolled(session)
    lesson = rows.lessons["intro"].id
    await record_heartbeat(session, user.id, lesson, beat([]), now=at(0))
    await record_heartbeat(session, user.id, lesson, beat([[60, 90]]), now=at(30))
    result = await record_heartbeat(session, user.id, lesson, beat([[80, 100], [0, 20]]), now=at(60))
    assert result["intervals"] == [[0, 20], [60, 100]] and result["covered_s"] == 60


async def test_intervals_beyond_the_duration_earn_only_up_to_it(session):
    user, rows = await enrolled(session)
    lesson = rows.lessons["intro"].id
    await record_heartbeat(session, user.id, lesson, beat([]), now=at(0))
    result = await record_heartbeat(session, user.id, lesson, beat([[100, 500]]), now=at(300))
    assert result["intervals"] == [[100, 120]] and result["duration_s"] == 120


async def test_video_completes_at_the_coverage_threshold_and_completes_the_course(session):
    user, rows = await enrolled(session, video_coverage=0.5)
    lesson = rows.lessons["intro"].id
    await record_heartbeat(session, user.id, lesson, beat([]), now=at(0))
    below = await record_heartbeat(session, user.id, lesson, beat([[0, 59]]), now=at(59))
    assert not below["completed"] and not below["course_completed"]
    reached = await record_heartbeat(session, user.id, lesson, beat([[59, 60]]), now=at(60))
    assert reached["completed"] and reached["coverage"] == 0.5 and reached["course_completed"]
    assert (await session.execute(select(func.count()).select_from(Completion)
                                  .where(Completion.user_id == user.id))).scalar_one() == 1


async def test_replaying_an_event_id_changes_nothing_and_answers_the_same(session):
    user, rows = await enrolled(session)
    lesson = rows.lessons["intro"].id
    await record_heartbeat(session, user.id, lesson, beat([]), now=at(0))
    first = await record_heartbeat(session, user.id, lesson, beat([[0, 30]], event_id="hb-1"), now=at(30))
    replay = await record_heartbeat(session, user.id, lesson, beat([[0, 120]], event_id="hb-1"), now=at(200))
    assert replay == first
    row = (await session.execute(
        select(LessonProgress).where(LessonProgress.user_id == user.id))).scalar_one()
    await session.refresh(row)
    assert row.intervals == [[0, 30]] and row.last_heartbeat_at == at(30)


async def test_heartbeats_need_an_active_enrolment(session):
    user, rows = await enrolled(session)
    stranger = await make_user(session)
    with pytest.raises(Forbidden):
        await record_heartbeat(session, stranger.id, rows.lessons["intro"].id, beat([]), now=at(0))


async def test_documents_complete_when_viewed(session):
    user, rows = await enrolled(session, lessons=[document("handbook")])
    lesson = rows.lessons["handbook"].id
    with pytest.raises(ValidationFailed):
        await record_heartbeat(session, user.id, lesson, HeartbeatIn(event_id="v0", viewed=False), now=at(0))
    result = await record_heartbeat(session, user.id, lesson, HeartbeatIn(event_id="v1", viewed=True), now=at(0))
    assert result["viewed"] and result["completed"] and result["course_completed"]


async def test_quiz_lessons_do_not_take_progress_events(session):
    user, rows = await enrolled(session, lessons=[quiz("final")])
    with pytest.raises(Conflict):
        await record_heartbeat(session, user.id, rows.lessons["final"].id,
                               HeartbeatIn(event_id="q", viewed=True), now=at(0))


# --- offline batches ----------------------------------------------------------------------------------------


def event(lesson, event_id, client_s, intervals=None, **extra) -> dict:
    return {"event_id": event_id, "lesson_id": str(lesson), "client_time": at(client_s).isoformat(),
            "intervals": intervals or [], **extra}


async def test_batch_applies_in_client_time_order_with_duplicates_and_bad_events(session):
    user, rows = await enrolled(session, lessons=[video("intro", 120), document("handbook")])
    intro, handbook = rows.lessons["intro"].id, rows.lessons["handbook"].id
    other = await make_course(session)  # not enrolled there
    await record_heartbeat(session, user.id, intro, beat([], event_id="start"), now=at(0))

    result = await sync_batch(session, user.id, [
        event(intro, "e2", 60, [[30, 60]]),
        event(intro, "e1", 30, [[0, 30]]),
        event(intro, "e1", 30, [[0, 30]]),  # the same event sent twice
        event(intro, "start", 0),  # already applied online
        {"event_id": "broken", "lesson_id": str(intro)},  # no client_time
        event(intro, "bad-interval", 40, [[50, 10]]),
        event(uuid.uuid4(), "ghost", 45),
        event(other.lessons["intro"].id, "elsewhere", 46),
        event(handbook, "read", 50, viewed=True),
        "not an object",
    ], keep_days=14, now=at(60))

    statuses = [(r.event_id, r.status, r.reason) for r in result.results]
    assert statuses == [
        ("e2", "accepted", None), ("e1", "accepted", None), ("e1", "duplicate", None),
        ("start", "duplicate", None), ("broken", "rejected", "invalid_event"),
        ("bad-interval", "rejected", "invalid_event"), ("ghost", "rejected", "lesson_not_found"),
        ("elsewhere", "rejected", "not_enrolled"), ("read", "accepted", None),
        (None, "rejected", "invalid_event"),
    ]
    assert (result.accepted, result.duplicate, result.rejected) == (3, 2, 5)
    # e1 (client time 30) was applied before e2 (client time 60).
    assert result.results[1].progress.intervals == [[0, 30]]
    assert result.results[0].progress.intervals == [[0, 60]]
    stored = (await session.execute(select(func.count()).select_from(ProgressEvent)
                                    .where(ProgressEvent.user_id == user.id))).scalar_one()
    assert stored == 4  # start, e1, e2, read


async def test_batch_events_share_the_lesson_budget(session):
    user, rows = await enrolled(session, lessons=[video("intro", 600)])
    intro = rows.lessons["intro"].id
    await record_heartbeat(session, user.id, intro, beat([]), now=at(0))
    # 50 s of server time allow 100 s of new coverage, however many events claim more.
    result = await sync_batch(session, user.id, [event(intro, f"e{i}", i * 30, [[i * 60, i * 60 + 60]])
                                              for i in range(5)], keep_days=14, now=at(50))
    assert [r.progress.credited_s for r in result.results] == [60, 40, 0, 0, 0]
    assert result.results[-1].progress.intervals == [[0, 100]]


async def test_events_older_than_the_kept_event_ids_are_refused_and_newer_ones_applied(session):
    # Event ids are kept 14 days (services/retention.py): an older event might have been applied and pruned.
    user, rows = await enrolled(session, lessons=[document("handbook"), document("rules")])
    handbook, rules = rows.lessons["handbook"].id, rows.lessons["rules"].id
    now = at(0) + timedelta(days=14)
    result = await sync_batch(session, user.id, [event(handbook, "old", -1, viewed=True),
                                                 event(rules, "in-time", 0, viewed=True)], keep_days=14, now=now)
    assert [(r.event_id, r.status, r.reason) for r in result.results] == [
        ("old", "rejected", "event_too_old"), ("in-time", "accepted", None)]
    assert "14" in result.results[0].detail


# --- new course versions ------------------------------------------------------------------------------------


async def test_progress_follows_the_lesson_key_to_a_new_version(session):
    from app.core.errors import NotFound
    from app.services.completion.completions import evaluate

    user, v1 = await enrolled(session, lessons=[video("intro", 120)])
    await record_heartbeat(session, user.id, v1.lessons["intro"].id, beat([]), now=at(0))
    await record_heartbeat(session, user.id, v1.lessons["intro"].id, beat([[0, 30]]), now=at(30))
    # Publishing version 2 archives version 1 and moves enrolled learners to it (the course team's rule).
    v1.version.status = "archived"
    session.add(v1.version)
    await session.flush()
    v2 = await make_course(session, course=v1.course, version=2,
                           lessons=[video("intro", 120), document("new-handbook")])
    enrollment = (await session.execute(select(Enrollment).where(Enrollment.user_id == user.id))).scalar_one()
    enrollment.version_id = v2.version.id
    session.add(enrollment)
    await session.flush()

    with pytest.raises(NotFound) as replaced:
        await record_heartbeat(session, user.id, v1.lessons["intro"].id, beat([[30, 60]]), now=at(60))
    assert replaced.value.code == "lesson_replaced"
    result = await record_heartbeat(session, user.id, v2.lessons["intro"].id, beat([[30, 60]]), now=at(60))
    assert result["intervals"] == [[0, 60]]
    evaluation = await evaluate(session, user.id, v1.course.id)
    assert evaluation.version.version == 2
    assert [r.lesson_key for r in evaluation.unmet] == ["intro", "new-handbook"]


async def test_a_batch_completing_the_last_two_lessons_completes_the_course(session):
    # The second completion check must see the first lesson's row as this batch wrote it.
    user, rows = await enrolled(session, lessons=[document("handbook"), document("rules")])
    handbook, rules = rows.lessons["handbook"].id, rows.lessons["rules"].id
    result = await sync_batch(session, user.id, [event(handbook, "read-1", 10, viewed=True),
                                                 event(rules, "read-2", 20, viewed=True)],
                                  keep_days=14, now=at(30))
    assert [r.progress.course_completed for r in result.results] == [False, True]
    assert (await session.execute(select(func.count()).select_from(Completion)
                                  .where(Completion.user_id == user.id))).scalar_one() == 1
