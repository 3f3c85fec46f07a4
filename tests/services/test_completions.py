"""record_completion: once per learner and course, snapshotted, counted in the same transaction."""

from datetime import UTC, date, datetime

from sqlalchemy import func, select

from app.models.completion import Completion, CompletionCounter, CompletionYearCounter, LearnerCounter, LearnerYear
from app.models.identity import Audience
from app.models.jobs import Job
from app.models.learning import Enrollment
from app.services import counters
from app.services.completions import record_completion
from tests.factories import make_course, make_user


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
