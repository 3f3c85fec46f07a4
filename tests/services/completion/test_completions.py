"""record_completion: once per learner and course, snapshotted, counted in the same transaction; and the
platform's paths to it, with the per-process cache of each version's rules."""

import time
import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from app.core.errors import Conflict, Forbidden, NotFound, Unauthorized
from app.models.base import time_ordered_id, utcnow
from app.models.certificate import Certificate
from app.models.completion import Completion, CompletionCounter, CompletionYearCounter, LearnerCounter, LearnerYear
from app.models.identity import Audience
from app.models.jobs import Job
from app.models.learning import Enrollment, LessonProgress
from app.services.completion import rules as completion_rules
from app.services.completion.completions import (
    complete_course,
    complete_if_met,
    completion_public,
    completion_status,
    evaluate,
    record_completion,
)
from app.services.content.packages.versions import archive_course, publish_version
from app.services.counters import buckets as counters
from tests.factories import document, make_course, make_user
from tests.statements import statements_run


async def _bucket_total(session, **where) -> int:
    query = select(func.coalesce(func.sum(CompletionCounter.count), 0))
    for name, value in where.items():
        query = query.where(getattr(CompletionCounter, name) == value)
    return (await session.execute(query)).scalar_one()


# --- recording ---------------------------------------------------------------------------------------------


async def test_first_call_creates_snapshot_and_counts(session):
    user = await make_user(session, province_code="79")
    rows = await make_course(session)
    session.add(Enrollment(user_id=user.id, course_id=rows.course.id, version_id=rows.version.id))
    await session.flush()

    completion, created = await record_completion(session, user=user, course=rows.course, course_version=1)

    assert created and completion.id and completion.seq
    assert (completion.audience, completion.province_code, completion.course_version) == ("citizen", "79", 1)
    assert await _bucket_total(session, course_id=rows.course.id, province_code="79") == 1
    enrollment = (await session.execute(select(Enrollment).where(Enrollment.user_id == user.id))).scalar_one()
    assert enrollment.completed_at == completion.completed_at


async def test_repeat_returns_the_same_row_and_counts_nothing(session):
    user = await make_user(session)
    rows = await make_course(session)
    first, _ = await record_completion(session, user=user, course=rows.course, course_version=1)
    again, created = await record_completion(session, user=user, course=rows.course, course_version=1)
    assert not created and again.id == first.id
    assert await _bucket_total(session, course_id=rows.course.id) == 1
    count = (await session.execute(select(func.count()).select_from(Completion)
                                   .where(Completion.user_id == user.id))).scalar_one()
    assert count == 1


async def test_unverified_official_counts_as_citizen_and_verified_as_official(session):
    rows = await make_course(session)
    unverified = await make_user(session, audience=Audience.official, verified=False)
    verified = await make_user(session, audience=Audience.official, verified=True)
    a, _ = await record_completion(session, user=unverified, course=rows.course, course_version=1)
    b, _ = await record_completion(session, user=verified, course=rows.course, course_version=1)
    assert (a.audience, b.audience) == ("citizen", "official")
    assert await _bucket_total(session, course_id=rows.course.id, audience="official") == 1
    assert await _bucket_total(session, course_id=rows.course.id, audience="citizen") == 1


async def test_province_snapshot_survives_a_later_move(session):
    user = await make_user(session, province_code="01")
    rows = await make_course(session)
    completion, _ = await record_completion(session, user=user, course=rows.course, course_version=1)
    user.province_code = "79"
    session.add(user)
    await session.flush()
    again, _ = await record_completion(session, user=user, course=rows.course, course_version=1)
    assert again.province_code == "01"
    await session.refresh(completion)
    assert completion.province_code == "01"


async def test_day_and_year_are_local_to_vietnam(session):
    user = await make_user(session, province_code="48")
    rows = await make_course(session)
    # 17:30 UTC on 31 December is 00:30 on 1 January in Hà Nội.
    at = datetime(2025, 12, 31, 17, 30, tzinfo=UTC)
    await record_completion(session, user=user, course=rows.course, course_version=1, completed_at=at)
    assert await _bucket_total(session, course_id=rows.course.id, day=date(2026, 1, 1)) == 1
    year_buckets = (await session.execute(select(CompletionYearCounter.year, CompletionYearCounter.count).where(
        CompletionYearCounter.province_code == "48"))).all()
    assert [tuple(r) for r in year_buckets] == [(2026, 1)]
    mark = (await session.execute(select(LearnerYear).where(LearnerYear.user_id == user.id))).scalar_one()
    assert (mark.year, mark.day) == (2026, date(2026, 1, 1))


async def test_distinct_learners_counted_once_per_year(session):
    user = await make_user(session, province_code="31")
    first, second = await make_course(session), await make_course(session)
    at = datetime(2026, 3, 1, 3, tzinfo=UTC)
    await record_completion(session, user=user, course=first.course, course_version=1, completed_at=at)
    await record_completion(session, user=user, course=second.course, course_version=1, completed_at=at)
    learners = (await session.execute(select(LearnerCounter.count).where(
        LearnerCounter.year == 2026, LearnerCounter.province_code == "31"))).scalar_one()
    assert learners == 1
    assert await _bucket_total(session, province_code="31") == 2
    completions = (await session.execute(select(CompletionYearCounter.count).where(
        CompletionYearCounter.year == 2026, CompletionYearCounter.province_code == "31"))).scalar_one()
    assert completions == 2


async def test_certificate_job_enqueued_only_for_certificate_courses(session):
    user = await make_user(session)
    with_cert = await make_course(session, certificate=True)
    without = await make_course(session, certificate=False)
    completion, _ = await record_completion(session, user=user, course=with_cert.course, course_version=1)
    await record_completion(session, user=user, course=without.course, course_version=1)
    payloads = (await session.execute(
        select(Job.payload).where(Job.kind == "issue_certificate"))).scalars().all()
    assert payloads == [{"completion_id": str(completion.id)}]


async def test_partner_reference_is_idempotent(session):
    user = await make_user(session)
    rows = await make_course(session)
    first, created = await record_completion(
        session, user=user, course=rows.course, course_version=1, source="partner", client_id="so-tt-hn",
        external_ref="LOP-42", audience="official", province_code="01")
    again, created_again = await record_completion(
        session, user=user, course=rows.course, course_version=1, source="partner", client_id="so-tt-hn",
        external_ref="LOP-42")
    assert created and not created_again and again.id == first.id
    assert (first.source, first.audience) == ("partner", "official")


async def test_txid_is_the_transaction_id_on_postgresql_only(session):
    user = await make_user(session)
    rows = await make_course(session)
    completion, _ = await record_completion(session, user=user, course=rows.course, course_version=1)
    if session.get_bind().dialect.name == "postgresql":
        current = (await session.execute(select(func.txid_current()))).scalar_one()
        assert completion.txid == current
    else:
        assert completion.txid == 0


async def test_counters_verify_after_recording(session):
    user = await make_user(session)
    rows = await make_course(session)
    await record_completion(session, user=user, course=rows.course, course_version=1)
    assert (await counters.verify(session)).ok


# --- the platform's completion paths (complete_course, complete_if_met) --------------------------------------


async def enrolled_with_done(session, *keys, lessons=None, **course):
    """A learner enrolled in a fresh course (default: two documents) with the progress of `keys` completed."""
    user = await make_user(session)
    rows = await make_course(session, lessons=lessons or [document("a"), document("b")], **course)
    session.add(Enrollment(user_id=user.id, course_id=rows.course.id, version_id=rows.version.id))
    await mark_done(session, user, rows.course, *keys)
    return user, rows


async def mark_done(session, user, course, *keys) -> None:
    for key in keys:
        session.add(LessonProgress(user_id=user.id, course_id=course.id, lesson_key=key, viewed_at=utcnow(),
                                   completed_at=utcnow()))
    await session.flush()


async def publish_new_version(session, rows, **course):
    """Version 2 of the course, published the way the content team publishes (v1 archived, learners moved)."""
    v2 = await make_course(session, course=rows.course, version=2, status="draft", **course)
    await publish_version(session, rows.course, v2.version)
    return v2


async def test_a_newly_published_version_is_evaluated_by_its_own_rules(session):
    user, v1 = await enrolled_with_done(session, "a", "b")
    assert (await evaluate(session, user.id, v1.course.id)).met  # version 1's rules are now cached
    v2 = await publish_new_version(session, v1, lessons=[document("a"), document("b"), document("c")])

    evaluation = await evaluate(session, user.id, v1.course.id)
    assert evaluation.version.id == v2.version.id and evaluation.version.version == 2
    assert [r.lesson_key for r in evaluation.unmet] == ["c"]
    with pytest.raises(Conflict) as unmet:
        await complete_course(session, user.id, v1.course.slug)
    assert [u["lesson_key"] for u in unmet.value.extra["unmet_requirements"]] == ["c"]

    await mark_done(session, user, v1.course, "c")
    completion, _, created = await complete_course(session, user.id, v1.course.slug)
    assert created and completion.course_version == 2


async def test_a_withdrawn_course_keeps_the_rules_of_the_version_learners_enrolled_in(session):
    user, rows = await enrolled_with_done(session, "a")
    await archive_course(session, rows.course.slug)
    evaluation = await evaluate(session, user.id, rows.course.id)
    assert evaluation.version.id == rows.version.id and [r.lesson_key for r in evaluation.unmet] == ["b"]


async def test_the_certificate_flag_of_the_completed_version_decides_the_job(session):
    # Version 1 issues no certificate and is cached; version 2, published later, issues one.
    user, v1 = await enrolled_with_done(session, "a", "b", certificate=False)
    await evaluate(session, user.id, v1.course.id)
    await publish_new_version(session, v1, lessons=[document("a"), document("b")], certificate=True)
    # The other way round on a second course: version 2 no longer issues certificates.
    other, w1 = await enrolled_with_done(session, "a", "b", certificate=True)
    await evaluate(session, other.id, w1.course.id)
    await publish_new_version(session, w1, lessons=[document("a"), document("b")], certificate=False)

    with_certificate, _, _ = await complete_course(session, user.id, v1.course.slug)
    without, _, _ = await complete_course(session, other.id, str(w1.course.id))
    payloads = (await session.execute(select(Job.payload).where(Job.kind == "issue_certificate"))).scalars().all()
    assert payloads == [{"completion_id": str(with_certificate.id)}]
    assert (with_certificate.course_version, without.course_version) == (2, 2)


async def test_the_endpoint_path_reads_once_and_writes_once_on_postgresql(session):
    user, rows = await enrolled_with_done(session, "a", "b", certificate=True)
    await evaluate(session, user.id, rows.course.id)  # the version's rules are cached from here on
    with statements_run(session) as seen:
        completion, course, created = await complete_course(session, user.id, rows.course.slug)
        answer = await completion_public(session, completion, course.slug, "http://test")
    # Where the learner stands, then the completion with its buckets, enrollment and job; SQLite takes one
    # statement per write. No certificate lookup: a completion recorded now cannot have one yet.
    assert len(seen) == (2 if session.get_bind().dialect.name == "postgresql" else 8), seen
    assert created and answer.certificate is None and course.slug == rows.course.slug
    enrollment = (await session.execute(select(Enrollment.completed_at).where(
        Enrollment.user_id == user.id))).scalar_one()
    assert enrollment == completion.completed_at
    assert await _bucket_total(session, course_id=rows.course.id) == 1
    assert (await counters.verify(session)).ok


async def test_a_repeat_answers_the_same_completion_with_its_certificate(session):
    user, rows = await enrolled_with_done(session, "a", "b", certificate=True)
    first, _, _ = await complete_course(session, user.id, rows.course.slug)
    session.add(Certificate(serial="HS-2026-TEST-0002", completion_id=first.id, user_id=user.id))
    await session.flush()
    again, course, created = await complete_course(session, user.id, rows.course.slug)
    answer = await completion_public(session, again, course.slug, "http://test")
    assert not created and again.id == first.id and again.completed_at == first.completed_at
    assert answer.certificate is not None and answer.certificate.serial == "HS-2026-TEST-0002"
    assert await _bucket_total(session, course_id=rows.course.id) == 1


async def test_complete_if_met_sees_progress_changed_through_the_orm_in_the_same_session(session):
    user, rows = await enrolled_with_done(session, "a")
    row = LessonProgress(user_id=user.id, course_id=rows.course.id, lesson_key="b")
    session.add(row)
    await session.flush()
    row.completed_at = utcnow()  # not flushed: as a quiz attempt leaves the lesson it has just passed
    completion = await complete_if_met(session, user.id, rows.course.id)
    assert completion is not None and completion.course_id == rows.course.id


async def test_complete_if_met_records_nothing_while_a_requirement_is_unmet(session):
    user, rows = await enrolled_with_done(session, "a")
    assert await complete_if_met(session, user.id, rows.course.id) is None
    count = (await session.execute(select(func.count()).select_from(Completion)
                                   .where(Completion.user_id == user.id))).scalar_one()
    assert count == 0


async def test_evicted_rules_are_read_again(session, monkeypatch):
    monkeypatch.setattr(completion_rules, "_RULES_CACHE_SIZE", 1)
    user, first = await enrolled_with_done(session, "a")
    _, second = await enrolled_with_done(session, lessons=[document("x")])
    for _ in range(2):
        assert [r.lesson_key for r in (await evaluate(session, user.id, first.course.id)).unmet] == ["b"]
        assert [r.lesson_key for r in (await evaluate(session, user.id, second.course.id)).unmet] == ["x"]
    assert len(completion_rules._rules) == 1


async def test_an_unknown_course_is_404_and_a_learner_not_enrolled_403(session):
    user, rows = await enrolled_with_done(session, "a", "b")
    stranger = await make_user(session)
    with pytest.raises(NotFound):
        await complete_course(session, user.id, "khong-co-khoa-nay")
    with pytest.raises(NotFound):
        await complete_course(session, user.id, str(uuid.uuid4()))
    with pytest.raises(Forbidden):
        await complete_course(session, stranger.id, rows.course.slug)


async def test_given_only_the_learner_id_the_account_is_read_with_the_standing(session):
    official = await make_user(session, audience=Audience.official, verified=True, province_code="46")
    rows = await make_course(session, lessons=[document("a")], certificate=True)
    session.add(Enrollment(user_id=official.id, course_id=rows.course.id, version_id=rows.version.id))
    await mark_done(session, official, rows.course, "a")
    await evaluate(session, official.id, rows.course.id)  # the version's rules are cached from here on
    with statements_run(session) as seen:
        completion, _, created = await complete_course(session, official.id, rows.course.slug)
    assert created and (completion.audience, completion.province_code) == ("official", "46")
    if session.get_bind().dialect.name == "postgresql":
        assert len(seen) == 2, seen  # no query of the account's own
    status = await completion_status(session, official.id, str(rows.course.id), "http://test")
    assert status.completed and status.completion["id"] == str(completion.id)


async def test_given_only_an_id_an_inactive_or_unknown_account_is_401(session):
    user, rows = await enrolled_with_done(session, "a", "b")
    user.is_active = False
    session.add(user)
    await session.flush()
    for learner in (user.id, uuid.uuid4()):
        with pytest.raises(Unauthorized):
            await complete_course(session, learner, rows.course.slug)
        with pytest.raises(Unauthorized):
            await completion_status(session, learner, "khong-co-khoa-nay", "http://test")
    active = await make_user(session)
    with pytest.raises(NotFound):
        await complete_course(session, active.id, "khong-co-khoa-nay")


def test_completion_ids_are_time_ordered_uuids():
    first = time_ordered_id()
    time.sleep(0.002)
    second = time_ordered_id()
    assert (first.version, second.version) == (7, 7) and first < second
    assert abs((first.int >> 80) - time.time() * 1000) < 5_000  # the leading 48 bits are Unix milliseconds
    assert len({time_ordered_id() for _ in range(1000)}) == 1000


async def test_complete_if_met_given_only_the_learner_id_snapshots_the_account(session):
    official = await make_user(session, audience=Audience.official, verified=True, province_code="46")
    rows = await make_course(session, lessons=[document("a")])
    session.add(Enrollment(user_id=official.id, course_id=rows.course.id, version_id=rows.version.id))
    await mark_done(session, official, rows.course, "a")
    completion = await complete_if_met(session, official.id, rows.course.id)
    assert completion is not None and (completion.audience, completion.province_code) == ("official", "46")
    assert (await complete_if_met(session, official.id, rows.course.id)).id == completion.id
